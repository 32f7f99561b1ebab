"""`immunoprecise cohort survival|response|report --by`: a continuous column is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort import cohort_frame
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = str(example_path("fl_cohort.csv"))
CONTINUOUS = "cd8_foxp3_ratio.interfollicular"


@pytest.mark.parametrize(
    "args",
    [
        ["survival", COHORT, "--by", CONTINUOUS],
        ["survival", COHORT, "--by", CONTINUOUS, "--trend"],
        ["response", COHORT, "--by", CONTINUOUS],
    ],
)
def test_a_continuous_column_is_refused(args: list[str]) -> None:
    distinct = cohort_frame(COHORT)[CONTINUOUS].nunique()
    assert distinct > 10
    result = runner.invoke(app, ["cohort", *args])
    assert result.exit_code == 2, result.output
    assert f"column '{CONTINUOUS}' has" in result.stderr
    assert "distinct values" in result.stderr
    assert f"immunoprecise cohort cutpoint FILE {CONTINUOUS}" in result.stderr
    assert "Traceback" not in result.output


def test_the_report_refuses_a_continuous_column(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(
        app, ["cohort", "report", COHORT, "--out", str(out), "--by", CONTINUOUS, "--n-boot", "0"]
    )
    assert result.exit_code == 2, result.output
    assert "distinct values" in result.stderr
    assert not out.exists()


def test_a_score_with_few_levels_is_a_group() -> None:
    result = runner.invoke(app, ["cohort", "survival", COHORT, "--by", "risk.flipi", "--trend"])
    assert result.exit_code == 0, result.output
    assert "log-rank trend" in result.stdout
