"""`immunoprecise cohort survival|response`: what would be misread is refused or printed exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort import kaplan_meier
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = str(example_path("fl_cohort.csv"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # an order without the trend test it is for would be read by nothing
        (["--by", "risk.flipi:category", "--order", "low,intermediate,high"], "add --trend"),
        (["--order", "low,intermediate,high"], "add --trend"),
        # a trend test needs the column whose levels it orders, named as the option
        (["--trend", "--order", "low,intermediate,high"], "--by"),
    ],
)
def test_survival_refuses_an_option_without_its_partner(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["cohort", "survival", COHORT, *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_response_refuses_a_stratum_given_twice() -> None:
    result = runner.invoke(
        app,
        [
            "cohort", "response", COHORT, "--by", "risk.flipi:category",
            "--group", "low=low", "--group", "low=intermediate,high",
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "the stratum 'low' is given twice" in result.stderr


def test_survival_prints_the_days_at_risk_of_a_short_follow_up_as_counted(
    tmp_path: Path,
) -> None:
    table = tmp_path / "short.csv"  # 12 days of follow-up: counted at 0, 2.5, 5, 7.5, 10
    table.write_text(
        "patient_id,os_days,os_event\n"
        + "".join(f"P{i},{d},{i % 2}\n" for i, d in enumerate([1, 3, 4, 6, 8, 9, 11, 12]))
    )
    km = kaplan_meier(pd.read_csv(table))
    assert km.curves[0].at_risk_times == (0.0, 2.5, 5.0, 7.5, 10.0)
    result = runner.invoke(app, ["cohort", "survival", str(table)])
    assert result.exit_code == 0, result.output
    assert "0: 8, 2.5: 7, 5: 5, 7.5: 4, 10: 2" in result.stdout


@pytest.mark.parametrize("command", ["survival", "cutpoint"])
def test_the_endpoint_may_be_written_in_capitals_as_in_papers(command: str) -> None:
    extra = ["cd8_foxp3_ratio.interfollicular", "--n-boot", "20"] if command == "cutpoint" else []
    upper = runner.invoke(app, ["cohort", command, COHORT, *extra, "--endpoint", "PFS"])
    lower = runner.invoke(app, ["cohort", command, COHORT, *extra, "--endpoint", "pfs"])
    assert upper.exit_code == 0, upper.output
    assert upper.stdout == lower.stdout
    assert "PFS" in upper.stdout
