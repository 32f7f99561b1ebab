"""`immunoprecise cohort report --cox … --per-sd`: the report's Cox hazard ratios are per
standard deviation, and the option is recorded with the report's options."""

from __future__ import annotations

from html import unescape
from pathlib import Path

from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cli.cohort import load_cohort_frame
from immunoprecise.cohort import cox_model
from immunoprecise.cohort.statistic import format_number
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = example_path("fl_cohort.csv")


def test_per_sd_reaches_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["cohort", "report", str(COHORT), "--out", str(out), "--cox", "crp", "--n-boot", "0"]
    result = runner.invoke(app, [*args, "--per-sd"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    expected = cox_model(load_cohort_frame(COHORT), ["crp"], scale="sd")
    hr = expected.hazard_ratios["crp"]
    assert "<th>HR per SD (95% CI)</th>" in html
    assert f"{format_number(hr.ci_low)}–{format_number(hr.ci_high)}" in html
    assert f"1 SD ({expected.sd['crp']:.4g})" in html
    assert '"cox_per_sd":true' in unescape(html)


def test_report_without_per_sd_is_per_unit(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["cohort", "report", str(COHORT), "--out", str(out), "--cox", "crp", "--n-boot", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "HR per SD" not in html
    assert '"cox_per_sd":false' in unescape(html)


def test_per_sd_without_a_cox_model_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["cohort", "report", str(COHORT), "--out", str(out), "--per-sd"])
    assert result.exit_code == 2
    assert "--per-sd" in result.stderr
    assert "--cox" in result.stderr
    assert not out.exists()
