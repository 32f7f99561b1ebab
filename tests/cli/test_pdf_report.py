"""The PDF report: `evaluate --format pdf` and `render_pdf` write the HTML report's content."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.report import render_html, render_pdf

runner = CliRunner()


def test_pdf_report_lays_out_the_html_report_on_several_pages() -> None:
    import weasyprint

    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    evaluation = ip.evaluate(record)
    pdf = render_pdf(evaluation, record)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    document = weasyprint.HTML(string=render_html(evaluation, record)).render()
    assert len(document.pages) >= 2  # the whole report, not a truncated first page
    assert len(pdf) > 20_000


def test_evaluate_writes_pdf_files(tmp_path: Path) -> None:
    example = str(ip.data.example_path("nsclc_cold.json"))
    result = runner.invoke(app, ["evaluate", example, "-f", "pdf", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = tmp_path / "SYN-NSCLC-001.pdf"
    assert written.read_bytes().startswith(b"%PDF-")


def test_pdf_to_stdout_is_refused() -> None:
    example = str(ip.data.example_path("nsclc_cold.json"))
    result = runner.invoke(app, ["evaluate", example, "-f", "pdf"])
    assert result.exit_code == 2
    assert "--format pdf needs --out DIR" in result.stderr
