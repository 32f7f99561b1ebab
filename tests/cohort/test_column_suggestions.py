"""A column named as in the input table, by its stem or with a typo is answered with the
analysis column the user most likely meant, on every command."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort.frame import did_you_mean, no_column
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = str(example_path("fl_cohort.csv"))


@pytest.mark.parametrize(
    ("args", "meant"),
    [
        # the input table's own column name, as the statistician has it in front of them
        (["response", COHORT, "--by", "risk_flipi_category"], "'risk.flipi:category'"),
        (["survival", COHORT, "--by", "risk_flipi_category"], "'risk.flipi:category'"),
        (["survival", COHORT, "--cox", "flipi"], "'risk.flipi' or 'risk.flipi:category'"),
        (
            ["cutpoint", COHORT, "cd8_foxp3_ratio", "--n-boot", "0"],
            "'cd8_foxp3_ratio.interfollicular' or 'cd8_foxp3_ratio.intrafollicular'",
        ),
        (["cutpoint", COHORT, "crp_mg_per_L", "--n-boot", "0"], "'crp'"),
        (["predictors", COHORT, "-p", "CRP"], "'crp'"),
        (["predictors", COHORT, "-p", "crp", "--outcome", "best_respons"], "'best_response'"),
    ],
)
def test_a_missing_column_names_the_one_meant(args: list[str], meant: str) -> None:
    result = runner.invoke(app, ["cohort", *args])
    assert result.exit_code == 2, result.output
    assert f"(did you mean {meant}?)" in result.stderr
    assert "Traceback" not in result.output


def test_no_suggestion_without_a_close_name() -> None:
    table = pd.DataFrame(columns=["os_days", "os_event", "crp", "ecog"])
    assert did_you_mean("stage", list(table.columns)) == ""
    message = no_column(table, "stage", what=" to stratify by")
    assert message == (
        "the cohort has no column 'stage' to stratify by; columns are: os_days, os_event, crp, ecog"
    )
