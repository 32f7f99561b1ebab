"""The PDF report: `evaluate --format pdf` and `render_pdf` write the HTML report's content."""

from __future__ import annotations

import subprocess
import sys
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


def test_pdf_without_weasyprint_is_refused_before_any_patient(tmp_path: Path) -> None:
    # an interpreter where WeasyPrint cannot be imported, as without the pdf extra
    out = tmp_path / "o"
    examples = [str(ip.data.example_path(n)) for n in ("nsclc_cold.json", "fl_relapsed.json")]
    code = (
        "import sys; sys.modules['weasyprint'] = None; "
        "from immunoprecise.cli.app import main; main()"
    )
    args = ["evaluate", *examples, "-f", "json", "-f", "pdf", "-o", str(out)]
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "error: --format pdf: PDF reports need WeasyPrint" in result.stderr
    assert result.stderr.count("PDF reports need") == 1  # said once, not once per patient
    assert "could not be evaluated" not in result.stderr
    assert not out.exists() or not any(out.iterdir())  # no JSON written for a run that fails
