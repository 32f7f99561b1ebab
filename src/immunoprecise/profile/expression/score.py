"""``score_expression``: every expression score of every sample in one table."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression import signatures as sig
from immunoprecise.profile.expression.deconvolution import (
    MIN_REFERENCE_GENES,
    CellReference,
    deconvolve,
    mcp_counter,
    mcp_markers,
)
from immunoprecise.profile.expression.genes import GeneTable
from immunoprecise.profile.expression.matrix import ExpressionMatrix, Units, read_expression
from immunoprecise.profile.expression.response import explain_icb_response, icb_response
from immunoprecise.wording import counted

__all__ = ["SCORE_COLUMNS", "score_expression"]

_REST = "(all other genes)"

SCORE_COLUMNS = ("icb_response", "CYT", "IFNG6", "GEP18", "IMPRES", "IPS")
"""The headline scores, first in the table."""


def score_expression(
    matrix: str
    | os.PathLike[str]
    | Sequence[str | os.PathLike[str]]
    | pd.DataFrame
    | ExpressionMatrix
    | Any,
    units: Units | None = None,
    *,
    log2_offset: float | None = None,
    gene_lengths: pd.Series | None = None,
    deconvolution: bool = True,
    reference: CellReference | str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
    layer: str | None = None,
) -> pd.DataFrame:
    """Score a genes × samples expression matrix: signatures, immunogram axes, cell fractions.

    Parameters
    ----------
    matrix
        Path (TSV/CSV(.gz), GCT, a GEO series matrix, ``.h5ad``, or a quantifier's output:
        Salmon ``quant.genes.sf``, RSEM ``*.genes.results``, featureCounts, GDC STAR
        ``*.augmented_star_gene_counts.tsv``), a list of such paths (combined, one column
        per sample), DataFrame (genes × samples), AnnData, or an
        :class:`~immunoprecise.profile.expression.matrix.ExpressionMatrix` already read.
    units
        ``counts``, ``tpm`` or ``log2tpm``; detected when omitted.
    log2_offset, gene_lengths
        See :func:`~immunoprecise.profile.expression.matrix.read_expression`.
    deconvolution
        Also estimate cell fractions (quanTIseq method, TIL10 reference) and MCP-counter scores.
    reference
        A custom deconvolution reference: a :class:`CellReference` or a genes × cell types
        TSV/CSV file in TPM, with at least
        :data:`~immunoprecise.profile.expression.deconvolution.MIN_REFERENCE_GENES` (50) genes
        to fit.
    progress
        Called with the name of each step as it starts.
    layer
        For AnnData: the layer to score instead of ``X`` (e.g. ``"counts"``); see
        :func:`~immunoprecise.profile.expression.matrix.read_expression`.

    Returns
    -------
    pandas.DataFrame
        Samples × scores: ``icb_response`` (0–1), ``CYT`` (TPM), ``IFNG6`` and ``GEP18``
        (log2 TPM scale), ``IMPRES`` (0–15), ``IPS`` (0–10) and its parts, ``IGS1``… (Karasaki
        immunogram axes, within-sample z), ``MCP_<population>`` (mean log2(TPM + 1)),
        ``TIL10_<cell type>`` (fractions 0–1, ``TIL10_Other`` = uncharacterised cells), and
        ``icb_response_explanation``. ``attrs`` hold ``coverage`` (one line per signature: genes
        found and missing), ``units`` (how the scale was decided) and ``genes`` (how identifiers
        were mapped). A signature with fewer than half of its genes is NaN and its coverage line
        says which genes are missing; per sample, CYT, IFNG6, GEP18 and IMPRES are NaN where
        fewer than half of their genes have a value, and ``icb_response`` wherever IMPRES or
        IPS is NaN (missing values are never imputed).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise.data import example_path
    >>> scores = ip.score_expression(example_path("expression_examples.tsv"))
    >>> list(scores.columns[:6])
    ['icb_response', 'CYT', 'IFNG6', 'GEP18', 'IMPRES', 'IPS']
    >>> bool(scores["icb_response"].between(0, 1).all())
    True
    """
    if isinstance(matrix, ExpressionMatrix):
        given = [
            option if option == "gene_lengths" else f"{option}={value!r}"
            for option, value in (
                ("units", units),
                ("log2_offset", log2_offset),
                ("gene_lengths", gene_lengths),
                ("layer", layer),
            )
            if value is not None
        ]
        if given:
            raise ExpressionError(
                f"{', '.join(given)} given with an ExpressionMatrix already read (as "
                f"{matrix.units}: {matrix.units_note}): these options apply when a matrix is "
                "read; pass them to read_expression, or give the file or DataFrame here"
            )
    step = progress if progress is not None else (lambda _name: None)
    ref = _reference(reference) if deconvolution else None
    step("reading the matrix")
    data = (
        matrix
        if isinstance(matrix, ExpressionMatrix)
        else read_expression(
            matrix,
            units=units,
            log2_offset=log2_offset,
            gene_lengths=gene_lengths,
            layer=layer,
        )
    )
    parts: list[sig.SignatureScores] = []
    for name, fn in (
        ("CYT", sig.cytolytic_activity),
        ("IFNG6", sig.ifng6),
        ("GEP18", sig.gep18),
        ("IMPRES", sig.impres),
        ("IPS", sig.immunophenoscore),
    ):
        step(name)
        parts.append(fn(data))
    step("immunogram axes")
    parts.extend(sig.immunogram_axes(data))
    frames = [p.values for p in parts]
    coverage = [p.coverage.message() for p in parts]
    if ref is not None:  # deconvolution asked for
        step("deconvolution")
        cells, cell_notes = _cells(data, ref)
        frames.extend(cells)
        coverage.extend(cell_notes)
    table = pd.concat(frames, axis=1)
    table.insert(0, "icb_response", icb_response(table))
    table["icb_response_explanation"] = [
        explain_icb_response(row) for _, row in table[["IMPRES", "IPS_AZ"]].iterrows()
    ]
    table.index.name = "sample"
    table.attrs = {
        "coverage": coverage,
        "units": data.units_note,
        "genes": data.genes_note,
        "source": data.source,
    }
    return table


def _reference(reference: CellReference | str | os.PathLike[str] | None) -> CellReference:
    """The deconvolution reference: TIL10, or a custom one with enough genes to fit."""
    if reference is None:
        return CellReference.til10()
    ref = reference if isinstance(reference, CellReference) else CellReference.from_file(reference)
    fitted = len(set(ref.signature.index) - set(ref.removed_genes))
    if fitted < MIN_REFERENCE_GENES:
        removed = (
            f" once its {len(ref.removed_genes)} removed genes are left out"
            if (ref.removed_genes)
            else ""
        )
        raise ExpressionError(
            f"reference {ref.name!r}: {counted(fitted, 'gene')}{removed}, fewer than the "
            f"{MIN_REFERENCE_GENES} a deconvolution reference needs (cell fractions fitted on "
            "so few genes are unstable: each gene is one equation of the fit): give a reference "
            f"of at least {MIN_REFERENCE_GENES} marker genes, or leave reference out to use "
            "TIL10 (153 genes)"
        )
    return ref


def _cells(data: ExpressionMatrix, ref: CellReference) -> tuple[list[pd.DataFrame], list[str]]:
    notes: list[str] = []
    frames: list[pd.DataFrame] = []
    # rows are approved symbols; the reference may list previous ones (deconvolve matches them)
    genes = list(dict.fromkeys(GeneTable.shipped().current_symbols(ref.signature.index)))
    fitted = len(set(ref.signature.index) - set(ref.removed_genes))
    # the reference genes plus one row holding the rest of each sample's transcriptome: the
    # method rescales every sample to 10^6 TPM over all genes without copying the whole matrix
    mixture = data.tpm(genes)
    mixture.loc[_REST] = np.maximum(data.tpm_totals() - mixture.sum(axis=0).to_numpy(), 0.0)
    # a gene without any value is not in the matrix; a sample missing a value of a reference
    # gene is not estimated (a missing value is never read as zero), the others are
    complete = np.ones(mixture.shape[1], dtype=bool)
    if mixture.isna().to_numpy().any():
        mixture = mixture[mixture.notna().any(axis=1)]
        complete = mixture.notna().all(axis=0).to_numpy()
    incomplete = [str(s) for s in mixture.columns[~complete]]
    try:
        if not complete.any():
            raise ValueError("every sample misses values of reference genes")
        fitted_mixture = mixture if complete.all() else mixture.loc[:, complete]
        fractions = deconvolve(fitted_mixture, ref).reindex(mixture.columns)
        frames.append(fractions.add_prefix(f"{ref.name}_"))
        skipped = (
            f"; not estimated for {counted(len(incomplete), 'sample')} missing values of reference "
            f"genes: {', '.join(incomplete[:5])}{' …' if len(incomplete) > 5 else ''}"
            if incomplete
            else ""
        )
        notes.append(
            f"{ref.name} deconvolution: {fractions.attrs.get('genes_used', '?')}/{fitted} "
            f"reference genes{skipped}"
        )
    except ValueError as exc:
        notes.append(f"{ref.name} deconvolution: not estimated ({exc})")
    markers = list(dict.fromkeys(g for genes in mcp_markers().values() for g in genes))
    # rows are approved symbols; mcp_counter matches markers listed under previous ones
    mcp = mcp_counter(data.log2(GeneTable.shipped().current_symbols(markers)))
    found = mcp.attrs.get("markers_found", {})
    mcp.columns = [f"MCP_{str(c).replace(' ', '_')}" for c in mcp.columns]
    frames.append(mcp)
    notes.append(
        "MCP-counter: " + ", ".join(f"{pop} {f}/{t}" for pop, (f, t) in found.items())
        if found
        else "MCP-counter: markers counted per population"
    )
    return frames, notes
