"""Reading a bulk tumor expression matrix into linear TPM with HGNC symbols.

A matrix is genes × samples: TSV/CSV (optionally gzipped) with gene identifiers in the first
column, an AnnData ``.h5ad`` file (samples × genes, as AnnData stores it), or a pandas
DataFrame. Values are read counts, TPM, or log2 values; the scale is declared with ``units`` or
detected, and the detection is explained in :attr:`ExpressionMatrix.units_note`.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"s1": [100.0, 5.0, 0.0], "s2": [50.0, 10.0, 1.0]},
...                   index=["GZMA", "ENSG00000180644.7", "PDL1"])
>>> m = read_expression(df, units="tpm")
>>> m.symbols, m.units
(['CD274', 'GZMA', 'PRF1'], 'tpm')
>>> m.tpm(["PRF1", "GZMA"]).loc["PRF1", "s2"]
np.float64(10.0)
"""

from __future__ import annotations

import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast, get_args

import numpy as np
import pandas as pd

from immunoprecise.errors import ExpressionError, repeated
from immunoprecise.profile.expression.gct import is_gct, read_gct
from immunoprecise.profile.expression.genes import GeneMapping, GeneTable
from immunoprecise.profile.expression.genes import _as_text as _identifier_text
from immunoprecise.profile.expression.geo import is_series_matrix, read_series_matrix
from immunoprecise.profile.expression.quantifiers import (
    GENE_LEVEL_FILES,
    LAYOUTS,
    QuantifierLayout,
    alignment_sample_names,
    file_header,
    first_lines,
    gencode_genes,
    layout_of,
    named_by_folder,
    sample_name,
    transcript_examples,
)
from immunoprecise.records.readers import binary_content
from immunoprecise.records.record import ExpressionUnits
from immunoprecise.records.table import header_as_written, text_separator
from immunoprecise.wording import counted

__all__ = ["UNITS", "ExpressionMatrix", "Units", "detect_units", "read_expression"]

Units = ExpressionUnits
"""The scales a matrix can be in: one list for records (``expression.units``) and matrices."""
UNITS: tuple[str, ...] = get_args(Units)
"""The scales a matrix can be declared in (``units``), in the order messages list them."""
_LOG2_OFFSETS = (1.0, 0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-6)
TPM_MAX = 1e6 * (1 + 1e-6)
"""Largest TPM accepted: a gene's share of a million transcripts (rounding allowed)."""
TPM_SUM_MAX = 2e6
"""Largest column sum of TPM accepted: a sample's TPM sum to 10⁶, so twice that is counts or
another scaling (rounding, repeated rows and TPM of several annotations stay below it)."""
_LOG_VALUE_MAX = 30.0
"""No declared linear value above this, with other evidence, means the values are logarithms."""


@dataclass(frozen=True)
class ExpressionMatrix:
    """An expression matrix with HGNC-symbol rows, read lazily in linear TPM.

    The values stay in the input's scale and memory; :meth:`tpm` and :meth:`log2` convert only
    the genes asked for, so a 20,000 × 10,000 matrix is never copied whole.

    Attributes
    ----------
    units
        The scale of the input: ``counts``, ``tpm`` or ``log2tpm``.
    units_note
        How the scale was decided (declared, or the evidence of the detection) and how the values
        are converted.
    genes
        How the input identifiers were mapped to symbols.
    source
        The file name, ``DataFrame`` or ``AnnData``.
    duplicates
        Symbols that several input rows mapped to (their TPM values are added).
    """

    values: np.ndarray = field(repr=False)
    rows: dict[str, tuple[int, ...]] = field(repr=False)
    sample_ids: tuple[str, ...]
    units: str
    units_note: str
    genes: GeneMapping
    source: str
    log2_offset: float = 1.0
    column_scale: np.ndarray | None = field(default=None, repr=False)
    duplicates: tuple[str, ...] = ()
    _memo: dict[str, tuple[np.ndarray, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def samples(self) -> list[str]:
        """Sample identifiers (the columns)."""
        return list(self.sample_ids)

    @property
    def symbols(self) -> list[str]:
        """The genes present, as HGNC symbols (sorted)."""
        return sorted(self.rows)

    def tpm(self, genes: Sequence[str] | None = None) -> pd.DataFrame:
        """Linear TPM of ``genes`` (those present, in the order asked; all when omitted).

        Counts without gene lengths give counts per million (see ``units_note``).
        """
        wanted = self.symbols if genes is None else [g for g in genes if g in self.rows]
        first = np.fromiter((self.rows[g][0] for g in wanted), dtype=np.intp, count=len(wanted))
        out = np.array(self._linear(self.values[first]), dtype=np.float64)  # one gather
        if self.duplicates:  # symbols of several input rows: their TPM added
            shared = set(self.duplicates)
            for i, gene in enumerate(wanted):
                if gene in shared:
                    out[i] = np.sum(self._linear(self.values[list(self.rows[gene])]), axis=0)
        return pd.DataFrame(
            out,
            index=pd.Index(wanted, name="gene"),
            columns=pd.Index(self.sample_ids, name="sample"),
        )

    def log2(self, genes: Sequence[str] | None = None) -> pd.DataFrame:
        """``log2(TPM + 1)`` of ``genes``, genes × samples."""
        return cast(pd.DataFrame, np.log2(self.tpm(genes) + 1.0))

    def log2_moments(self, chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample mean and standard deviation (ddof 1) of ``log2(TPM + 1)`` over all genes.

        Computed once (then remembered) in chunks of genes, so memory stays at one chunk; missing
        values are ignored.
        """
        n, total, total_sq, _tpm = self._sample_sums(chunk)
        mean = total / np.maximum(n, 1)
        var = (total_sq - n * mean * mean) / np.maximum(n - 1, 1)
        return mean, np.sqrt(np.maximum(var, 0.0))

    def tpm_totals(self, chunk: int = 2000) -> np.ndarray:
        """Per-sample sum of TPM over all genes (computed once, in chunks; missing values
        ignored)."""
        return self._sample_sums(chunk)[3]

    def _sample_sums(self, chunk: int) -> tuple[np.ndarray, ...]:
        """One pass over all genes: per sample the count of finite values, the sum and the sum of
        squares of ``log2(TPM + 1)``, and the TPM total (the scores need both)."""
        if "sums" not in self._memo:
            genes = self.symbols
            sums = [np.zeros(len(self.sample_ids)) for _ in range(4)]
            for start in range(0, len(genes), chunk):
                tpm = self.tpm(genes[start : start + chunk]).to_numpy()
                ok = np.isfinite(tpm)
                tpm = np.where(ok, tpm, 0.0)
                log2 = np.where(ok, np.log2(tpm + 1.0), 0.0)
                sums[0] += ok.sum(axis=0)
                sums[1] += log2.sum(axis=0)
                sums[2] += (log2 * log2).sum(axis=0)
                sums[3] += tpm.sum(axis=0)
            self._memo["sums"] = tuple(sums)
        return self._memo["sums"]

    def _linear(self, block: np.ndarray) -> np.ndarray:
        block = np.asarray(block, dtype=np.float64)
        if self.units == "log2tpm":
            return np.asarray(np.maximum(np.exp2(block) - self.log2_offset, 0.0))
        if self.column_scale is not None:
            return np.asarray(block * self.column_scale)
        return block

    @property
    def genes_note(self) -> str:
        """How the row identifiers were mapped, and which symbols several rows were added into.

        >>> frame = pd.DataFrame({"s": [5.0, 7.0, 1.0]}, index=["GZMA", "gzma", "PRF1"])
        >>> read_expression(frame, units="tpm").genes_note
        '3 identifiers: 3 symbol; 1 symbol given by several rows (their TPM added): GZMA'
        """
        note = self.genes.summary() + _spreadsheet_dates_note(self.genes.unmapped)
        if not self.duplicates:
            return note
        shown = ", ".join(self.duplicates[:5]) + (" …" if len(self.duplicates) > 5 else "")
        return (
            f"{note}; {len(self.duplicates):,} symbol"
            f"{'s' if len(self.duplicates) > 1 else ''} given by several rows (their TPM "
            f"added): {shown}"
        )

    def summary(self) -> str:
        """What was read, in two lines."""
        return (
            f"{self.source}: {len(self.rows):,} genes × {len(self.sample_ids):,} samples; "
            f"{self.genes_note}\nunits: {self.units_note}"
        )


_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_SPREADSHEET_DATE = re.compile(rf"^(\d{{1,2}}-({_MONTHS})|({_MONTHS})-\d{{1,2}})$", re.IGNORECASE)
"""A gene name that a spreadsheet turned into a date (SEPT2 → ``2-Sep``, MARCH1 → ``1-Mar``)."""


def _spreadsheet_dates_note(unmapped: Sequence[str]) -> str:
    """The unmapped identifiers that are dates a spreadsheet made of gene names, and the fix.

    >>> _spreadsheet_dates_note(["1-Mar", "2-Sep", "x"])[:61]
    '; 2 unmapped identifiers are dates a spreadsheet made of gene'
    """
    dates = [u for u in unmapped if _SPREADSHEET_DATE.match(u)]
    if not dates:
        return ""
    shown = ", ".join(dates[:5]) + (" …" if len(dates) > 5 else "")
    return (
        f"; {counted(len(dates), 'unmapped identifier')} "
        f"{'are dates' if len(dates) > 1 else 'is a date'} a spreadsheet made of gene names "
        f"({shown}; e.g. MARCH1 or MARC1 → 1-Mar, SEPT2 → 2-Sep), not read as genes: "
        "re-export the matrix without opening it in a spreadsheet, or import the gene column "
        "as text"
    )


def _lowest_value(values: np.ndarray) -> float:
    """The smallest value ignoring NaN, without copying the matrix; NaN when every cell is NaN
    (numpy's "All-NaN slice" warning is not passed on: the callers handle that case)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmin(values))


def _offset_from_minimum(lowest: float) -> float:
    """The largest common offset ``c`` with ``log2(c)`` at or below the matrix minimum (the
    minimum is ``log2(c)`` where expression is zero); 0.01 log2 units of slack absorb values
    stored with four significant digits (−9.966 for log2(0.001) = −9.96578)."""
    return next((c for c in _LOG2_OFFSETS if np.log2(c) <= lowest + 0.01), _LOG2_OFFSETS[-1])


def detect_units(values: np.ndarray) -> tuple[Units, float | None, str]:
    """Decide the scale of an expression matrix from its values.

    Parameters
    ----------
    values
        Genes × samples, finite values (NaN ignored).

    Returns
    -------
    tuple
        ``(units, log2_offset, evidence)``: the scale, for log2 values the offset added before the
        log (``log2(TPM + offset)``; 1 when the minimum is 0, else the largest common offset
        ``c`` with ``log2(c) ≤`` the minimum), and a sentence giving the evidence.

    Examples
    --------
    >>> import numpy as np
    >>> detect_units(np.log2(np.array([[0.0, 3.0], [10.0, 999.0]]) + 0.001))[:2]
    ('log2tpm', 0.001)
    >>> detect_units(np.array([[0.0, 12.0], [530.0, 9100.0]]))[0]
    'counts'
    """
    # reductions over the whole matrix without copying it (a 20,000 × 10,000 matrix is 1.6 GB)
    with np.errstate(invalid="ignore"):
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if not np.isfinite(lo) or not np.isfinite(hi):
        raise ExpressionError("the expression matrix has no finite values, or infinite ones")
    if lo < 0 or hi <= 30:
        offset = _offset_from_minimum(lo)
        why = "negative values" if lo < 0 else f"all values ≤ 30 (max {hi:.3g})"
        return (
            "log2tpm",
            offset,
            f"detected log2 values ({why}; minimum {lo:.4g} → log2(TPM + {offset:g}))",
        )
    # integer-valued? judged on up to a million evenly spaced values
    flat = values.reshape(-1)
    sample = flat[:: max(1, flat.size // 1_000_000)]
    finite = sample[np.isfinite(sample)]
    integer = bool(np.all(np.abs(finite - np.round(finite)) < 1e-9))
    sums = np.nansum(values, axis=0)
    near_million = bool(np.all(np.abs(sums - 1e6) <= 0.02e6))
    if integer and not near_million:
        return "counts", None, f"detected counts (integer values up to {hi:.3g})"
    if float(sums.max()) > TPM_SUM_MAX:
        return (
            "counts",
            None,
            f"detected counts (non-integer values, e.g. estimated counts; column sums "
            f"{sums.min():.3g}–{sums.max():.3g}, above TPM's 10⁶)",
        )
    return (
        "tpm",
        None,
        f"detected TPM (non-negative, max {hi:.3g}; column sums {sums.min():.3g}–{sums.max():.3g})",
    )


def read_expression(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | pd.DataFrame | Any,
    *,
    units: Units | None = None,
    log2_offset: float | None = None,
    gene_lengths: pd.Series | None = None,
    layer: str | None = None,
) -> ExpressionMatrix:
    """Read an expression matrix and bring it to linear TPM with HGNC symbols.

    Parameters
    ----------
    source
        A path to TSV/CSV (``.gz`` allowed; genes in rows, first column the identifiers; a
        semicolon-separated CSV with decimal commas is recognised), GCT 1.2, a GEO series
        matrix (``GSE…_series_matrix.txt.gz``: its table) or AnnData ``.h5ad`` (samples ×
        genes), a pandas DataFrame (genes × samples) or an ``anndata.AnnData``. A quantifier's
        output file is recognised by its header (Salmon ``quant.genes.sf``, kallisto
        ``abundance.tsv``, RSEM ``*.genes.results``, featureCounts (samples named after their
        BAM files), GDC STAR ``*.augmented_star_gene_counts.tsv``;
        see :mod:`~immunoprecise.profile.expression.quantifiers`): one column is read, TPM
        unless ``units="counts"``, and the sample is named after the file (``S1.genes.results``
        → ``S1``) or, for a tool's standard name, its folder (``S1/quant.genes.sf`` → ``S1``).
        Transcript-level files are refused. A list of paths is one matrix, one column per
        sample, with the same genes in every file and no sample name twice.
    units
        ``counts``, ``tpm`` or ``log2tpm`` (any case); detected when omitted (the evidence is
        kept in ``units_note``).
    log2_offset
        For ``log2tpm``: the ``c`` of ``log2(TPM + c)``, a finite number ≥ 0 (detected from the
        minimum when omitted). Refused with linear values, or when the matrix minimum is below
        ``log2(c)``.
    gene_lengths
        For ``counts``: effective gene lengths in base pairs (a Series or mapping), indexed like
        the matrix rows; without them counts become counts per million (signature scores compare
        a gene across samples, so they are unaffected; deconvolution assumes TPM). A quantifier's
        file supplies its own (effective) lengths.
    layer
        For AnnData (``.h5ad`` or an ``anndata.AnnData``): the layer to read instead of ``X``,
        e.g. ``"counts"`` (``adata.layers["counts"]``); refused for other sources.

    Returns
    -------
    ExpressionMatrix
        Genes mapped to symbols (rows of one symbol added in linear space; unmapped rows are
        not used and are reported in ``genes``), converted to TPM on demand.

    Raises
    ------
    ExpressionError
        Unreadable file, non-numeric or negative linear values (naming gene and sample), values
        declared on a scale they cannot have (log2 values as counts or TPM, counts as TPM), a
        sample without expression, row numbers as row identifiers, an unknown ``units``, or no
        recognisable gene identifiers.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "S1"
    >>> folder.mkdir()
    >>> _ = (folder / "quant.genes.sf").write_text(
    ...     "Name\\tLength\\tEffectiveLength\\tTPM\\tNumReads\\n"
    ...     "GZMA\\t1006\\t831.2\\t120.5\\t240.2\\nPRF1\\t2517\\t2342.0\\t80.1\\t450.9\\n")
    >>> m = read_expression(folder / "quant.genes.sf")
    >>> m.samples, m.units_note
    (['S1'], 'the TPM column of Salmon quant.genes.sf (tpm)')
    """
    units = _units(units)
    offset_given = _log2_offset(log2_offset)
    if layer is not None and not isinstance(layer, str):
        raise ExpressionError(
            f"layer must be the name of an AnnData layer (text), not {type(layer).__name__}"
        )
    loaded = _named_after_alignments(_load(source, units, layer))
    if layer is not None and not loaded.from_anndata:
        raise ExpressionError(
            f"{loaded.name}: layer={layer!r} was given, but layers belong to AnnData (.h5ad) "
            "and this is not AnnData: leave layer out"
        )
    frame, name = loaded.frame, loaded.name
    frame, names_note = _second_identifier_column(frame)
    numeric = _numeric(frame, name)
    if numeric.size == 0:
        raise ExpressionError(
            f"{name}: the expression matrix is empty ({numeric.shape[0]:,} genes × "
            f"{numeric.shape[1]:,} samples); expected genes in rows, samples in columns"
        )
    labels = [str(c).strip() for c in numeric.columns]
    twice = repeated(labels)
    if twice:
        raise ExpressionError(
            f"{name}: sample ids must be unique; repeated: {', '.join(map(repr, twice[:5]))} "
            "(a sample's scores would be ambiguous: rename or drop the repeated columns)"
        )
    # a view of the caller's frame where possible: it is only read, never written (counts divided
    # by gene lengths become a new array in _check_and_scale)
    values = numeric.to_numpy(dtype=np.float64)
    infinite = np.isinf(values)
    if infinite.any():
        bad_rows, bad_cols = np.nonzero(infinite)
        raise ExpressionError(
            f"{name}: infinite value at gene {numeric.index[bad_rows[0]]}, sample "
            f"{numeric.columns[bad_cols[0]]}"
        )
    del infinite
    read_from = f"{loaded.column} of {loaded.tool}" if loaded.units is not None else ""
    if units is None and loaded.units is None:
        units, detected_offset, note = detect_units(values)
        if units == "log2tpm":
            _refuse_negative_linear(numeric, values, name)
        offset = offset_given if offset_given is not None else detected_offset
        if units == "log2tpm" and offset_given is not None:
            # the offset used is the declared one, not the one the minimum suggests
            note = note.replace(f" → log2(TPM + {detected_offset:g}))", ")")
    else:
        if units is None:  # the quantifier's column: its unit is known
            units = cast(Units, loaded.units)
            note = f"{read_from} ({units})"
        else:
            note = f"declared {units}" + (f"; {read_from}" if read_from else "")
        if units == "counts":
            _refuse_log_values_as_counts(values, name)
        elif units == "tpm":
            _refuse_log_values_as_tpm(values, name)
        offset = offset_given
        if units == "log2tpm" and offset is None:
            lo = _lowest_value(values) if values.size else 0.0
            if np.isnan(lo):  # every cell NaN: the offset of an empty matrix
                lo = 0.0
            offset = _offset_from_minimum(lo)
            note += f" (minimum {lo:.4g} → log2(TPM + {offset:g}))"
    if offset_given is not None:
        _check_declared_offset(values, units, offset_given, note, name)
        note += f"; declared log2_offset {offset_given:g} → log2(TPM + {offset_given:g})"
    lengths: pd.Series | pd.DataFrame | None = None
    lengths_note = ""
    if units == "counts":
        if gene_lengths is not None:
            lengths = _gene_length_series(gene_lengths, name)
            lengths_note = "TPM from counts and the given gene lengths"
        elif loaded.lengths is not None:
            lengths, lengths_note = loaded.lengths, loaded.lengths_note
    values, column_scale = _check_and_scale(
        numeric,
        values,
        units,
        lengths,
        name,
        "gene_lengths" if gene_lengths is not None else f"the lengths in {loaded.tool}",
    )
    if units != "counts":  # counts: _check_and_scale refuses a sample without counts
        _refuse_samples_without_expression(
            numeric, values, units, offset if offset is not None else 1.0, name
        )
    if names_note:
        note += f"; {names_note}"
    if loaded.samples_note:
        note += f"; {loaded.samples_note}"
    if units == "counts":
        note += (
            f"; {lengths_note}"
            if lengths is not None
            else "; converted to counts per million (no gene lengths given)"
        )
    table = GeneTable.shipped()
    mapping = table.to_symbols(numeric.index)
    _refuse_transposed(mapping, table.to_symbols(labels), name, anndata=loaded.from_anndata)
    _refuse_row_numbers(numeric.index, name)
    _refuse_probe_ids(numeric.index, table, name, loaded.platform)
    _refuse_mouse_genes(numeric.index, table, name)
    if not any(s is not None for s in mapping.symbols):
        examples = ", ".join(map(str, list(numeric.index[:5])))
        first = [str(i).strip() for i in numeric.index[:100]]
        if loaded.platform or 2 * sum(bool(_PROBE_ID.match(i)) for i in first) > len(first):
            raise ExpressionError(
                f"{name}: no row identifier is a known gene; the first rows are: {examples}, "
                "microarray probe IDs"
                + (f" of platform {loaded.platform}" if loaded.platform else "")
                + ", not genes. "
                + _probe_mapping(loaded.platform)
            )
        raise ExpressionError(
            f"{name}: no row identifier is a known gene (HGNC symbol, alias, Ensembl or Entrez "
            f"ID); the first rows are: {examples}. Genes must be the rows (transpose the matrix "
            "if samples are rows)."
        )
    rows: dict[str, list[int]] = {}
    for position, symbol in enumerate(mapping.symbols):
        if symbol is not None:
            rows.setdefault(symbol, []).append(position)
    duplicates = tuple(sorted(s for s, r in rows.items() if len(r) > 1))
    return ExpressionMatrix(
        values=values,
        rows={s: tuple(r) for s, r in rows.items()},
        sample_ids=tuple(str(c) for c in numeric.columns),
        units=units,
        units_note=note,
        genes=mapping,
        source=name,
        log2_offset=offset if offset is not None else 1.0,
        column_scale=column_scale,
        duplicates=duplicates,
    )


def _units(units: object) -> Units | None:
    """``units`` in any case (``TPM`` is ``tpm``), or the error naming the allowed ones."""
    if units is None:
        return None
    folded = units.strip().lower() if isinstance(units, str) else units
    if folded not in UNITS:
        raise ExpressionError(
            f"units must be {', '.join(UNITS[:-1])} or {UNITS[-1]}, not {units!r}"
            + _units_hint(folded)
        )
    return cast(Units, folded)


def _units_hint(folded: object) -> str:
    """What to declare for a scale named another way (``log2(TPM+1)``, ``FPKM``, ``CPM``)."""
    if not isinstance(folded, str):
        return ""
    if folded.startswith("log2") or folded in ("log", "logtpm", "log_tpm"):
        natural = "" if folded.startswith("log2") else " (natural-log values: convert to log2)"
        return (
            ": for log2(TPM + c) values declare units='log2tpm' (and log2_offset=c where c is "
            f"known, e.g. log2_offset=1 for log2(TPM + 1)){natural}"
        )
    if folded.startswith(("log", "ln")):
        return ": the only logarithmic scale read is log2; convert the values to log2(TPM + c)"
    if "fpkm" in folded or "rpkm" in folded:
        return (
            ": FPKM/RPKM are not read as such; convert each sample to TPM (its FPKM ÷ the "
            "sample's FPKM sum × 10⁶) and declare units='tpm'"
        )
    if folded in ("count", "cpm", "raw", "reads", "raw_counts", "rawcounts", "expected_count"):
        return ": read counts, raw or per million, are declared units='counts'"
    return ""


def _log2_offset(offset: object) -> float | None:
    """A declared ``c`` of ``log2(TPM + c)``: a finite number ≥ 0."""
    if offset is None:
        return None
    try:
        value = float(offset)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(offset, bool) or not np.isfinite(value) or value < 0:
        raise ExpressionError(
            f"log2_offset must be a finite number ≥ 0 (the c of log2(TPM + c), e.g. 1 or "
            f"0.001), not {offset!r}"
        )
    return value


def _check_declared_offset(
    values: np.ndarray, units: str, offset: float, note: str, name: str
) -> None:
    """Refuse a declared offset that the values contradict: one given for linear values, or a
    ``c`` above the matrix minimum (log2(TPM + c) is never below log2(c): every value below
    would be read as 0 TPM)."""
    if units != "log2tpm":
        raise ExpressionError(
            f"{name}: log2_offset={offset:g} was given, but the values are read as {units} "
            f"({note}): log2_offset applies to log2 values only; leave it out, or declare "
            "units='log2tpm' if the values are log2(TPM + c)"
        )
    if offset <= 0:
        return
    lo = _lowest_value(values) if values.size else 0.0
    floor = float(np.log2(offset))
    if np.isfinite(lo) and lo < floor - 0.01:
        likely = _offset_from_minimum(lo)
        raise ExpressionError(
            f"{name}: log2_offset={offset:g}, but the minimum value {lo:.4g} is below "
            f"log2({offset:g}) = {floor:.4g}, which log2(TPM + {offset:g}) cannot be (every "
            f"value below it would be read as 0 TPM): the minimum suggests log2_offset="
            f"{likely:g}; declare that, or leave log2_offset out to detect it"
        )


def _gene_length_series(gene_lengths: object, name: str) -> pd.Series:
    """``gene_lengths`` as a numeric Series (a mapping is accepted), or a clear error."""
    if isinstance(gene_lengths, Mapping):
        gene_lengths = pd.Series(dict(gene_lengths))
    if not isinstance(gene_lengths, pd.Series):
        raise ExpressionError(
            f"{name}: gene_lengths must be a pandas Series (or a mapping) of lengths in base "
            f"pairs indexed by the matrix's row identifiers, not {type(gene_lengths).__name__}"
        )
    numeric = pd.to_numeric(gene_lengths, errors="coerce")
    bad = numeric.isna() & gene_lengths.notna()
    if bad.any():
        gene = bad.index[bad.to_numpy()][0]
        raise ExpressionError(
            f"{name}: gene_lengths of {gene} is {gene_lengths[gene]!r}, not a number (expected "
            "a length in base pairs)"
        )
    return numeric.astype(np.float64)


def _refuse_negative_linear(frame: pd.DataFrame, values: np.ndarray, name: str) -> None:
    """Values detected as log2 because some are negative, with others above any log2 TPM: a
    linear matrix with negative values (e.g. batch-corrected), which no scale fits. Name both."""
    negative = _first_cell(frame, values, values < 0)
    high = _first_cell(frame, values, values > LOG2_TPM_MAX)
    if negative is None or high is None:
        return
    raise ExpressionError(
        f"{name}: negative value {negative[2]:g} at gene {negative[0]}, sample {negative[1]}, "
        f"and value {high[2]:g} at gene {high[0]}, sample {high[1]}: linear values (counts, "
        f"TPM) cannot be negative and log2 TPM cannot exceed {LOG2_TPM_MAX:g}. Give "
        "non-negative counts or TPM (not batch-corrected or centred values), or log2 values"
    )


def _sample_maxima(values: np.ndarray) -> np.ndarray:
    """Each sample's (column's) largest value, NaN for a sample of NaN only (no warning)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a sample of NaN only
        return np.asarray(np.nanmax(values, axis=0))


def _refuse_samples_without_expression(
    frame: pd.DataFrame, values: np.ndarray, units: str, offset: float, name: str
) -> None:
    """Refuse samples whose every value is zero expression (0 TPM, or log2(0 + c)): an empty or
    failed library would otherwise get scores (CYT 0.01, IMPRES 0) as if it had been measured,
    as ``units='counts'`` refuses a sample without counts. Samples with no value at all (NaN
    only) are left to the per-sample coverage rule."""
    maxima = _sample_maxima(values)
    if units == "log2tpm":
        with np.errstate(over="ignore"):
            maxima = np.exp2(maxima) - offset
    empty = np.flatnonzero(np.isfinite(maxima) & (maxima <= 0))
    if empty.size:
        listed = ", ".join(str(frame.columns[i]) for i in empty[:5])
        more = f" and {empty.size - 5:,} more" if empty.size > 5 else ""
        zero = "0" if units == "tpm" else f"log2(0 + {offset:g}) = {np.log2(offset):.4g}"
        raise ExpressionError(
            f"{name}: {counted(empty.size, 'sample')} without expression: every value of {listed}"
            f"{more} is {zero} (an empty or failed library; its scores would describe no "
            "measurement): drop these samples"
        )


def _refuse_samples_without_counts(
    frame: pd.DataFrame, values: np.ndarray, totals: np.ndarray, name: str
) -> None:
    """Refuse the samples whose counts sum to 0, naming them all: every count 0 (an empty or
    failed library), or no value at all (an empty column)."""
    without = np.flatnonzero(totals <= 0)
    empty = np.isnan(values[:, without]).all(axis=0)
    groups = [
        (
            without[~empty],
            "every count of {} is 0 (an empty or failed library; its scores would "
            "describe no measurement)",
        ),
        (without[empty], "{} without any value (an empty column)"),
    ]
    reasons = []
    for columns, text in groups:
        if columns.size:
            listed = ", ".join(str(frame.columns[i]) for i in columns[:5])
            more = f" and {columns.size - 5:,} more" if columns.size > 5 else ""
            reasons.append(text.format(listed + more))
    raise ExpressionError(
        f"{name}: {counted(without.size, 'sample')} without counts: {'; '.join(reasons)}: "
        "drop these samples"
    )


def _row_numbers(labels: Iterable[object]) -> tuple[int, int] | None:
    """``(first, last)`` when the labels are the numbers 0, 1, 2, … or 1, 2, 3, … in order (at
    least three): row numbers, not Entrez IDs (Entrez 4 to 8 are no genes)."""
    text = [str(label).strip() for label in labels]
    if len(text) < 3 or not all(t.isascii() and t.isdigit() for t in text):
        return None
    first = int(text[0])
    if first not in (0, 1) or any(int(t) != first + i for i, t in enumerate(text)):
        return None
    return first, first + len(text) - 1


def _refuse_row_numbers(labels: Iterable[object], name: str) -> None:
    """Refuse row identifiers that are row numbers (a DataFrame built without its gene index):
    read as Entrez IDs they would be unrelated genes (1 is A1BG, 2 is A2M, 9 is NAT1)."""
    numbers = _row_numbers(labels)
    if numbers is not None:
        raise ExpressionError(
            f"{name}: the row identifiers are the row numbers {numbers[0]}, {numbers[0] + 1}, "
            f"… {numbers[1]}, not genes (read as Entrez IDs they would be unrelated genes: 1 is "
            "A1BG, 2 is A2M). Give the gene identifiers as the row index (e.g. "
            "frame.set_index('gene')), or as the first column of a file"
        )


ENTREZ_GAP = (1_000_000, 100_000_000)
"""No human Entrez gene ID lies between these (genes got IDs up to about 10⁶ until 2008, and
from 10⁸ on since): a number there is no human gene."""


def _probe_numbers(identifiers: Iterable[object], table: GeneTable) -> tuple[int, int, list[str]]:
    """How many row identifiers are whole numbers below 10⁸ (where the Entrez IDs of named
    genes lie; newer IDs, from 10⁸ on, are often unnamed loci), how many of those are human
    Entrez gene IDs, and the first few that are not.

    >>> _probe_numbers(["3001", "5551", "7892501", "GZMA"], GeneTable.shipped())
    (3, 2, ['7892501'])
    """
    numbers = known = 0
    others: list[str] = []
    for raw in identifiers:
        text = _identifier_text(raw)
        if text is None or not (text.isascii() and text.isdigit()) or int(text) >= 10**8:
            continue
        numbers += 1
        if text in table.by_entrez:
            known += 1
        elif len(others) < 5:
            others.append(text)
    return numbers, known, others


def _refuse_probe_ids(
    identifiers: Iterable[object], table: GeneTable, name: str, platform: str = ""
) -> None:
    """Refuse row identifiers that are numbers but mostly not human Entrez gene IDs: probe IDs
    of a microarray platform (Agilent feature numbers 1 … 45,015, Affymetrix Gene/Exon ST
    transcript clusters 2,315,101 … 8,180,418, Illumina array addresses) or Entrez IDs of
    another species. Read as Entrez IDs, the probes that happen to share a gene's ID would be
    scored as that gene (Agilent feature 3001 as GZMA). A matrix keyed by human Entrez IDs
    has nearly all of its numbers below 10⁸ among the genes (NCBI's unnamed loci, above 10⁸,
    are not counted), so it is read as before."""
    rows = list(identifiers)
    numbers, known, others = _probe_numbers(rows, table)
    if numbers < 3 or 2 * numbers <= len(rows) or 2 * known >= numbers:
        return
    from_platform = f" of platform {platform}" if platform else ""
    raise ExpressionError(
        f"{name}: the row identifiers are numbers, but only {known:,} of {numbers:,} are human "
        f"Entrez gene IDs ({', '.join(others)}, … are none): these look like microarray probe "
        f"IDs{from_platform} (or Entrez IDs of another species), and read as Entrez IDs each "
        "probe that shares a gene's number would be scored as that gene. "
        + _probe_mapping(platform)
    )


def _probe_mapping(platform: str) -> str:
    """How to turn a microarray's probe rows into gene rows, naming the GEO platform if known."""
    where = (
        f"its GEO page ({platform}: 'Download full table', or getGEO('{platform}') of "
        "GEOquery in R)"
        if platform and "," not in platform
        else "the platform's annotation on GEO ('Download full table' on its GPL page)"
    )
    return (
        f"Map the probes to genes with {where}: its ID column to Gene Symbol or "
        "ENTREZ_GENE_ID, one row per gene (e.g. the probe with the highest mean), and give that "
        "genes × samples matrix"
    )


_PROBE_ID = re.compile(r"^(\d+(_[a-z])*_at|ILMN_\d+|A_\d+_P\d+)$")
"""Probe IDs of the common expression arrays: Affymetrix (``1007_s_at``, ``201422_at``),
Illumina (``ILMN_1343291``), Agilent (``A_23_P100001``)."""


def _refuse_transposed(
    rows: GeneMapping, columns: GeneMapping, name: str, *, anndata: bool = False
) -> None:
    """Refuse a matrix whose genes are its columns: most column labels are approved symbols or
    Ensembl IDs, more of them than among the rows. (Aliases and Entrez IDs do not count: sample
    names such as ``S1`` or ``P2`` are gene aliases, and numbered samples are Entrez IDs, so a
    transposed matrix would otherwise be read with its samples as genes.) For AnnData, which
    holds samples × genes, the message speaks of its obs and var."""
    strong_columns = columns.kinds.get("symbol", 0) + columns.kinds.get("ensembl", 0)
    strong_rows = rows.kinds.get("symbol", 0) + rows.kinds.get("ensembl", 0)
    mostly_genes = strong_columns >= 2 and 2 * strong_columns >= len(columns.symbols)
    if mostly_genes and strong_columns > strong_rows:
        genes = [s for s in columns.symbols if s is not None][:5]
        if anndata:
            raise ExpressionError(
                f"{name}: the obs names look like genes ({strong_columns:,} of "
                f"{len(columns.symbols):,} are gene symbols or Ensembl IDs, e.g. "
                f"{', '.join(genes)}; {strong_rows:,} of {len(rows.symbols):,} var names "
                "are): AnnData holds samples in obs and genes in var; transpose it "
                "(adata = adata.T) and give that AnnData, or save it again (adata.write_h5ad)"
            )
        raise ExpressionError(
            f"{name}: the columns look like genes ({strong_columns:,} of "
            f"{len(columns.symbols):,} are gene symbols or Ensembl IDs, e.g. "
            f"{', '.join(genes)}; {strong_rows:,} of {len(rows.symbols):,} rows are): "
            "expected genes in rows and samples in columns; transpose the matrix"
        )


_MOUSE_CASE = re.compile(r"^[A-Z][a-z0-9]*[a-z][a-z0-9]*$")
"""A mouse (MGI) gene symbol's case: a capital, then lower case and digits (``Gzma``, ``Cd8a``,
``Prf1``), where the human (HGNC) symbol is all capitals (``GZMA``)."""
_MOUSE_ENSEMBL = re.compile(r"^ENSMUSG\d{11}(\.\d+)?$", re.IGNORECASE)


def _mouse_genes(
    identifiers: Iterable[object], table: GeneTable | None = None
) -> tuple[list[str], list[str]]:
    """The row identifiers written as mouse genes, where they would be read as human genes.

    A mouse symbol (MGI: ``Gzma``, ``Cd8a``; a capital, then lower case and digits, and not a
    human symbol, alias or previous symbol as written, such as ``C6orf165``) or a mouse Ensembl
    ID (``ENSMUSG…``) counts as mouse.
    Returned are the mouse identifiers when at least two, and more than half of the identifiers
    that begin with a letter, are mouse; and the mouse symbols whose human twin (the same
    letters in capitals) is also a row, when there are at least two such (a xenograft matrix of
    human and mouse genes, whose twins would be added together). Human symbols in one case
    (``gzma``, ``GZMA``) are not mouse.

    Parameters
    ----------
    identifiers
        The row identifiers of an expression matrix.
    table
        The gene table whose approved symbols are human (default: the shipped one).

    Returns
    -------
    tuple[list[str], list[str]]
        The mouse identifiers (empty unless most are mouse), and the mouse symbols with a human
        twin among the rows (empty unless at least two), each in row order.

    Examples
    --------
    >>> _mouse_genes(["Gzma", "Prf1", "Cd8a", "Actb"])
    (['Gzma', 'Prf1', 'Cd8a', 'Actb'], [])
    >>> _mouse_genes(["GZMA", "PRF1", "CD8A", "ACTB", "Gzma", "Prf1"])
    ([], ['Gzma', 'Prf1'])
    >>> _mouse_genes(["gzma", "prf1", "cd8a"]), _mouse_genes(["GZMA", "C9orf72", "Prf1"])
    (([], []), ([], []))
    """
    genes = table or GeneTable.shipped()
    named = [str(i).strip() for i in identifiers if i is not None and i == i]
    named = [i for i in named if i[:1].isalpha()]
    symbols = [i for i in named if _MOUSE_CASE.match(i) and not _human_as_written(i, genes)]
    mouse_case = set(symbols)
    mouse = [i for i in named if i in mouse_case or _MOUSE_ENSEMBL.match(i)]
    capitals = {i for i in named if i == i.upper()}
    twins = [i for i in symbols if i.upper() in capitals]
    return (
        mouse if len(mouse) >= 2 and 2 * len(mouse) > len(named) else [],
        twins if len(twins) >= 2 else [],
    )


_HUMAN_ORF = re.compile(r"^C(\d+|X|Y)orf\d+$")
"""A human open reading frame's symbol (``C9orf72``, ``CXorf21``; mouse ones end in ``Rik``)."""


def _human_as_written(identifier: str, table: GeneTable) -> bool:
    """Whether an identifier is a human gene's symbol, alias or previous symbol in its exact
    case (``C9orf72``, ``C6orf165``), or an open reading frame's."""
    return (
        identifier in table.symbols
        or identifier in table.by_alias
        or identifier in table.ambiguous_aliases
        or _HUMAN_ORF.match(identifier) is not None
    )


def _refuse_mouse_genes(identifiers: Iterable[object], table: GeneTable, name: str) -> None:
    """Refuse a matrix of mouse genes, or of human and mouse genes: a mouse symbol would match a
    human one when case is ignored (``Gzma`` → GZMA) and be scored with human signatures (or
    added to the human gene) without a word, although many signature genes have no one-to-one
    mouse ortholog (HLA-DRA, the KIRs) or a different one."""
    mouse, twins = _mouse_genes(identifiers, table)
    if mouse:
        shown = ", ".join(mouse[:5])
        raise ExpressionError(
            f"{name}: the genes look like mouse genes ({len(mouse):,} row identifiers are written "
            f"as mouse gene symbols or Ensembl IDs, e.g. {shown}); the signatures are of human "
            "genes (HGNC), and a mouse symbol matched to a human one by case is not its "
            "ortholog. Map the genes to their human orthologs first (e.g. with HCOP or "
            "Ensembl BioMart) and give the human symbols (human symbols written with one "
            "capital: write them in capitals)"
        )
    if twins:
        shown = ", ".join(f"{t} beside {t.upper()}" for t in twins[:3])
        raise ExpressionError(
            f"{name}: the rows mix human and mouse genes ({len(twins):,} mouse gene symbols "
            f"beside their human namesakes, e.g. {shown}), as in a xenograft aligned to both "
            "genomes; read by symbol in any case, each mouse gene would be added to the human "
            "one. Keep the human genes' rows (all capitals) and leave the mouse genes' rows out"
        )


def _refuse_log_values_as_counts(values: np.ndarray, name: str) -> None:
    """Refuse values declared counts that can only be logarithms: none above 30 and not whole
    numbers (a sequenced sample has thousands of reads on its expressed genes)."""
    with np.errstate(invalid="ignore"):
        hi = float(np.nanmax(values)) if values.size else 0.0
    if not np.isfinite(hi) or hi > _LOG_VALUE_MAX:
        return
    flat = values.reshape(-1)
    sample = flat[:: max(1, flat.size // 1_000_000)]
    finite = sample[np.isfinite(sample)]
    if finite.size and not np.all(np.abs(finite - np.round(finite)) < 1e-9):
        raise ExpressionError(
            f"{name}: declared counts, but no value is above 30 (max {hi:.4g}) and the values "
            "are not whole numbers: these look like log2 values. Declare units='log2tpm' (or "
            "leave units out to detect the scale)"
        )


_TRANSCRIPTOME_GENES = 5_000
"""Rows from which a matrix is a whole transcriptome, not a gene subset (for the TPM check)."""
_LOG2_TPM_SUM_MAX = 2.5e5
"""Largest column sum taken for log2 values: log2(TPM + 1) of 20,000–60,000 genes sums to about
40,000–120,000, a TPM column of a whole transcriptome to 10⁶."""


def _refuse_log_values_as_tpm(values: np.ndarray, name: str) -> None:
    """Refuse values declared TPM that can only be logarithms: a whole transcriptome (at least
    5,000 rows) in which no sample has a value above 30 and every column sums to far less than
    a million (a sample's TPM sum to 10⁶ and its most expressed genes reach thousands). A gene
    subset of low TPM values is accepted."""
    if values.ndim != 2 or values.shape[0] < _TRANSCRIPTOME_GENES:
        return
    maxima = _sample_maxima(values)
    measured = np.isfinite(maxima)
    if not measured.any():
        return
    hi = float(maxima[measured].max())
    if hi > _LOG_VALUE_MAX:
        return
    sums = np.nansum(values, axis=0)[measured]
    if float(sums.max()) > _LOG2_TPM_SUM_MAX:
        return
    raise ExpressionError(
        f"{name}: declared tpm, but in {values.shape[0]:,} genes no sample has a value above "
        f"{_LOG_VALUE_MAX:g} (sample maxima {float(maxima[measured].min()):.4g}–{hi:.4g}) and "
        f"the columns sum to {float(sums.min()):.4g}–{float(sums.max()):.4g}, not 10⁶: these "
        "look like log2 values, e.g. log2(TPM + 1). Declare units='log2tpm' (or leave units "
        "out to detect the scale)"
    )


@dataclass(frozen=True)
class _Loaded:
    """A source read as genes × samples, with what its layout says about it."""

    frame: pd.DataFrame
    name: str
    units: str | None = None
    """Set by a quantifier layout: the scale of the column read."""
    lengths: pd.DataFrame | None = None
    """Quantifier lengths (bp), genes × samples, for counts."""
    column: str = ""
    """Which column was read, e.g. ``the TPM column``."""
    tool: str = ""
    """Whose output it is, e.g. ``Salmon quant.genes.sf``."""
    lengths_note: str = ""
    kind: str = "matrix"
    """``matrix``, or the quantifier (``Salmon``…), to refuse combining unlike files."""
    samples_note: str = ""
    """How the samples were named or found, where not as written (featureCounts' BAM paths;
    a spreadsheet's empty trailing column left out)."""
    alignment_columns: frozenset[str] = frozenset()
    """Columns headed by the alignment file they were counted from (featureCounts)."""
    from_anndata: bool = False
    platform: str = ""
    """A GEO series matrix's platform accession(s) (``GPL6480``), to name in messages."""


def _load(source: object, units: str | None, layer: str | None = None) -> _Loaded:
    if isinstance(source, list | tuple):
        return _load_files(source, units, layer)
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, units)
    if type(source).__name__ == "AnnData":
        name = "AnnData" if layer is None else f"AnnData layer {layer!r}"
        return _Loaded(_from_anndata(source, name, layer), name, from_anndata=True)
    if not isinstance(source, str | os.PathLike):
        raise ExpressionError(
            f"an expression matrix must be a file path, a list of file paths, a DataFrame or "
            f"AnnData, not {type(source).__name__}"
            + (
                " (a one-sample Series: give series.to_frame())"
                if isinstance(source, pd.Series)
                else ""
            )
        )
    path = Path(source)
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.is_file())
        shown = ", ".join(inside[:3]) + (", …" if len(inside) > 3 else "")
        raise ExpressionError(
            f"{path} is a folder, not an expression matrix: give the file"
            + (f" (the folder holds {shown})" if inside else " (the folder is empty)")
        )
    if not path.is_file():
        raise ExpressionError(f"expression matrix not found: {path}")
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in (".gz", ".bz2", ".xz", ".zip", ".zst")
    if compressed and len(suffixes) > 1 and suffixes[-2] == ".h5ad":
        inner = path.name[: -len(suffixes[-1])]
        raise ExpressionError(
            f"{path.name}: a compressed AnnData file is not read (h5ad is HDF5, read in place, "
            f"and compresses its own matrices): decompress it first ("
            f"{_DECOMPRESS[suffixes[-1]]} {path.name}) and give {inner}"
        )
    if not compressed and (not suffixes or suffixes[-1] != ".h5ad"):
        kind = _binary_kind(path)
        if kind is not None:
            raise ExpressionError(f"{path.name}: {kind}")
        problem = binary_content(path)
        if problem is not None:
            excel = (
                " (Excel is not read: save the sheet as TSV or CSV)"
                if suffixes and (suffixes[-1] in (".xlsx", ".xls"))
                else ""
            )
            raise ExpressionError(f"{path.name}: {problem}{excel}")
    if suffixes and suffixes[-1] == ".h5ad":
        try:
            import anndata

            adata = anndata.read_h5ad(path)
        except (OSError, ValueError, KeyError) as exc:
            raise ExpressionError(f"{path.name}: cannot read the expression matrix: {exc}") from exc
        name = path.name if layer is None else f"{path.name} layer {layer!r}"
        return _Loaded(_from_anndata(adata, name, layer), name, from_anndata=True)
    if is_gct(path):
        return _Loaded(read_gct(path), path.name)
    if is_series_matrix(path):
        series = read_series_matrix(path)
        return _Loaded(series, path.name, platform=str(series.attrs.get("platform", "")))
    default_sep = "," if ".csv" in suffixes else "\t"
    sep, decimal, skip = _separator(path, default_sep)
    peeked = file_header(path, sep) if not skip else None
    layout = layout_of(peeked[0]) if peeked is not None else None
    if peeked is not None and layout is not None:
        return _read_quantifier(path, layout, peeked[0], peeked[1], sep, units)
    comments = 0 if skip else _comment_lines(path, sep)
    skip += comments
    try:
        frame = pd.read_csv(
            path, sep=sep, decimal=decimal, index_col=0, compression="infer", skiprows=skip
        )
        # pandas renames a repeated column ("s1", "s1.1"): the sample ids as written
        written = header_as_written(path, sep, skip=skip)[1:]
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ExpressionError(f"{path.name}: cannot read the expression matrix: {exc}") from exc
    notes: list[str] = []
    if comments:
        notes.append(f"{counted(comments, 'comment line')} (#) before the header skipped")
    elif skip:
        notes.append(
            f"read as {_SEPARATOR_NAMES[sep]}-separated, as its first line (sep={sep}) says"
            + (", with decimal commas" if decimal != "." else "")
        )
    elif decimal != ".":
        notes.append("read as semicolon-separated with decimal commas")
    elif sep != default_sep:
        notes.append(
            f"read as {_SEPARATOR_NAMES[sep]}-separated (the header has no "
            f"{_SEPARATOR_NAMES[default_sep]})"
        )
    if len(written) == frame.shape[1]:
        # a column without a header and without a value is a trailing separator (spreadsheet
        # exports), not a sample
        blank = [
            i
            for i, w in enumerate(written)
            if (w is None or not w.strip()) and frame.iloc[:, i].isna().all()
        ]
        if blank and len(blank) < frame.shape[1]:
            frame = frame.drop(columns=frame.columns[blank])
            left_out = set(blank)
            written = [w for i, w in enumerate(written) if i not in left_out]
            notes.append(f"{counted(len(blank), 'empty column')} without a header left out")
        frame.columns = pd.Index(
            [w if w is not None else str(c) for w, c in zip(written, frame.columns, strict=True)]
        )
    if frame.shape[1] == 0:
        raise ExpressionError(
            f"{path.name}: no sample columns (is the separator right? .csv files are read with "
            "commas or semicolons, everything else with tabs)"
        )
    return _Loaded(frame, path.name, samples_note="; ".join(notes))


_SEPARATOR_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}


def _separator(path: Path, default: str) -> tuple[str, str, int]:
    """The field separator and decimal mark of a text matrix, and the lines before its header.

    A first line ``sep=;`` (or ``sep=,``, ``sep=<tab>``), which Excel writes and reads, names
    the separator and is skipped (:func:`~immunoprecise.records.table.text_separator`, as for
    patient tables). Otherwise ``default`` (a tab; a comma for ``.csv``) unless the header line
    holds none of it but another of tab, comma and semicolon. A semicolon-separated file whose
    first data line holds commas is a spreadsheet's CSV in a locale whose decimal mark is the
    comma (``12,5``)."""
    try:
        named, skip = text_separator(path, default)
    except (OSError, ValueError, UnicodeDecodeError):  # read as before; errors come later
        named, skip = default, 0
    if skip:
        data = first_lines(path, skip + 2)[skip + 1 :]
        return named, "," if named == ";" and data and "," in data[0] else ".", skip
    lines = first_lines(path, 2, skip_leading=lambda line: line.startswith("#"))
    if not lines or default in lines[0]:
        return default, ".", 0
    found = {s: lines[0].count(s) for s in ("\t", ",", ";")}
    sep = max(found, key=lambda s: found[s])
    if not found[sep]:
        return default, ".", 0
    decimal = "," if sep == ";" and len(lines) > 1 and "," in lines[1] else "."
    return sep, decimal, 0


def _comment_lines(path: Path, sep: str) -> int:
    """How many ``#`` lines without a separator (comments) precede the header; a ``#`` line
    holding the separator is the header itself (``#gene<tab>S1``)."""
    lines = first_lines(path, 11)
    count = 0
    while count < min(len(lines), 10) and lines[count].startswith("#") and sep not in lines[count]:
        count += 1
    return count


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
"""Leading bytes of the compressed formats, named as their tools name them."""

_COMPRESSED_SUFFIX = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "zstd": ".zst"}


def _binary_kind(path: Path) -> str | None:
    """What a file that is not named as compressed or AnnData holds, told by its first bytes,
    with what to do, for the formats an expression matrix is often saved in by mistake:
    compressed text under a plain name, an Excel workbook, a ZIP archive, a Parquet file, an
    HDF5 file (an AnnData under another name). ``None`` for anything else (text included)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    for magic, tool in _MAGIC:
        if head.startswith(magic):
            suffix = _COMPRESSED_SUFFIX[tool]
            hint = (
                f"rename it to {path.name}{suffix}"
                if tool in ("gzip", "bzip2", "xz")
                else f"decompress it first ({_DECOMPRESS[suffix]} {path.name})"
            )
            return (
                f"is {tool}-compressed, but its name does not end in {suffix}, so it cannot be "
                f"read as text: {hint}"
            )
    if head.startswith(b"PK\x03\x04") and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.startswith("xl/") for n in names):
            return (
                "is an Excel workbook (.xlsx), which is not read as an expression matrix: save "
                "the sheet as TSV or CSV (genes in the first column, one column per sample)"
            )
        shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
        return f"is a ZIP archive ({shown}): unzip it and give the matrix inside"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return (
            "is an Excel 97–2003 workbook (.xls), which is not read as an expression matrix: "
            "save the sheet as TSV or CSV (genes in the first column, one column per sample)"
        )
    if head.startswith(b"PAR1"):
        return (
            "is a Parquet file, which is not read as an expression matrix: write it as TSV "
            "(pandas: df.to_csv('matrix.tsv', sep='\\t')) or pass the DataFrame itself"
        )
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return (
            "is an HDF5 file: an AnnData file is read when its name ends in .h5ad (rename it); "
            "other HDF5 layouts are not read (write the matrix as TSV)"
        )
    return None


_DECOMPRESS = {".gz": "gunzip", ".bz2": "bunzip2", ".xz": "unxz", ".zip": "unzip", ".zst": "unzstd"}


def _named_after_alignments(loaded: _Loaded) -> _Loaded:
    """featureCounts columns (the BAM paths it was given, of one or several files) renamed to
    the shortest names that tell the samples apart (see ``alignment_sample_names``); kept as
    written where a new name would be another sample's."""
    if not loaded.alignment_columns:
        return loaded
    columns = [str(c) for c in loaded.frame.columns]
    chosen = [i for i, c in enumerate(columns) if c in loaded.alignment_columns]
    names, note = alignment_sample_names([columns[i] for i in chosen])
    if not note:
        return loaded
    renamed = list(columns)
    for i, new in zip(chosen, names, strict=True):
        renamed[i] = new
    others = {c for c in columns if c not in loaded.alignment_columns}
    if others & set(names):
        return loaded
    index = pd.Index(renamed)
    lengths = None if loaded.lengths is None else loaded.lengths.set_axis(index, axis=1)
    return replace(
        loaded,
        frame=loaded.frame.set_axis(index, axis=1),
        lengths=lengths,
        samples_note=note,
    )


def _quantifier_units(layout: QuantifierLayout, units: str | None, name: str) -> str:
    """The column to read: TPM unless counts are declared (featureCounts: counts only)."""
    if units == "log2tpm":
        held, fix = (
            ("read counts", "units='counts'")
            if layout.tpm is None
            else ("TPM and counts", "units='tpm' or 'counts'")
        )
        raise ExpressionError(
            f"{name}: {layout.described} holds linear values ({held}), not log2 values: leave "
            f"units out or declare {fix}"
        )
    if layout.tpm is None:
        if units == "tpm":
            raise ExpressionError(
                f"{name}: {layout.described} holds read counts only, no TPM: declare "
                "units='counts' or leave units out (TPM are then computed from the counts and "
                f"its {layout.length} column)"
            )
        return "counts"
    return units if units is not None else "tpm"


def _read_quantifier(
    path: Path,
    layout: QuantifierLayout,
    header: list[str],
    comments: int,
    sep: str,
    units: str | None,
) -> _Loaded:
    """Read the column of a quantifier's output file that ``units`` asks for (TPM by default),
    its sample named after the file (featureCounts: after its count columns)."""
    name = f"{sample_name(path)}/{path.name}" if named_by_folder(path) else path.name
    chosen = _quantifier_units(layout, units, name)
    identifiers = layout.header[0]
    try:
        table = pd.read_csv(
            path,
            sep=sep,
            skiprows=comments,
            dtype={identifiers: str},
            compression="infer",
            encoding="utf-8-sig",
        )
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ExpressionError(f"{name}: cannot read the {layout.described} file: {exc}") from exc
    if len(header) == table.shape[1]:  # the columns as written (pandas renames repeated ones)
        table.columns = pd.Index(header)
    summed = ""
    if layout.summary_rows is not None:
        summary = table[identifiers].astype(str).str.startswith(layout.summary_rows).to_numpy()
        if summary.any():
            shown = ", ".join(table[identifiers][summary].astype(str).head(2))
            table = table.loc[~summary].reset_index(drop=True)
            summed = f" ({int(summary.sum()):,} alignment summary rows left out: {shown} …)"
    ids = table[identifiers]
    genes = _genes_of_transcripts(table, layout, name)
    if genes is not None:
        table, summed = _sum_transcripts(table, genes, layout, chosen, name)
        identifiers = "gene_id"
        ids = table[identifiers]
    else:
        examples = transcript_examples(list(ids), layout, path.name)
        if examples:
            raise ExpressionError(
                f"{name}: a transcript-level {layout.described} file (identifiers are "
                f"transcripts, e.g. {', '.join(examples)}): the scores need genes, and "
                "immunoprecise ships no transcript-to-gene map to add transcripts up with. "
                f"Give {GENE_LEVEL_FILES}, or a quant.sf / abundance.tsv of a GENCODE "
                "transcriptome with the full FASTA headers as names (ENST…|ENSG…|…)"
            )
    index = pd.Index(ids.to_numpy(), name=identifiers)
    if layout.samples_in_columns:
        samples = list(table.columns[len(layout.header) :])
        if not samples:
            raise ExpressionError(
                f"{name}: {layout.described} without count columns (expected one column of "
                f"read counts per BAM file after {', '.join(layout.header)})"
            )
        frame = table[samples].set_axis(index, axis=0)
        column = _count_columns(len(samples))
    else:
        read = str(layout.tpm if chosen == "tpm" else layout.counts)
        samples = [sample_name(path)]
        frame = table[[read]].set_axis(index, axis=0).set_axis(samples, axis=1)
        column = f"the {read} column{summed}"
    lengths = None
    lengths_note = ""
    if chosen == "counts" and layout.length is not None:
        lengths = _per_sample(_row_lengths(table, layout), index, samples)
        used = (
            f"{layout.effective_length} column (effective lengths)"
            if layout.effective_length is not None
            else f"{layout.length} column"
        )
        lengths_note = f"TPM from counts and the file's {used}"
    return _Loaded(
        frame,
        name,
        units=chosen,
        lengths=lengths,
        column=column,
        tool=f"{layout.tool} {path.name}",
        lengths_note=lengths_note,
        kind=layout.tool,
        alignment_columns=_alignment_columns(layout, samples),
    )


def _row_lengths(table: pd.DataFrame, layout: QuantifierLayout) -> pd.Series:
    """Each row's length in base pairs: its effective length where the layout has one and it
    is positive, else its length (an effective length of 0, a feature shorter than the
    fragments, has no reads: its count is 0 either way)."""
    length = pd.to_numeric(table[layout.length], errors="coerce")
    if layout.effective_length is None:
        return length
    effective = pd.to_numeric(table[layout.effective_length], errors="coerce")
    return effective.where(effective > 0, length)


def _per_sample(length: pd.Series, index: pd.Index, samples: list[Any]) -> pd.DataFrame:
    """The lengths of a file's rows as genes × samples: the same column for each sample."""
    column = length.to_numpy(dtype=np.float64)[:, None]
    return pd.DataFrame(np.repeat(column, len(samples), axis=1), index=index, columns=samples)


def _genes_of_transcripts(
    table: pd.DataFrame, layout: QuantifierLayout, name: str
) -> pd.Series | None:
    """The gene of each row of a transcript-level file that names them (RSEM isoforms: its
    ``gene_id`` column; Salmon/kallisto: GENCODE FASTA headers as names), else ``None``."""
    if layout.level == "transcript" and "gene_id" in table.columns:
        genes = table["gene_id"].astype("string").str.strip()
        missing = genes.isna() | (genes == "")
        if missing.any():
            row = int(np.flatnonzero(missing.to_numpy())[0])
            raise ExpressionError(
                f"{name}: transcript {table[layout.header[0]].iloc[row]} has no gene_id "
                f"({counted(int(missing.sum()), 'transcript')} without one): every isoform "
                "needs its gene to be summed into it"
            )
        return pd.Series(genes.to_numpy(dtype=object), index=table.index)
    if layout.level == "identifiers":
        found = gencode_genes(list(table[layout.header[0]]))
        if found is not None:
            return pd.Series(found, index=table.index, dtype=object)
    return None


def _sum_transcripts(
    table: pd.DataFrame, genes: pd.Series, layout: QuantifierLayout, chosen: str, name: str
) -> tuple[pd.DataFrame, str]:
    """A transcript-level table summed into genes: TPM (or estimated counts) of a gene's
    transcripts added; for counts, the gene's effective length is the one that keeps
    counts ÷ length equal to the sum of its transcripts' counts ÷ effective length (so TPM from
    counts equal the summed TPM). Returns the gene-level table (identifiers in ``gene_id``) and
    the note saying what was summed."""
    read = str(layout.tpm if chosen == "tpm" else layout.counts)
    transcripts = table[layout.header[0]]
    values = pd.to_numeric(table[read], errors="coerce")
    bad = values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ExpressionError(
            f"{name}: {read} of transcript {transcripts.iloc[row]} is "
            f"{table[read].iloc[row]!r} ({counted(int(bad.sum()), 'transcript')} without a "
            "number): expected a number for every transcript, to sum them into genes"
        )
    columns: dict[str, object] = {"gene_id": genes.to_numpy(), read: values.to_numpy()}
    if chosen == "counts":
        length = _row_lengths(table, layout)
        invalid = ~(length > 0)
        if invalid.any():
            row = int(np.flatnonzero(invalid.to_numpy())[0])
            raise ExpressionError(
                f"{name}: the length of transcript {transcripts.iloc[row]} is "
                f"{table[layout.length].iloc[row]!r}: expected a positive length in base pairs "
                "for every transcript (its counts are divided by it)"
            )
        columns["rate"] = (values / length).to_numpy()
        columns["length"] = length.to_numpy()
    grouped = pd.DataFrame(columns).groupby("gene_id", sort=False)
    out = grouped[[read]].sum()
    if chosen == "counts":
        rate = grouped["rate"].sum()
        mean_length = grouped["length"].mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            gene_length = (out[read] / rate).where(rate > 0, mean_length)
        out[layout.length] = gene_length
        if layout.effective_length is not None:
            out[layout.effective_length] = gene_length
    out = out.reset_index()
    isoforms = layout.level == "transcript"
    source = "their gene_id" if isoforms else "the gene ID in their names"
    plural = "s" if len(out) != 1 else ""
    return out, (
        f" ({len(table):,} {'isoforms' if isoforms else 'transcripts'} summed into "
        f"{len(out):,} gene{plural} by {source})"
    )


def _alignment_columns(layout: QuantifierLayout, samples: list[Any]) -> frozenset[str]:
    """The columns named after alignment files: featureCounts' count columns."""
    return frozenset(str(s) for s in samples) if layout.samples_in_columns else frozenset()


def _count_columns(n: int) -> str:
    return "the count column" if n == 1 else f"the {n:,} count columns"


def _frame_layout(frame: pd.DataFrame) -> tuple[QuantifierLayout, bool] | None:
    """The quantifier layout of a DataFrame's columns, and whether the identifiers are a
    column (``True``) or the index."""
    columns = tuple(str(c).strip() for c in frame.columns)
    for layout in LAYOUTS:
        if columns[: len(layout.header)] == layout.header:
            return layout, True
        if columns[: len(layout.header) - 1] == layout.header[1:]:
            return layout, False
    return None


def _from_frame(frame: pd.DataFrame, units: str | None) -> _Loaded:
    """A DataFrame as given; one holding a quantifier's file is read like the file where its
    samples are named in it (featureCounts), else refused with how to name the sample."""
    found = _frame_layout(frame)
    if found is None:
        return _Loaded(frame, "DataFrame")
    layout, ids_in_column = found
    name = "DataFrame"
    if ids_in_column:
        frame = frame.set_index(frame.columns[0])
    if not layout.samples_in_columns:
        value = layout.tpm if units != "counts" else layout.counts
        raise ExpressionError(
            f"{name}: the columns are those of one sample's {layout.described} file "
            f"({', '.join(layout.header)}), not samples: give the file's path (the sample is "
            f"named after it), or one column per sample, e.g. frame[[{value!r}]].rename("
            f"columns={{{value!r}: 'S1'}})"
        )
    chosen = _quantifier_units(layout, units, name)
    samples = list(frame.columns[len(layout.header) - 1 :])
    if not samples:
        raise ExpressionError(f"{name}: {layout.described} without count columns")
    lengths = _per_sample(_row_lengths(frame, layout), frame.index, samples)
    return _Loaded(
        frame[samples],
        name,
        units=chosen,
        lengths=lengths,
        column=_count_columns(len(samples)),
        tool=layout.described,
        lengths_note=f"TPM from counts and its {layout.length} column",
        kind=layout.tool,
        alignment_columns=_alignment_columns(layout, samples),
    )


def _load_files(paths: Sequence[object], units: str | None, layer: str | None) -> _Loaded:
    """Several files, one matrix: their columns side by side, on the same genes."""
    if not paths:
        raise ExpressionError("an empty list of expression files: give at least one file")
    loaded: list[_Loaded] = []
    for path in paths:
        if not isinstance(path, str | os.PathLike):
            raise ExpressionError(
                f"a list of expression matrices holds file paths, not {type(path).__name__}"
            )
        loaded.append(_load(path, units, layer))
    if len(loaded) == 1:
        return loaded[0]
    loaded = _told_apart(loaded, paths)
    quantified = [one.units is not None for one in loaded]
    if any(quantified) and not all(quantified):
        listed = "; ".join(
            f"{one.name}: {one.kind if one.units is None else one.kind + ' output'}"
            for one in loaded[:6]
        )
        raise ExpressionError(
            f"the {len(loaded)} files mix quantifier output and genes × samples matrices "
            f"({listed}): give files of one kind"
        )
    if len({one.units for one in loaded}) > 1:
        listed = "; ".join(f"{one.name}: {one.units}" for one in loaded[:6])
        raise ExpressionError(
            f"the {len(loaded)} files would be read in different units ({listed}; featureCounts "
            "holds counts only): declare units='counts' to read the counts of every file"
        )
    first_kind = loaded[0].kind
    samples = [str(c) for one in loaded for c in one.frame.columns]
    twice = repeated(samples)
    if twice:
        holding = {
            s: [one.name for one in loaded if s in {str(c) for c in one.frame.columns}]
            for s in twice[:3]
        }
        listed = "; ".join(f"{s!r} in {', '.join(names)}" for s, names in holding.items())
        fix = (
            "a file named quant.sf, quant.genes.sf or abundance.tsv is named after its folder: "
            "give each sample its own folder, or rename the files, e.g. S1.quant.genes.sf"
            if first_kind != "matrix"
            else "a sample's scores would be ambiguous: rename or drop the repeated sample "
            "columns, or give each sample once"
        )
        raise ExpressionError(
            f"sample names must be unique across the files; repeated: {listed} ({fix})"
        )
    first = loaded[0]
    frames = [first.frame]
    lengths = [first.lengths]
    for one in loaded[1:]:
        if one.frame.index.equals(first.frame.index):
            frames.append(one.frame)
            lengths.append(one.lengths)
            continue
        index, other = first.frame.index, one.frame.index
        if index.has_duplicates or other.has_duplicates or set(index) != set(other):
            only_first = [str(g) for g in index.difference(other)[:3]]
            only_other = [str(g) for g in other.difference(index)[:3]]
            raise ExpressionError(
                f"{one.name} and {first.name} do not hold the same genes ({len(other):,} and "
                f"{len(index):,} rows; only in {one.name}: {', '.join(only_other) or '—'}; only "
                f"in {first.name}: {', '.join(only_first) or '—'}; or a gene is repeated): "
                "combine files quantified against the same annotation"
            )
        frames.append(one.frame.reindex(index))
        lengths.append(None if one.lengths is None else one.lengths.reindex(index))
    names = [one.name for one in loaded]
    shown = ", ".join(names[:3]) + (f", … ({len(names) - 3:,} more)" if len(names) > 3 else "")
    return _Loaded(
        pd.concat(frames, axis=1),
        f"{len(loaded):,} files ({shown})",
        units=first.units,
        lengths=None if any(x is None for x in lengths) else pd.concat(lengths, axis=1),
        column=first.column if len({one.column for one in loaded}) == 1 else "the count columns",
        tool=f"each {first.kind} file" if len({one.kind for one in loaded}) == 1 else "each file",
        lengths_note=first.lengths_note,
        kind=first.kind,
        alignment_columns=frozenset(c for one in loaded for c in one.alignment_columns),
        from_anndata=all(one.from_anndata for one in loaded),
    )


def _told_apart(loaded: list[_Loaded], paths: Sequence[object]) -> list[_Loaded]:
    """Files of one name in several folders named with as many of their folders as tell them
    apart (``run1/P1/quant.genes.sf``, ``run2/P1/quant.genes.sf``)."""
    names = [one.name for one in loaded]
    twice = set(repeated(names))
    if not twice:
        return loaded
    parts = [Path(cast("str | os.PathLike[str]", p)).resolve().parts for p in paths]
    depth = max(len(Path(n).parts) for n in names)
    shown = list(names)
    while repeated(shown) and depth < max(len(f) for f in parts):
        depth += 1
        shown = [
            "/".join(f[-depth:]).lstrip("/") if n in twice else n
            for n, f in zip(names, parts, strict=True)
        ]
    return [replace(one, name=n) for one, n in zip(loaded, shown, strict=True)]


def _from_anndata(adata: Any, name: str = "AnnData", layer: str | None = None) -> pd.DataFrame:
    """An AnnData's ``X`` (or its ``layer``) as genes × samples."""
    layers = ", ".join(repr(str(k)) for k in adata.layers) or "none"
    if layer is not None:
        if layer not in adata.layers:
            raise ExpressionError(
                f"{name}: no layer {layer!r} in the AnnData (layers: {layers}): give one of "
                "them, or leave layer out to read X"
            )
        x = adata.layers[layer]
    else:
        x = adata.X
    if x is None:
        raw = "; it also has .raw" if adata.raw is not None else ""
        hint = (
            f"give the layer to score, e.g. layer={next(iter(adata.layers))!r}"
            if len(adata.layers)
            else "build one with X set to the values to score"
        )
        raise ExpressionError(
            f"{name}: the AnnData has no X matrix (layers: {layers}{raw}); the expression values "
            f"are read from X unless a layer is named: {hint}"
        )
    _refuse_var_row_numbers(adata, name)
    dense = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    if layer is None:  # uns['log1p'] describes X
        _refuse_natural_log(adata, dense, name)
    return pd.DataFrame(
        dense.T, index=[str(v) for v in adata.var_names], columns=[str(o) for o in adata.obs_names]
    )


def _refuse_var_row_numbers(adata: Any, name: str) -> None:
    """Refuse an AnnData whose ``var_names`` are row numbers (``anndata.AnnData(X)`` without
    gene names), naming the ``var`` columns that hold gene identifiers."""
    numbers = _row_numbers(list(adata.var_names))
    if numbers is None:
        return
    table = GeneTable.shipped()
    var = adata.var
    holding = [
        str(column)
        for column in var.columns
        if not pd.api.types.is_numeric_dtype(var[column])
        and 2 * sum(s is not None for s in table.to_symbols(var[column].iloc[:200]).symbols)
        >= min(len(var), 200)
    ]
    fix = (
        f"var column {holding[0]!r} holds gene identifiers: set adata.var_names = "
        f"adata.var[{holding[0]!r}]"
        if holding
        else "set adata.var_names to the genes (HGNC symbols, Ensembl or Entrez IDs)"
    )
    columns = ", ".join(repr(str(c)) for c in list(var.columns)[:8]) or "none"
    raise ExpressionError(
        f"{name}: var_names are the row numbers {numbers[0]}, {numbers[0] + 1}, … {numbers[1]}, "
        f"not genes (read as Entrez IDs they would be unrelated genes: 1 is A1BG, 2 is A2M); "
        f"var columns: {columns}. {fix[0].upper()}{fix[1:]}"
    )


_LARGEST_LOG_VALUE = 50.0
"""Above this, X holds linear values (log1p of 10¹² is 27.6): a ``log1p`` mark in ``uns`` then
describes a layer, not X."""


def _refuse_natural_log(adata: Any, dense: np.ndarray, name: str) -> None:
    """Refuse an X that scanpy's ``pp.log1p`` logged in a base other than 2.

    ``scanpy.pp.log1p`` takes the natural logarithm unless given ``base`` and marks the AnnData
    with ``uns['log1p'] = {'base': ...}`` (an h5ad file drops a ``None`` base). Read as
    log2(TPM + c), such values would shrink every linear value by the power ln 2 (GZMA 100 →
    about 23).
    """
    uns = getattr(adata, "uns", None)
    mark = uns.get("log1p") if isinstance(uns, Mapping) else None
    if not isinstance(mark, Mapping):
        return
    base = mark.get("base")
    if isinstance(base, int | float) and not isinstance(base, bool) and base == 2:
        return
    with np.errstate(invalid="ignore"):
        largest = float(np.nanmax(dense)) if dense.size else 0.0
    if largest > _LARGEST_LOG_VALUE:
        return
    written = "e (natural)" if base is None else f"{base:g}" if isinstance(base, float) else base
    raise ExpressionError(
        f"{name}: uns['log1p'] marks X as log1p values of base {written} (scanpy.pp.log1p), "
        "but immunoprecise reads log2(TPM + c) or linear values: give the linear values "
        "(np.expm1(X) with units='tpm' or 'counts'), or log2 values (np.log2(np.expm1(X) + 1) "
        "with units='log2tpm'), or remove uns['log1p'] if X is not what it describes"
        + (
            f"; or read a layer of linear values, e.g. layer={next(iter(adata.layers))!r} "
            f"(layers: {', '.join(repr(str(k)) for k in adata.layers)})"
            if len(adata.layers)
            else ""
        )
    )


_NAME_COLUMNS = frozenset(
    {
        "gene_name",
        "gene_names",
        "gene_symbol",
        "genesymbol",
        "symbol",
        "hgnc_symbol",
        "gene",
        "description",
        "name",
    }
)
"""Headers of a second identifier column before the samples (nf-core/rnaseq's merged tables:
``gene_id, gene_name, …``; GCT's ``Name, Description, …``)."""


def _second_identifier_column(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """A matrix whose first column holds a second kind of gene identifier (text, under a header
    such as ``gene_name``): the identifiers that map more distinct genes become the rows, the
    other ones are not read, and the returned note says so. Other matrices are returned as
    given."""
    if frame.shape[1] < 2 or str(frame.columns[0]).strip().lower() not in _NAME_COLUMNS:
        return frame, ""
    header = frame.columns[0]
    column = frame[header]
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return frame, ""
    table = GeneTable.shipped()
    step = max(1, len(frame) // 5000)
    # distinct genes, not rows mapped: a column repeating one word ("na" in GCT files, an HGNC
    # alias of XK) maps every row to a single gene
    by_index = len(set(table.to_symbols(frame.index[::step]).symbols) - {None})
    by_column = len(set(table.to_symbols(column.iloc[::step]).symbols) - {None})
    index_name = str(frame.index.name) if frame.index.name is not None else "the first column"
    samples = frame.drop(columns=[header])
    if by_column > by_index:
        rows = pd.Index(column.to_numpy(), name=header)
        return samples.set_axis(
            rows, axis=0
        ), f"genes read from column {header} ({index_name} not read)"
    return samples, f"genes read from {index_name} (column {header} not read)"


def _numeric(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    logical = [str(c) for c, d in frame.dtypes.items() if pd.api.types.is_bool_dtype(d)]
    if logical:
        raise ExpressionError(
            f"{name}: sample {logical[0]} holds True/False values ({len(logical):,} such "
            "column(s)), not expression values (expected numbers)"
        )
    if all(pd.api.types.is_numeric_dtype(d) for d in frame.dtypes):
        out = frame
    else:
        out = frame.apply(pd.to_numeric, errors="coerce")
        bad = out.isna() & frame.notna()
        if bad.to_numpy().any():
            rows, cols = np.nonzero(bad.to_numpy())
            gene, sample = frame.index[rows[0]], frame.columns[cols[0]]
            raise ExpressionError(
                f"{name}: {counted(len(rows), 'non-numeric value')}, e.g. gene {gene}, sample "
                f"{sample}: {frame.iat[rows[0], cols[0]]!r} (expected a number)"
            )
    return out


LOG2_TPM_MAX = 21.0
"""Largest log2 TPM accepted: log2(10⁶ + 1) ≈ 19.93, TPM's ceiling, with room for rounding."""


def _first_cell(
    frame: pd.DataFrame, values: np.ndarray, mask: np.ndarray
) -> tuple[object, object, float] | None:
    """Gene, sample and value of the first cell where ``mask`` holds (``None`` if none)."""
    if not mask.any():
        return None
    rows, cols = np.nonzero(mask)
    return frame.index[rows[0]], frame.columns[cols[0]], float(values[rows[0], cols[0]])


def _check_and_scale(
    frame: pd.DataFrame,
    values: np.ndarray,
    units: str,
    gene_lengths: pd.Series | pd.DataFrame | None,
    name: str,
    lengths_label: str = "gene_lengths",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Refuse negative linear values; return the values to keep and the per-sample factor
    turning counts (÷ gene length, when given) into per-million values, or ``None``.

    ``values`` may be a view of the caller's DataFrame and is never written: counts divided by
    gene lengths are a new array."""
    if units == "log2tpm":
        # TPM sums to 10⁶ per sample, so log2(TPM + offset) cannot exceed ~20 (log2 10⁶ ≈ 19.93)
        found = _first_cell(frame, values, values > LOG2_TPM_MAX)
        if found is not None:
            gene, sample, value = found
            raise ExpressionError(
                f"{name}: log2 TPM value {value:g} at gene {gene}, sample {sample} is above "
                f"{LOG2_TPM_MAX:g} (TPM cannot exceed 10⁶): are these linear values? "
                "Declare units='tpm' or 'counts'"
            )
        return values, None
    found = _first_cell(frame, values, values < 0)
    if found is not None:
        gene, sample, value = found
        raise ExpressionError(
            f"{name}: negative {units} value at gene {gene}, sample {sample}: {value:g} "
            "(counts and TPM are ≥ 0; declare units='log2tpm' if the values are logarithms)"
        )
    if units == "tpm":
        # a TPM is a gene's share of a million transcripts: larger values are not TPM (and
        # summing repeated genes or rescaling them could overflow)
        found = _first_cell(frame, values, values > TPM_MAX)
        if found is not None:
            gene, sample, value = found
            raise ExpressionError(
                f"{name}: TPM value {value:g} at gene {gene}, sample {sample} is above 10⁶ (a "
                "TPM cannot exceed one million): are these counts? Declare units='counts'"
            )
        with np.errstate(over="ignore"):
            sums = np.nansum(values, axis=0)
        over = np.flatnonzero(sums > TPM_SUM_MAX)
        if over.size:
            raise ExpressionError(
                f"{name}: TPM values of sample {frame.columns[over[0]]} sum to "
                f"{float(sums[over[0]]):.4g} ({over.size:,} of {sums.size:,} samples above "
                f"{TPM_SUM_MAX:.0e}; column sums {float(sums.min()):.4g}–"
                f"{float(sums.max()):.4g}), but a sample's TPM sum to 10⁶: are these counts "
                "(or another scaling)? Declare units='counts' (scaled to a million per sample)"
            )
        return values, None
    if gene_lengths is not None:
        if isinstance(gene_lengths, pd.DataFrame):  # per sample (a quantifier's lengths)
            per_sample = gene_lengths.reindex(index=frame.index, columns=frame.columns)
            length_values = per_sample.to_numpy(dtype=np.float64)
        else:
            length_values = gene_lengths.reindex(frame.index).to_numpy(dtype=np.float64)[:, None]
        with np.errstate(invalid="ignore"):
            invalid = ~(length_values > 0)
        if invalid.any():
            rows = np.flatnonzero(invalid.any(axis=1))
            missing = [str(frame.index[i]) for i in rows[:5]]
            raise ExpressionError(
                f"{name}: {lengths_label} (bp) must be positive for every row; missing or "
                f"invalid for {counted(rows.size, 'row')}, e.g. {', '.join(missing)}"
            )
        # the division by length happens here once: counts become a rate per base pair (a new
        # array: dividing in place would change the caller's DataFrame)
        values = values / length_values
    with np.errstate(over="ignore"):
        totals = np.nansum(values, axis=0)
    if np.any(totals <= 0):
        _refuse_samples_without_counts(frame, values, totals, name)
    with np.errstate(over="ignore", divide="ignore"):
        scale = 1e6 / totals
    unscalable = ~np.isfinite(totals) | ~np.isfinite(scale)
    if unscalable.any():
        sample = frame.columns[int(np.argmax(unscalable))]
        raise ExpressionError(
            f"{name}: the {units} of sample {sample} sum to {totals[np.argmax(unscalable)]:g}, "
            "too large or too small to scale to a million (are the values read correctly?)"
        )
    return values, np.asarray(scale, dtype=np.float64)
