"""Advice of the cohort commands names their options (`--order`, `--reference`), not the Python
keywords of the library."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = str(example_path("fl_cohort.csv"))


def test_the_advice_names_the_order_option() -> None:
    args = ["cohort", "survival", COHORT, "--by", "risk.flipi:category", "--trend"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "has text levels" in result.stderr
    assert "--order low,intermediate,high" in result.stderr
    assert "order=[" not in result.stderr


def test_a_covariate_mixing_numbers_and_text_names_the_reference_option(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(
        "patient_id,os_days,os_event,crp\n"
        "P1,100,1,5\nP2,150,1,7\nP3,200,0,.\nP4,250,1,12\nP5,300,0,4\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["cohort", "survival", str(path), "--cox", "crp"])
    assert result.exit_code == 2, result.output
    assert "patient P3 has '.'" in result.stderr
    assert "leave a value not measured empty" in result.stderr
    assert "--reference COLUMN=LEVEL" in result.stderr
    assert "reference_levels=" not in result.stderr
