"""Cell-type deconvolution of bulk tumour RNA-seq: quanTIseq fractions and MCP-counter scores.

quanTIseq (Finotello F et al., Genome Med 2019;11:34, doi:10.1186/s13073-019-0638-6) estimates
the fractions of ten immune cell types and of uncharacterized ("Other") cells from gene TPM with
the TIL10 signature. This module follows the deconvolution step of the authors' code,
https://github.com/icbi-lab/quanTIseq, files ``quantiseq/deconvolution/quanTIseq_decon.R`` and
``quantiseq/deconvolution/DOCKER_codes.R`` (commit 1b121a27c174de9f8a9cbfc3ab0b47cea64c0629;
the Bioconductor port ``R/quantiseqr_helpers.R`` of https://github.com/federicomarini/quantiseqr
has the same steps), with the defaults of ``quantiseq/defaults.conf`` (RNA-seq, ``method=lsei``,
``mRNAscale=TRUE``, ``tumor=FALSE``, ``rmgenes=default``):

1. ``fixMixture``: every sample is rescaled to sum to 10^6 over *all* genes given (TPM
   normalization), so the whole transcriptome must be passed, not a gene subset. Rows with the
   same symbol are merged by their median (as ``mapGenes`` does). quanTIseq's HGNC re-annotation
   of the rows and its automatic un-logging of data whose maximum is below 50 are not done here:
   identifiers must already be HGNC symbols and values linear TPM (a warning is issued when the
   maximum is below 50, or when the signature genes carry more than 10% of a sample's total).
   Signature genes listed under a previous symbol (TIL10's ``FAM46C``, ``GUCY1A3``, ``RNF165``,
   ``FAM160B1``) are matched to the rows of their approved symbols.
2. The genes of ``TIL10_rmgenes.txt`` (17 genes) are removed from the signature; the signature
   and the mixture are restricted to their shared genes, both in TPM. quanTIseq's ``tumor=TRUE``
   option, which also removes ``TIL10_TCGA_aberrant_immune_genes.txt``, is not the default and
   is not built in; ``dataclasses.replace(CellReference.til10(), removed_genes=...)`` does it.
3. ``DClsei``: per sample, ``lsei`` (R package limSolve) minimizes ``||A x - b||`` subject to
   ``x >= 0`` and ``sum(x) <= 1``, after dividing ``A`` (signature) and ``b`` (mixture) by the
   spectral norm of ``A``. The problem is strictly convex (``A`` has full column rank), so its
   minimizer is unique and any exact solver returns it. Here it is solved exactly by reducing it
   to a least distance problem and that to NNLS (Lawson & Hanson, *Solving Least Squares
   Problems*, 1974, ch. 23): with ``A = QR``, ``G = [I; -1']`` and ``h = [0; -1]``, the
   residual ``z = R x - Q'b`` of smallest norm with ``G R^-1 z >= h - G x_ls`` comes from one
   ``(k+1) x (k+1)`` ``scipy.optimize.nnls`` per sample; samples whose unconstrained solution
   ``x_ls`` is already feasible skip it. About 11 ms per 1,000 samples for TIL10.
4. mRNA-content correction (``TIL10_mRNA_scaling.txt``): ``x / s`` rescaled to keep ``sum(x)``,
   then ``Other = max(0, 1 - sum)``.
5. Low-Treg correction (``quanTIseq_decon.R``, for signatures with ``Tregs`` and ``T.cells.CD4``):
   a second fit without ``T.cells.CD4`` gives ``t2``; where the first fit has ``Tregs < 0.02``,
   ``Tregs`` becomes ``(t1 + t2) / 2`` and then ``T.cells.CD4`` becomes
   ``max(0, CD4 - (t2 + Tregs) / 2)`` (R assigns the new ``Tregs`` before using it). ``Other``
   keeps its value from step 4.
6. Each sample's fractions (with ``Other``) are divided by their sum. A sample whose fit is all
   zero gets ``Other = 1`` (quanTIseq's division by zero would give NaN).

A cell type the fit holds at zero is exactly 0 (the least-distance step's multipliers say which;
``Other`` and fractions within the rounding error of ``k + 1`` unit terms, 2.4e-15 for TIL10, are
0 too), not float noise such as 4e-17. Each fraction is then rounded to a multiple of 2^-52
(at most 1.1e-16) and the largest takes what the others leave of 1, so a sample's fractions sum
to exactly 1 in any order of summation.

MCP-counter (Becht E et al., Genome Biol 2016;17:218, doi:10.1186/s13059-016-1070-5) scores are
the mean log2 expression of each population's markers (``data/mcp_counter.yaml``).

The TIL10 files are from the quanTIseq repository under its BSD 3-clause licence (copyright
2017, Division of Bioinformatics, Innsbruck Medical University); the notice is
``data/TIL10_LICENSE.txt`` and :attr:`CellReference.license` of :meth:`CellReference.til10`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml
from scipy.linalg import solve_triangular
from scipy.optimize import nnls

from immunoprecise.profile.expression.genes import GeneTable

__all__ = ["MIN_REFERENCE_GENES", "CellReference", "deconvolve", "mcp_counter", "mcp_markers"]

FloatArray = npt.NDArray[np.float64]

OTHER = "Other"
"""Column of the uncharacterized cells (tumour, stromal and other cells not in the reference)."""

_TPM_TOTAL = 1e6
_LOG_SCALE_MAX = 50.0  # quanTIseq fixMixture un-logs data whose maximum is below 50
_SUBSET_SHARE = 0.1  # signature genes above this share of a sample's total: a gene subset
_MIN_TREGS = 0.02  # quanTIseq_decon.R minTregs
_TREGS = "Tregs"
_CD4 = "T.cells.CD4"
_RANK_TOL = 1e-10
_EXAMPLES = 10

MIN_REFERENCE_GENES = 50
"""Fewest genes a deconvolution reference must fit (after its removed genes).

The fractions are a constrained least-squares fit of a sample's expression on the reference's
cell-type profiles, one unknown per cell type, so every gene is one equation: with few genes,
the noise of single genes moves the fractions freely. Measured on random subsets of the TIL10
genes (200 mixtures with Dirichlet fractions and log-normal noise σ = 0.3, ten subsets each;
``tests/profile/expression/test_deconvolution.py``,
``test_a_reference_of_few_genes_gives_unstable_fractions``), the mean Pearson r of estimated
against true fractions of five cell types is 0.92 with 50 genes, 0.84 with 20 and 0.68 with 10
(worst subset 0.87, 0.71, 0.52). Published references fit far more: TIL10 153 genes for 10 cell
types, CIBERSORT's LM22 547 for 22 (Newman et al., Nat Methods 2015,
doi:10.1038/nmeth.3337). ``score_expression`` refuses a custom reference below this;
:func:`deconvolve` takes it as the default of ``min_genes``."""

_TIL10_CITATION = (
    "Finotello F, Mayer C, Plattner C, et al. Molecular and pharmacological modulators of the "
    "tumor immune contexture revealed by deconvolution of RNA-seq data. Genome Med. "
    "2019;11:34. doi:10.1186/s13073-019-0638-6. Signature, mRNA scaling factors and removed "
    "genes from https://github.com/icbi-lab/quanTIseq (quantiseq/deconvolution/)."
)


def _data_text(name: str) -> str:
    resource = files("immunoprecise.profile.expression") / "data" / name
    return resource.read_text(encoding="utf-8")


@dataclass(frozen=True, eq=False)
class CellReference:
    """A deconvolution reference: cell-type expression profiles and their mRNA content.

    Instances compare by identity. The data frames are shared (the TIL10 instance is cached):
    do not modify them in place; build a new reference instead (e.g. ``dataclasses.replace``).

    Attributes
    ----------
    name
        Short name, reported in ``deconvolve(...).attrs["reference"]``.
    signature
        Genes (HGNC symbols, index) x cell types (columns), expression in TPM.
    mrna_scaling
        Relative mRNA content per cell of each cell type (arbitrary units; only ratios
        matter), indexed like ``signature.columns``; ``None`` disables the correction.
    removed_genes
        Signature genes left out of the fit (quanTIseq's noisy genes for TIL10).
    citation
        Where the reference comes from.
    license
        Licence of the reference data.

    Examples
    --------
    >>> ref = CellReference.til10()
    >>> ref.signature.shape, len(ref.removed_genes)
    ((170, 10), 17)
    >>> round(float(ref.mrna_scaling["Monocytes"] / ref.mrna_scaling["B.cells"]), 2)
    1.99
    """

    name: str
    signature: pd.DataFrame
    mrna_scaling: pd.Series | None
    removed_genes: tuple[str, ...]
    citation: str
    license: str

    def __post_init__(self) -> None:
        sig = self.signature
        where = f"reference {self.name!r}"
        if not isinstance(sig, pd.DataFrame):
            raise TypeError(f"{where}: signature must be a pandas DataFrame, got {type(sig)}")
        if sig.shape[0] == 0:
            raise ValueError(f"{where}: the signature has no genes")
        if sig.shape[1] == 0:
            raise ValueError(f"{where}: the signature has no cell types")
        for axis, labels in (("gene", sig.index), ("cell type", sig.columns)):
            duplicated = labels[labels.duplicated()].unique().tolist()
            if duplicated:
                raise ValueError(f"{where}: duplicated {axis} names {duplicated[:_EXAMPLES]}")
        if OTHER in sig.columns:
            raise ValueError(f"{where}: {OTHER!r} is reserved for uncharacterized cells")
        values = _float_matrix(sig, f"{where} signature", axis_names=("gene", "cell type"))
        _check_finite_non_negative(values, sig, f"{where} signature", ("gene", "cell type"))
        signature = pd.DataFrame(
            values, index=sig.index.astype(str), columns=sig.columns.astype(str)
        )
        object.__setattr__(self, "signature", signature)
        object.__setattr__(self, "removed_genes", tuple(str(g) for g in self.removed_genes))
        if self.mrna_scaling is not None:
            scaling = pd.Series(self.mrna_scaling)
            missing = [c for c in signature.columns if c not in scaling.index]
            if missing:
                raise ValueError(
                    f"{where}: mRNA scaling factors missing for cell types {missing}; "
                    f"given for {list(scaling.index)}"
                )
            scaling = pd.to_numeric(scaling[list(signature.columns)], errors="coerce")
            bad = scaling[~(np.isfinite(scaling.to_numpy(dtype=float)) & (scaling > 0))]
            if len(bad):
                raise ValueError(
                    f"{where}: mRNA scaling factors must be positive finite numbers; "
                    f"got {bad.to_dict()}"
                )
            object.__setattr__(self, "mrna_scaling", scaling.astype(float))

    @classmethod
    def til10(cls) -> CellReference:
        """The TIL10 reference of quanTIseq: 170 genes x 10 immune cell types (cached).

        Returns
        -------
        CellReference
            Signature in TPM, mRNA scaling factors, the 17 genes quanTIseq removes for
            RNA-seq data, citation and the BSD 3-clause licence notice.

        Examples
        --------
        >>> CellReference.til10() is CellReference.til10()
        True
        >>> list(CellReference.til10().signature.columns[:3])
        ['B.cells', 'Macrophages.M1', 'Macrophages.M2']
        """
        return _til10()

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        mrna_scaling: Mapping[str, float] | pd.Series | None = None,
        name: str | None = None,
    ) -> CellReference:
        """Read a custom reference: a genes x cell types table of expression in TPM.

        Parameters
        ----------
        path
            Tab- or comma-separated text file (the separator is taken from the header line: a
            tab if it has one, else a comma). The header names the cell types after a first
            column of HGNC gene symbols; every other field is a non-negative TPM value.
        mrna_scaling
            Relative mRNA content per cell for every cell type (positive, arbitrary units);
            ``None`` (default) skips the mRNA-content correction.
        name
            Reference name; defaults to the file name without its suffix.

        Returns
        -------
        CellReference
            With no removed genes.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            Naming the file, line and column: a field that is not a non-negative finite
            number, a row of the wrong length, a missing or duplicated gene symbol or cell type,
            or a table without genes or cell types.

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "mini.tsv"
        ...     _ = path.write_text("gene\\tT\\tB\\nCD3E\\t120\\t1\\nMS4A1\\t0.5\\t300\\n")
        ...     ref = CellReference.from_file(path, mrna_scaling={"T": 1.0, "B": 0.8})
        >>> ref.name, ref.signature.shape
        ('mini', (2, 2))
        """
        file = Path(path)
        signature = _read_reference_table(file)
        return cls(
            name=name if name is not None else file.stem,
            signature=signature,
            mrna_scaling=None if mrna_scaling is None else pd.Series(mrna_scaling, dtype=float),
            removed_genes=(),
            citation=f"custom reference read from {file}",
            license="as stated by the provider of the file",
        )


@cache
def _til10() -> CellReference:
    signature = pd.read_csv(io.StringIO(_data_text("til10_signature.tsv")), sep="\t", index_col=0)
    scaling = pd.read_csv(
        io.StringIO(_data_text("til10_mrna_scaling.tsv")), sep="\t", header=None, index_col=0
    ).iloc[:, 0]
    removed = tuple(g for g in _data_text("til10_removed_genes.txt").split() if g)
    return CellReference(
        name="TIL10",
        signature=signature,
        mrna_scaling=scaling,
        removed_genes=removed,
        citation=_TIL10_CITATION,
        license=_data_text("TIL10_LICENSE.txt"),
    )


def _read_reference_table(file: Path) -> pd.DataFrame:
    if not file.is_file():
        raise FileNotFoundError(f"reference file {file} does not exist")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{file}: not a text file (byte {exc.start} is not UTF-8; a compressed or Excel "
            "file?): expected a tab- or comma-separated table of genes x cell types in TPM"
        ) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(f"{file}: empty file; expected a header line of cell types")
    sep = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    header = [field.strip() for field in rows[0]]
    cell_types = header[1:]
    if not cell_types:
        raise ValueError(
            f"{file}, line 1: no cell-type columns after the gene column "
            f"(separator {'tab' if sep == chr(9) else 'comma'})"
        )
    for j, cell_type in enumerate(cell_types, start=2):
        if not cell_type:
            raise ValueError(f"{file}, line 1, column {j}: empty cell-type name")
    seen_types = [c for i, c in enumerate(cell_types) if c in cell_types[:i]]
    if seen_types:
        raise ValueError(f"{file}, line 1: duplicated cell types {seen_types}")
    genes: list[str] = []
    first_line: dict[str, int] = {}
    values: list[list[float]] = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or all(not field.strip() for field in row):
            continue
        if len(row) != len(header):
            raise ValueError(
                f"{file}, line {line_no}: {len(row)} fields, expected {len(header)} "
                f"(a gene symbol and {len(cell_types)} cell types)"
            )
        gene = row[0].strip()
        if not gene:
            raise ValueError(f"{file}, line {line_no}, column 1: missing gene symbol")
        if gene in first_line:
            raise ValueError(
                f"{file}, line {line_no}: gene {gene!r} already given on line {first_line[gene]}"
            )
        first_line[gene] = line_no
        numbers = []
        for cell_type, field in zip(cell_types, row[1:], strict=True):
            where = f"{file}, line {line_no}, column {cell_type!r} (gene {gene!r})"
            try:
                number = float(field)
            except ValueError:
                raise ValueError(f"{where}: {field.strip()!r} is not a number") from None
            if not math.isfinite(number):
                raise ValueError(f"{where}: {field.strip()!r} is not a finite number")
            if number < 0:
                raise ValueError(f"{where}: {number:g} is negative; TPM must be >= 0")
            numbers.append(number)
        genes.append(gene)
        values.append(numbers)
    if not genes:
        raise ValueError(f"{file}: no genes; expected rows of a gene symbol and TPM values")
    return pd.DataFrame(values, index=pd.Index(genes, name=header[0] or None), columns=cell_types)


def _float_matrix(frame: pd.DataFrame, what: str, *, axis_names: tuple[str, str]) -> FloatArray:
    """The frame's values as float64, naming the first entry that is not a number."""
    try:
        return frame.to_numpy(dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        pass
    for column in frame.columns:
        series = frame[column]
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any():
            row = series.index[bad.to_numpy()][0]
            raise ValueError(
                f"{what}: {axis_names[1]} {column!r}, {axis_names[0]} {row!r}: "
                f"{series[bad].iloc[0]!r} is not a number"
            )
    raise ValueError(f"{what}: values are not numeric")  # pragma: no cover - unreachable


def _check_finite_non_negative(
    values: FloatArray, frame: pd.DataFrame, what: str, axis_names: tuple[str, str]
) -> None:
    for test, problem in ((~np.isfinite(values), "not finite"), (values < 0, "negative")):
        if test.any():
            i, j = np.argwhere(test)[0]
            raise ValueError(
                f"{what}: {axis_names[1]} {frame.columns[j]!r}, {axis_names[0]} "
                f"{frame.index[i]!r} is {float(values[i, j])!r} ({problem}; {int(test.sum())} such "
                "values); expected non-negative finite linear-scale values"
            )


def _merge_duplicate_genes(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with the same symbol merged by their median, as quanTIseq's ``mapGenes`` does."""
    if not frame.index.has_duplicates:
        return frame
    return frame.groupby(level=0, sort=False).median()


def _approved_renames(names: Sequence[str], available: set[str]) -> dict[str, str]:
    """Listed gene -> the row that stands for it, for each listed gene absent from ``available``
    whose approved HGNC symbol is there and is not itself listed (TIL10 lists ``FAM46C``, now
    ``TENT5C``; MCP-counter ``ELTD1``, now ``ADGRL4``): a gene list and a matrix annotated in
    different years still share their genes."""
    absent = [g for g in dict.fromkeys(names) if g not in available]
    if not absent:
        return {}
    taken = set(names)
    renames: dict[str, str] = {}
    for old, new in zip(absent, GeneTable.shipped().current_symbols(absent), strict=True):
        if new != old and new in available and new not in taken:
            renames[old] = new
            taken.add(new)
    return renames


def _renamed_to_current(signature: pd.DataFrame, genes: pd.Index) -> pd.DataFrame:
    """Signature rows absent from ``genes`` renamed to their approved symbol where the matrix
    has that one (see `_approved_renames`)."""
    renames = _approved_renames(list(signature.index), set(genes))
    return signature.rename(index=renames) if renames else signature


def _solve_lsei(a: FloatArray, b: FloatArray) -> FloatArray:
    """Minimize ``||a x - b_j||`` subject to ``x >= 0`` and ``sum(x) <= 1`` for every column j.

    ``a`` is genes x k with full column rank, ``b`` genes x n; returns k x n. A fraction the
    fit holds at its bound (an active ``x_i >= 0``) is exactly 0: the least-distance step
    computes it as a sum of terms that cancel, which leaves float noise (1e-17) in its place.
    """
    k = a.shape[1]
    scale = float(np.linalg.norm(a, 2))  # DClsei: sc <- norm(A, "2")
    q, r = np.linalg.qr(a / scale)
    diag = np.abs(np.diag(r))
    if diag.min() <= _RANK_TOL * diag.max():
        raise ValueError(
            "the signature restricted to the genes shared with the expression matrix is rank "
            "deficient: some cell types are linear combinations of others on these genes"
        )
    r_inv = solve_triangular(r, np.eye(k))
    x: FloatArray = r_inv @ (q.T @ (b / scale))
    infeasible = np.flatnonzero((x < 0).any(axis=0) | (x.sum(axis=0) > 1))
    if infeasible.size:
        # Least distance programming: min ||z|| s.t. E z >= f with E = G R^-1, f = h - G x_ls,
        # G = [I; -1'], h = [0; -1]; solved by NNLS on [E'; f'] u = e_{k+1} (Lawson-Hanson).
        # u holds the multipliers: u_i > 0 where x_i >= 0 binds, i.e. x_i = 0.
        g = np.vstack([np.eye(k), -np.ones((1, k))])
        m = np.empty((k + 1, k + 1))
        m[:k] = (g @ r_inv).T
        target = np.zeros(k + 1)
        target[k] = 1.0
        for j in infeasible:
            x_ls = x[:, j]
            m[k, :k] = -x_ls
            m[k, k] = x_ls.sum() - 1.0
            u, _ = nnls(m, target, maxiter=100 * (k + 1))
            residual = m @ u - target
            x[:, j] = x_ls + r_inv @ (-residual[:k] / residual[k])
            x[u[:k] > 0, j] = 0.0
    np.clip(x, 0.0, None, out=x)
    total = x.sum(axis=0)
    over = total > 1.0
    x[:, over] /= total[over]
    return x


def _fractions(a: FloatArray, b: FloatArray, scaling: FloatArray | None) -> FloatArray:
    """``DClsei``: constrained fit, mRNA-content correction; k x n cell fractions."""
    x = _solve_lsei(a, b)
    if scaling is None:
        return x
    total = x.sum(axis=0)
    per_cell = x / scaling[:, None]
    per_cell_total = per_cell.sum(axis=0)
    factor = np.divide(total, per_cell_total, out=np.zeros_like(total), where=per_cell_total > 0)
    out: FloatArray = per_cell * factor
    return out


def _rounding_error(k: int) -> float:
    """The float rounding error of ``k`` fractions and ``Other = 1 - sum`` (unit-scale terms):
    ``(k + 1)`` machine epsilons, 2.4e-15 for TIL10's ten cell types."""
    return float((k + 1) * np.finfo(np.float64).eps)


_GRID = 2.0**-52
"""Spacing of the fractions returned: sums of such multiples up to 1 are exact in float64."""


def _summing_to_one(table: FloatArray) -> FloatArray:
    """Rows of fractions (each summing to 1 up to rounding) made to sum to exactly 1.

    Each fraction is rounded to a multiple of 2^-52 (a change of at most 1.1e-16), so that
    every partial sum is exact whatever the order of summation; the largest fraction of each
    row then takes what the others leave of 1."""
    grid: FloatArray = np.round(table / _GRID) * _GRID
    rows = np.arange(grid.shape[0])
    top = grid.argmax(axis=1)
    grid[rows, top] = 0.0
    grid[rows, top] = 1.0 - grid.sum(axis=1)
    return grid


def deconvolve(
    tpm: pd.DataFrame,
    reference: CellReference | None = None,
    *,
    min_genes: int = MIN_REFERENCE_GENES,
) -> pd.DataFrame:
    """Cell-type fractions of bulk RNA-seq samples with quanTIseq.

    Parameters
    ----------
    tpm
        Linear-scale expression in TPM, genes (HGNC symbols, index) x samples (columns), whole
        transcriptome: each sample is rescaled to 10^6 over all its genes, as quanTIseq does.
        Rows sharing a symbol are merged by their median. A reference gene listed under a
        previous symbol is matched to the row of its approved HGNC symbol.
    reference
        Cell-type reference; ``None`` uses :meth:`CellReference.til10`.
    min_genes
        Fewest signature genes (after removing ``reference.removed_genes``) that must be
        present in ``tpm``.

    Returns
    -------
    pandas.DataFrame
        Samples x (reference cell types + ``"Other"``), fractions of cells in [0, 1] summing
        to exactly 1 per sample, absent cell types exactly 0; ``"Other"`` holds the
        uncharacterized (e.g. tumour) cells. ``attrs``: ``"genes_used"`` (int, signature
        genes fitted) and ``"reference"`` (its name).

    Raises
    ------
    ValueError
        If fewer than ``min_genes`` signature genes are present, if a value is not a number,
        is negative or not finite (naming sample and gene), if a sample sums to zero, or if
        the signature is rank deficient on the shared genes.

    Warns
    -----
    UserWarning
        If the maximum of ``tpm`` is below 50 (looks log-transformed) or the signature genes
        carry more than 10% of a sample's total (looks like a gene subset).

    Examples
    --------
    A sample of B cells only (the TIL10 B-cell profile; all other genes lumped in one row):

    >>> ref = CellReference.til10()
    >>> b_cells = ref.signature["B.cells"]
    >>> rest = pd.Series({"REST_OF_TRANSCRIPTOME": 1e6 - b_cells.sum()})
    >>> tpm = pd.DataFrame({"s1": pd.concat([b_cells, rest])})
    >>> fractions = deconvolve(tpm)
    >>> fractions.loc["s1", ["B.cells", "Tregs", "Other"]].round(3).tolist()
    [1.0, 0.0, 0.0]
    >>> fractions.attrs
    {'genes_used': 153, 'reference': 'TIL10'}
    """
    ref = reference if reference is not None else CellReference.til10()
    if not isinstance(tpm, pd.DataFrame):
        raise TypeError(f"tpm must be a pandas DataFrame (genes x samples), got {type(tpm)}")
    if min_genes < 1:
        raise ValueError(f"min_genes must be at least 1, got {min_genes}")
    values = _float_matrix(tpm, "tpm", axis_names=("gene", "sample"))
    _check_finite_non_negative(values, tpm, "tpm", ("gene", "sample"))
    mixture = _merge_duplicate_genes(
        pd.DataFrame(values, index=tpm.index.astype(str), columns=tpm.columns)
    )

    signature = ref.signature.drop(index=list(ref.removed_genes), errors="ignore")
    signature = _renamed_to_current(signature, mixture.index)
    present = signature.index.isin(mixture.index)
    n_found = int(present.sum())
    if len(signature) < min_genes:
        removed = (
            f" once its {len(ref.removed_genes)} removed genes are left out"
            if ref.removed_genes
            else ""
        )
        raise ValueError(
            f"the {ref.name} reference has {len(signature)} genes{removed}, fewer than the "
            f"{min_genes} a fit needs (min_genes): give a reference of at least {min_genes} "
            "marker genes"
        )
    if n_found < min_genes:
        missing = signature.index[~present].tolist()
        upper = {str(g).upper() for g in mixture.index}
        case_only = sum(g.upper() in upper for g in missing)
        hint = (
            f"; {case_only} more match ignoring case (symbols are case-sensitive)"
            if case_only
            else ""
        )
        raise ValueError(
            f"only {n_found} of the {len(signature)} {ref.name} signature genes found in the "
            f"expression matrix, expected at least {min_genes}; missing genes include "
            f"{', '.join(missing[:_EXAMPLES])}{hint}. Rows must be HGNC gene symbols."
        )
    signature = signature[present]

    samples = mixture.columns
    cell_types = list(signature.columns)
    if len(samples) == 0:
        empty = pd.DataFrame(index=samples, columns=[*cell_types, OTHER], dtype=float)
        empty.attrs.update(genes_used=n_found, reference=ref.name)
        return empty
    totals = mixture.to_numpy().sum(axis=0)
    if (totals <= 0).any():
        raise ValueError(f"tpm: sample {samples[int(np.argmax(totals <= 0))]!r} sums to zero")
    matrix = mixture.to_numpy()
    if matrix.max() < _LOG_SCALE_MAX:
        warnings.warn(
            f"tpm: the largest value is {matrix.max():.3g} (< {_LOG_SCALE_MAX:g}); the data "
            "look log-transformed, but linear TPM is expected",
            UserWarning,
            stacklevel=2,
        )
    b = mixture.loc[signature.index].to_numpy() * (_TPM_TOTAL / totals)  # fixMixture
    share = b.sum(axis=0) / _TPM_TOTAL
    if (share > _SUBSET_SHARE).any():
        worst = int(np.argmax(share))
        warnings.warn(
            f"tpm: the signature genes carry {share[worst]:.0%} of the total of sample "
            f"{samples[worst]!r}; each sample is rescaled to 10^6 TPM over the genes given, so "
            "pass the whole transcriptome rather than a gene subset",
            UserWarning,
            stacklevel=2,
        )

    a = signature.to_numpy()
    scaling = None if ref.mrna_scaling is None else ref.mrna_scaling[cell_types].to_numpy()
    fractions = _fractions(a, b, scaling)
    other = np.maximum(0.0, 1.0 - fractions.sum(axis=0))  # DClsei, before the Treg correction
    if _TREGS in cell_types and _CD4 in cell_types:
        i_tregs, i_cd4 = cell_types.index(_TREGS), cell_types.index(_CD4)
        low = np.flatnonzero(fractions[i_tregs] < _MIN_TREGS)
        if low.size:
            keep = [i for i in range(len(cell_types)) if i != i_cd4]
            refit = _fractions(a[:, keep], b[:, low], None if scaling is None else scaling[keep])
            tregs2 = refit[keep.index(i_tregs)]
            tregs = (tregs2 + fractions[i_tregs, low]) / 2
            fractions[i_tregs, low] = tregs
            fractions[i_cd4, low] = np.maximum(0.0, fractions[i_cd4, low] - (tregs2 + tregs) / 2)
    table = np.vstack([fractions, other]).T
    # fractions within the rounding error of the fit are absent cell types, not 1e-16 of them
    table[table <= _rounding_error(len(cell_types))] = 0.0
    table /= table.sum(axis=1, keepdims=True)
    table = _summing_to_one(table)
    out = pd.DataFrame(table, index=samples, columns=[*cell_types, OTHER])
    out.attrs.update(genes_used=n_found, reference=ref.name)
    return out


@cache
def mcp_markers() -> dict[str, tuple[str, ...]]:
    """MCP-counter's marker genes per population, as published (``data/mcp_counter.yaml``)."""
    data: dict[str, Any] = yaml.safe_load(_data_text("mcp_counter.yaml"))
    return {str(p): tuple(str(g) for g in genes) for p, genes in data["populations"].items()}


def mcp_counter(
    log2_expression: pd.DataFrame, *, aliases: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """MCP-counter scores: per sample, the mean log2 expression of each population's markers.

    Parameters
    ----------
    log2_expression
        ``log2(TPM + 1)`` (or another log2-scale normalized expression), genes (HGNC symbols,
        index) x samples (columns). NaN values are skipped; rows sharing a symbol are merged
        by their median.
    aliases
        Listed -> row symbol, for a marker whose listed symbol is absent from the index and
        that the shipped HGNC table does not map (e.g. a local annotation). Markers listed
        under a previous symbol (``ELTD1``, ``SDPR``) are matched to the rows of their
        approved symbols (``ADGRL4``, ``CAVIN2``) without it.

    Returns
    -------
    pandas.DataFrame
        Samples x the 10 MCP-counter populations, in log2 units (arbitrary: comparable between
        samples for one population, not between populations); NaN for a population none of
        whose markers is present. ``attrs["markers_found"]``: population -> (markers found,
        markers listed).

    Raises
    ------
    ValueError
        If a value is not a number or is infinite (naming sample and gene).

    Warns
    -----
    UserWarning
        If the maximum exceeds 50 (looks like linear, not log2, scale).

    Examples
    --------
    >>> log2 = pd.DataFrame({"s1": [3.0, 5.0, 1.0], "s2": [1.0, 2.0, 0.0]},
    ...                     index=["CD8B", "CD19", "MS4A1"])
    >>> scores = mcp_counter(log2)
    >>> scores[["CD8 T cells", "B lineage"]]
        CD8 T cells  B lineage
    s1          3.0        3.0
    s2          1.0        1.0
    >>> scores.attrs["markers_found"]["B lineage"], bool(scores["NK cells"].isna().all())
    ((2, 9), True)
    """
    if not isinstance(log2_expression, pd.DataFrame):
        raise TypeError(
            f"log2_expression must be a pandas DataFrame (genes x samples), "
            f"got {type(log2_expression)}"
        )
    values = _float_matrix(log2_expression, "log2_expression", axis_names=("gene", "sample"))
    infinite = np.isinf(values)
    if infinite.any():
        i, j = np.argwhere(infinite)[0]
        raise ValueError(
            f"log2_expression: sample {log2_expression.columns[j]!r}, gene "
            f"{log2_expression.index[i]!r} is {float(values[i, j])!r}; expected finite log2 values"
        )
    expression = _merge_duplicate_genes(
        pd.DataFrame(
            values, index=log2_expression.index.astype(str), columns=log2_expression.columns
        )
    )
    if values.size and np.nanmax(values) > _LOG_SCALE_MAX:
        warnings.warn(
            f"log2_expression: the largest value is {np.nanmax(values):.3g} (> "
            f"{_LOG_SCALE_MAX:g}); the data look linear, but log2(TPM + 1) is expected",
            UserWarning,
            stacklevel=2,
        )
    available = set(expression.index)
    listed = [g for genes in mcp_markers().values() for g in genes]
    renames = _approved_renames(listed, available) | dict(aliases or {})
    scores: dict[str, pd.Series] = {}
    found: dict[str, tuple[int, int]] = {}
    for population, markers in mcp_markers().items():
        rows: list[str] = []
        for marker in markers:
            gene = marker if marker in available else renames.get(marker, marker)
            if gene in available:
                rows.append(gene)
        found[population] = (len(rows), len(markers))
        unique_rows = list(dict.fromkeys(rows))
        if unique_rows:
            scores[population] = expression.loc[unique_rows].mean(axis=0, skipna=True)
        else:
            scores[population] = pd.Series(np.nan, index=expression.columns)
    out = pd.DataFrame(scores, index=expression.columns, columns=list(scores), dtype=float)
    out.attrs["markers_found"] = found
    return out
