"""``immunoprecise score-expression``: expression signatures and ``icb_response`` per sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from immunoprecise.cli.paths import output_file
from immunoprecise.errors import ImmunopreciseError

__all__ = ["score_expression_command"]

EXIT_INVALID_INPUT = 2
MAX_TABLE_ROWS = 30
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def score_expression_command(
    matrix: Annotated[
        list[Path],
        typer.Argument(
            help="Genes × samples matrix: TSV/CSV (.gz allowed; gene identifiers in the first "
            "column: HGNC symbols, Ensembl or Entrez IDs), GCT 1.2 or AnnData .h5ad; or "
            "quantifier output (Salmon quant.genes.sf, kallisto abundance.tsv, RSEM "
            "*.genes.results or *.isoforms.results, featureCounts), recognised by its header: "
            "one sample per file, named after the file (or its folder for quant.genes.sf / "
            "abundance.tsv); RSEM isoforms, and Salmon/kallisto transcripts named by their "
            "GENCODE FASTA header, are summed into genes. Several files are combined into one "
            "matrix (same genes; sample names unique).",
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

    folded = units.strip().lower() if units is not None else None
    if folded is not None and folded not in ("counts", "tpm", "log2tpm"):
        _err.print(f"error: --units must be counts, tpm or log2tpm, not {units!r}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT)
    scale: Literal["counts", "tpm", "log2tpm"] | None = folded  # type: ignore[assignment]
    try:
        with _err.status("Scoring expression…") as status:
            table = score_expression(
                matrix[0] if len(matrix) == 1 else matrix,
                units=scale,
                log2_offset=log2_offset,
                deconvolution=deconvolution,
                reference=reference,
                progress=lambda name: status.update(f"Scoring expression: {name}…"),
            )
    except ImmunopreciseError as exc:
        _err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    except ValueError as exc:  # a custom reference that cannot be used
        _err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    _err.print(f"{table.attrs['source']}: {len(table)} samples", markup=False)
    _err.print(f"units: {table.attrs['units']}", markup=False)
    _err.print(f"genes: {table.attrs['genes']}", markup=False)
    for line in table.attrs["coverage"]:
        _err.print(f"  {line}", markup=False)
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
