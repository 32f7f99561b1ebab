"""`immunoprecise cohort report` on a cohort whose data allow no statistics in a section (no
event at all) is written with a note in that section, and `cohort predictors` writes negative
differences with the minus sign."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = example_path("fl_cohort.csv")


def _all_censored(tmp_path: Path) -> Path:
    frame = pd.read_csv(COHORT)
    frame["os_event"] = 0
    frame["pfs_event"] = 0
    path = tmp_path / "censored.csv"
    frame.to_csv(path, index=False)
    return path


def test_report_without_events_is_written_with_a_note(tmp_path: Path) -> None:
    source = _all_censored(tmp_path)
    out = tmp_path / "report.html"
    args = ["cohort", "report", str(source), "--out", str(out), "-b", "crp", "--n-boot", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Not computed" in html
    assert "censored" in html
    assert "note:" in result.stderr
    assert "crp" in result.stderr
    assert "Traceback" not in result.output


def test_an_unknown_biomarker_is_still_refused(tmp_path: Path) -> None:
    source = _all_censored(tmp_path)
    out = tmp_path / "report.html"
    args = ["cohort", "report", str(source), "--out", str(out), "-b", "crpp", "--n-boot", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "crpp" in result.stderr
    assert not out.exists()


def test_predictors_write_negative_differences_with_the_minus_sign(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    response = rng.integers(0, 2, 80)
    frame = pd.DataFrame(
        {
            "patient_id": [f"M-{i}" for i in range(80)],
            "response": response,
            "noise": rng.normal(0, 1, 80),
            "good": response + rng.normal(0, 0.5, 80),
        }
    )
    path = tmp_path / "cohort.csv"
    frame.to_csv(path, index=False)
    # noise − good is negative: its estimate and lower bound have the minus sign
    result = runner.invoke(
        app,
        ["cohort", "predictors", str(path), "-p", "noise", "-p", "good"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "noise − good" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "noise − good" in line)
    assert "\u22120." in row
    assert " to " in row
    assert "-0." not in row
