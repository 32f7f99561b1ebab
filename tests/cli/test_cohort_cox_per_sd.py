"""`immunoprecise cohort survival --cox … --per-sd`: hazard ratios per standard deviation, said
so in the table's header, in a line under it and in the JSON written."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cli.cohort import load_cohort_frame
from immunoprecise.cohort import cox_model
from immunoprecise.cohort.statistic import format_ratio
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = str(example_path("fl_cohort.csv"))


def test_per_sd_hazard_ratios_are_printed_and_written_as_per_sd(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["cohort", "survival", COHORT, "--cox", "crp", "--cox", "risk.flipi:category"]
    result = runner.invoke(app, [*args, "--per-sd", "--json", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    expected = cox_model(
        load_cohort_frame(Path(COHORT)), ["crp", "risk.flipi:category"], scale="sd"
    )
    hr = expected.hazard_ratios["crp"]
    assert "HR per SD (95% CI)" in result.stdout
    assert format_ratio(hr.estimate, hr.ci_low, hr.ci_high) in result.stdout
    assert f"1 SD ({expected.sd['crp']:.4g})" in result.stdout
    assert "not per unit" in result.stdout
    assert "sample SD (ddof=1)" in result.stdout
    written = json.loads(out.read_text(encoding="utf-8"))["cox"]
    assert written["scale"] == "sd"
    assert written["sd"]["crp"] == expected.sd["crp"]
    assert written["hazard_ratios"]["crp"]["name"] == "hazard ratio crp per SD"


def test_without_the_option_hazard_ratios_are_per_unit() -> None:
    result = runner.invoke(
        app, ["cohort", "survival", COHORT, "--cox", "crp"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "HR per SD" not in result.stdout
    assert "per SD" not in result.stdout


def test_per_sd_without_a_cox_model_is_refused() -> None:
    result = runner.invoke(app, ["cohort", "survival", COHORT, "--per-sd"])
    assert result.exit_code == 2
    assert "--per-sd" in result.stderr
    assert "--cox" in result.stderr


def test_term_names_are_never_cut_short_in_a_narrow_terminal() -> None:
    args = ["cohort", "survival", COHORT, "--cox", "risk.flipi:category", "--per-sd"]
    result = runner.invoke(app, args, env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
