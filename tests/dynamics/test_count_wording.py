"""Counts in simulation and trial output agree with their noun: "1 patient", "2 patients".

Before, a one-patient, one-day trial read "1 patients per arm, 1 days, RECIST every 1 days",
the command "1 arm(s) × 1 virtual patients in 1 chunk(s)", and its report "1 virtual patients
per arm".
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.trials import TrialDesign, run_trial
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ValidationError
from immunoprecise.wording import counted

runner = CliRunner()

ONE = {
    "name": "one",
    "model": "kuznetsov1994",
    "seed": 1,
    "n_per_arm": 1,
    "follow_up_days": 1,
    "assessment_interval_days": 1,
    "population": {"initial": {"T": 1e6}},
    "arms": [{"id": "ctl", "regimen": ""}],
}


@pytest.mark.parametrize(
    ("number", "noun", "plural", "text"),
    [
        (1, "patient", None, "1 patient"),
        (0, "patient", None, "0 patients"),
        (10_000, "patient", None, "10,000 patients"),
        (1.0, "day", None, "1 day"),
        (0.5, "day", None, "0.5 days"),
        (3650.0, "day", None, "3650 days"),
        (2, "bolus", "boluses", "2 boluses"),
        (1, "virtual patient", None, "1 virtual patient"),
    ],
)
def test_counted_agrees_with_the_printed_number(
    number: float, noun: str, plural: str | None, text: str
) -> None:
    assert counted(number, noun, plural) == text


def test_a_one_patient_one_day_trial_summary_reads_in_the_singular() -> None:
    result = run_trial(TrialDesign.model_validate(ONE), scheduler="synchronous")
    summary = result.summary()
    assert "model kuznetsov1994, 1 patient per arm, 1 day, RECIST every 1 day;" in summary
    assert "No PFS event in 1 day of follow-up" in summary
    assert "patients per arm" not in summary
    assert "1 days" not in summary


def test_one_late_dose_starts_and_is_not_simulated() -> None:
    text = Regimen.parse("CAR-T 1e6 cells d0 q21d x3").late_doses_text(30)
    assert text == "1 dose starts after day 30 and is not simulated (CAR-T on day 42)"
    two = Regimen.parse("CAR-T 1e6 cells d0 q21d x3").late_doses_text(20)
    assert two is not None
    assert two.startswith("2 doses start after day 20 and are not")


def test_a_one_patient_chunk_beyond_the_output_cap_says_one_patient() -> None:
    design = {**ONE, "follow_up_days": 365, "assessment_interval_days": 0.00001}
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    message = str(err.value)
    assert "1 patient (n_per_arm) × 36,500,054 output times" in message
    assert "each 1e-05 days" in message
    assert "1 patients" not in message


def test_the_trial_command_and_its_report_count_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(ONE), encoding="utf-8")
    out = tmp_path / "run"
    args = ["trial", str(path), "--out", str(out), "--scheduler", "synchronous", "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "one: 1 arm × 1 virtual patient in 1 chunk →" in result.stderr
    assert "1 chunk computed, 0 reused" in result.stderr
    assert "1 patient per arm" in result.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "1 arm · 1 virtual patient per arm" in html
    assert "<dd>1 day</dd>" in html
    assert "assessed every 1 day;" in html
    assert "1 worker, 1 chunk:" in html
    assert "1 simulation in" in html
    assert "of the 1 kept patient per arm," in html
    assert "(s)" not in html
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "the only chunk reused from" in again.stderr


def test_simulate_over_one_day_says_one_day(tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = ["simulate", "kuznetsov1994", "--t-end", "1", "-o", str(out), "-f", "html"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "kuznetsov1994 · no treatment · 1 day" in result.stdout
    assert "Wrote 1 file to" in result.stderr
    html = (out / "trajectories.html").read_text(encoding="utf-8")
    assert "Simulated for 1 day; 1 virtual patient." in html


def test_simulate_shorter_than_the_first_scan_says_why_recist_is_not_evaluable() -> None:
    result = runner.invoke(app, ["simulate", "kuznetsov1994", "--t-end", "30", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert "scans on days 0" not in result.stderr
    assert "the baseline scan on day 0 only" in result.stderr
    assert (
        "note: best RECIST is NE: only the baseline scan falls within 30 days, and a response "
        "needs a scan after it (every 56 days); give --t-end 56 or more to assess it"
    ) in result.stderr
