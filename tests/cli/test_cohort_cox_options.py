"""`immunoprecise cohort survival --cox`: the penalizer and the reference level, set, checked and
recorded so that a Cox model printed or written can be fitted again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cli.cohort import load_cohort_frame
from immunoprecise.cohort import cox_model
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = str(example_path("fl_cohort.csv"))


@pytest.fixture
def separated(tmp_path: Path) -> Path:
    """An analysis table where LDH orders the events: no finite unpenalized Cox fit."""
    path = tmp_path / "separated.csv"
    pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(20)],
            "os_days": np.arange(1.0, 21.0),
            "os_event": [1] * 10 + [0] * 10,
            "ldh": np.arange(20.0, 0.0, -1.0),
        }
    ).to_csv(path, index=False)
    return path


def test_the_advice_of_a_fit_that_does_not_converge_names_the_option(separated: Path) -> None:
    result = runner.invoke(app, ["cohort", "survival", str(separated), "--cox", "ldh"])
    assert result.exit_code == 2, result.output
    assert "did not converge" in result.stderr
    assert "--penalizer 0.1" in result.stderr
    assert "penalizer=" not in result.stderr  # the Python keyword is not an option of the CLI


def test_the_report_takes_the_penalizer_it_advises(separated: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["cohort", "report", str(separated), "--out", str(out), "--cox", "ldh"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--penalizer 0.1" in result.stderr
    assert "cohort survival" not in result.stderr  # the report's own option, not another's
    penalized = runner.invoke(app, [*args, "--penalizer", "0.1"])
    assert penalized.exit_code == 0, penalized.output
    html = out.read_text(encoding="utf-8")
    assert "ridge penalizer 0.1)" in html
    expected = cox_model(load_cohort_frame(separated), ["ldh"], penalizer=0.1)
    assert f"{expected.hazard_ratios['ldh'].estimate:.3g}" in html


def test_the_report_uses_the_reference_level_given(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["cohort", "report", COHORT, "--out", str(out), "--cox", "risk.flipi:category"]
    result = runner.invoke(app, [*args, "--reference", "risk.flipi:category=high"])
    assert result.exit_code == 0, result.output
    assert "Reference levels: risk.flipi:category = high" in out.read_text(encoding="utf-8")
    refused = runner.invoke(
        app, ["cohort", "report", COHORT, "--out", str(out), "--penalizer", "1"]
    )
    assert refused.exit_code == 2
    assert "name its covariates with --cox" in refused.stderr


def test_a_penalized_fit_is_printed_and_written_with_its_penalizer(
    separated: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    args = ["cohort", "survival", str(separated), "--cox", "ldh", "--penalizer", "0.1"]
    result = runner.invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "ridge penalizer 0.1" in result.stdout
    cox = json.loads(out.read_text())["cox"]
    assert cox["penalizer"] == 0.1
    assert "ridge penalizer 0.1" in cox["hazard_ratios"]["ldh"]["method"]
    # the same fit as the Python call with the recorded penalizer
    again = cox_model(load_cohort_frame(separated), ["ldh"], penalizer=cox["penalizer"])
    assert again.hazard_ratios["ldh"].estimate == pytest.approx(
        cox["hazard_ratios"]["ldh"]["estimate"], rel=1e-12
    )


def test_an_unpenalized_fit_records_a_penalizer_of_zero() -> None:
    model = cox_model(COHORT, ["crp"])
    assert model.penalizer == 0.0
    assert "penalizer" not in model.hazard_ratios["crp"].method


@pytest.mark.parametrize("value", ["-0.1", "nan", "inf"])
def test_a_penalizer_out_of_range_is_refused_naming_the_option(value: str) -> None:
    result = runner.invoke(
        app, ["cohort", "survival", COHORT, "--cox", "crp", "--penalizer", value]
    )
    assert result.exit_code == 2, result.output
    assert f"--penalizer {float(value)} is out of range" in result.stderr
    assert "Traceback" not in result.output


def test_the_reference_level_sets_the_cox_terms(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["cohort", "survival", COHORT, "--endpoint", "pfs", "--cox", "risk.flipi:category"]
    result = runner.invoke(
        app, [*args, "--reference", "risk.flipi:category=high", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    cox = json.loads(out.read_text())["cox"]
    assert cox["reference_levels"] == {"risk.flipi:category": "high"}
    assert sorted(cox["hazard_ratios"]) == [
        "risk.flipi:category=intermediate",
        "risk.flipi:category=low",
    ]
    assert "risk.flipi:category=low" in result.stdout
    assert "reference level: risk.flipi:category = high" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reference", "risk.flipi:category"], "write COLUMN=LEVEL"),
        (["--reference", "=low"], "write COLUMN=LEVEL"),
        (
            ["--reference", "risk.flipi:category=low", "--reference", "risk.flipi:category=high"],
            "given a reference level twice",
        ),
        (["--reference", "risk.flipi:category=poor"], "'poor' of 'risk.flipi:category' is not"),
        (["--reference", "stage=III"], "not among the covariates"),
        (["--reference", "crp=5"], "numeric covariate(s) ['crp']"),
    ],
)
def test_a_bad_reference_is_refused_with_the_reason(args: list[str], message: str) -> None:
    result = runner.invoke(
        app, ["cohort", "survival", COHORT, "--cox", "risk.flipi:category", "--cox", "crp", *args]
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["--penalizer", "0.1"], ["--reference", "crp=5"]])
def test_a_cox_option_without_a_cox_model_is_refused(args: list[str]) -> None:
    result = runner.invoke(app, ["cohort", "survival", COHORT, *args])
    assert result.exit_code == 2, result.output
    assert "name its covariates with --cox" in result.stderr


def test_patients_left_out_of_the_cox_model_are_named(tmp_path: Path) -> None:
    # three patients have OS but no LDH: the curves keep them, the Cox model leaves them out
    path = tmp_path / "ldh.csv"
    rng = np.random.default_rng(3)
    ldh = rng.uniform(100.0, 400.0, 20).round(0).tolist()
    ldh[2] = ldh[5] = ldh[7] = None
    pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(20)],
            "os_days": rng.uniform(30.0, 900.0, 20).round(0),
            "os_event": rng.integers(0, 2, 20),
            "ldh": ldh,
        }
    ).to_csv(path, index=False)
    result = runner.invoke(app, ["cohort", "survival", str(path), "--cox", "ldh"])
    assert result.exit_code == 0, result.output
    assert "n=17" in result.stdout
    assert "left out (from the Cox model: no ldh): P02, P05, P07" in result.stdout
