"""``immunoprecise score-expression``: expression signatures and ``icb_response`` per sample."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from immunoprecise.cli.paths import output_file
from immunoprecise.errors import ImmunopreciseError
from immunoprecise.wording import counted

__all__ = ["cli_wording", "score_expression_command"]

EXIT_INVALID_INPUT = 2
MAX_TABLE_ROWS = 30
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def score_expression_command(
    matrix: Annotated[
        list[Path],
        typer.Argument(
            help="Genes × samples matrix: TSV/CSV (.gz allowed; gene identifiers in the first "
            "column: HGNC symbols, Ensembl or Entrez IDs), GCT 1.2, a GEO series matrix or "
            "AnnData .h5ad (X, or the layer given with --layer); or "
            "quantifier output (Salmon quant.genes.sf, kallisto abundance.tsv, RSEM "
            "*.genes.results or *.isoforms.results, featureCounts, GDC/TCGA "
            "*.augmented_star_gene_counts.tsv), recognised by its header: "
            "one sample per file, named after the file (or its folder for quant.genes.sf / "
            "abundance.tsv); featureCounts samples are named after their BAM files "
            "(/data/run1/S01.sorted.bam → S01); RSEM isoforms, and Salmon/kallisto "
            "transcripts named by their GENCODE FASTA header, are summed into genes. Several "
            "files are combined into one matrix (same genes; sample names unique).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write all scores to this TSV (samples × scores).",
            callback=output_file(),
        ),
    ] = None,
    units: Annotated[
        str | None,
        typer.Option(
            help="Scale of the values: counts, tpm or log2tpm, any case (detected when omitted; "
            "the evidence is printed). Quantifier output: its TPM column is read, or its "
            "counts with --units counts."
        ),
    ] = None,
    log2_offset: Annotated[
        float | None,
        typer.Option(help="For log2 values: the c of log2(TPM + c), ≥ 0 (detected when omitted)."),
    ] = None,
    deconvolution: Annotated[
        bool,
        typer.Option(
            "--deconvolution/--no-deconvolution",
            help="Also estimate cell fractions (quanTIseq method, TIL10) and MCP-counter scores.",
        ),
    ] = True,
    layer: Annotated[
        str | None,
        typer.Option(
            help="For an .h5ad file: the layer to score instead of X, e.g. counts "
            "(adata.layers['counts']).",
            show_default=False,
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            help="Custom deconvolution reference: genes × cell types TSV/CSV in TPM, used as "
            "given, without TIL10's mRNA-content scaling (default: quanTIseq TIL10).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Score bulk tumor RNA-seq: CYT, IFN-γ6, GEP18, IMPRES, IPS, immunogram axes, cell
    fractions, and icb_response (higher = more likely to respond to checkpoint blockade).

    Prints each signature's gene coverage (a signature with fewer than half of its genes is not
    scored, and the missing genes are named) and a table of the headline scores.

    Research decision support, not a medical device.

    Example: immunoprecise score-expression tumor_tpm.tsv --units tpm --out scores.tsv

    Example: immunoprecise score-expression salmon/*/quant.genes.sf --out scores.tsv
    """
    from immunoprecise.profile.expression import SCORE_COLUMNS, score_expression
    from immunoprecise.profile.expression.matrix import Units

    try:
        with _err.status("Scoring expression…") as status:
            table = score_expression(
                matrix[0] if len(matrix) == 1 else matrix,
                # checked (any case) by the library, whose message names the allowed values
                units=cast("Units | None", units),
                log2_offset=log2_offset,
                deconvolution=deconvolution,
                reference=reference,
                progress=lambda name: status.update(f"Scoring expression: {name}…"),
                layer=layer,
            )
    except ImmunopreciseError as exc:
        _err.print(f"error: {cli_wording(str(exc))}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    except ValueError as exc:  # a custom reference that cannot be used
        _err.print(f"error: {cli_wording(str(exc))}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    _err.print(f"{table.attrs['source']}: {counted(len(table), 'sample')}", markup=False)
    _err.print(f"units: {cli_wording(table.attrs['units'])}", markup=False)
    _err.print(f"genes: {cli_wording(table.attrs['genes'])}", markup=False)
    for line in table.attrs["coverage"]:
        _err.print(f"  {cli_wording(line)}", markup=False)
    shown = Table(title="Expression scores (research use; not a medical device)")
    shown.add_column("sample")
    for column in SCORE_COLUMNS:
        shown.add_column(column, justify="right")
    for sample, row in table.head(MAX_TABLE_ROWS).iterrows():
        shown.add_row(
            str(sample), *(f"{row[c]:.3g}" if row[c] == row[c] else "—" for c in SCORE_COLUMNS)
        )
    _out.print(shown)
    if len(table) > MAX_TABLE_ROWS:
        _out.print(f"… {len(table) - MAX_TABLE_ROWS} more samples in the written file")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, sep="\t", float_format="%.6g")
        _err.print(f"Wrote {out}", markup=False)


_QUOTED = r"'([^'\s]*)'"
_CLI_WORDING: tuple[tuple[re.Pattern[str], str], ...] = (
    # units='tpm' or 'counts' → --units tpm or counts
    (
        re.compile(rf"\bunits={_QUOTED}((?: or {_QUOTED})*)"),
        "--units {0}{1}",
    ),
    (re.compile(r"\blog2_offset=([^\s,;:)]+)"), "--log2-offset {0}"),
    (re.compile(r"\blog2_offset\b"), "--log2-offset"),
    (re.compile(r"\bleave units out\b"), "leave --units out"),
    (re.compile(r"^units must be\b"), "--units must be"),
    (re.compile(r"\bleave reference out\b"), "leave --reference out"),
    (re.compile(rf"\blayer={_QUOTED}"), "--layer {0}"),
    (re.compile(r"\bleave layer out\b"), "leave --layer out"),
    (re.compile(r"\bdeconvolution=False\b"), "--no-deconvolution"),
)


def cli_wording(message: str) -> str:
    """A message of the expression library with its options as typed on the command line.

    The library names its keyword arguments (``units='log2tpm'``, ``log2_offset``); the
    ``score-expression`` command takes the same settings as options (``--units log2tpm``,
    ``--log2-offset``), so its messages say those.

    Parameters
    ----------
    message
        An error message or note from :func:`immunoprecise.score_expression`.

    Returns
    -------
    str
        The message with each option in command-line wording; other text unchanged.

    Examples
    --------
    >>> cli_wording("declare units='tpm' or 'counts'")
    'declare --units tpm or counts'
    >>> cli_wording("log2_offset=0.5 was given; leave log2_offset out to detect it")
    '--log2-offset 0.5 was given; leave --log2-offset out to detect it'
    """
    for pattern, replacement in _CLI_WORDING:
        message = pattern.sub(partial(_filled, replacement), message)
    return message


def _filled(replacement: str, found: re.Match[str]) -> str:
    """``replacement`` with the groups of ``found``: quotes dropped from a list of values."""
    groups = [(g or "").replace("'", "") for g in found.groups()[:2]]
    return replacement.format(*groups)
