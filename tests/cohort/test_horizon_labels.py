"""Survival horizons and at-risk days read as a clinician reads them, the same everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort import kaplan_meier
from immunoprecise.cohort.cutpoint import Cutpoint, horizon_text, optimal_cutpoint
from immunoprecise.cohort.statistic import format_day
from immunoprecise.report.cohort import CohortReportOptions, render_cohort_html

runner = CliRunner()
DAYS_PER_MONTH = 30.4375


def _months_table() -> pd.DataFrame:
    """Follow-up recorded in months (one decimal) and converted to days, under five years:
    the last event falls on a day with a fraction (32.1 months = day 977.04375)."""
    rng = np.random.default_rng(3)
    n = 60
    months = rng.uniform(1.0, 30.0, n).round(1)
    months[0] = 32.1  # the last event
    event = rng.integers(0, 2, n)
    event[0] = 1
    months[1], event[1] = 32.6, 0  # followed a little longer, censored
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(n)],
            "os_days": months * DAYS_PER_MONTH,
            "os_event": event,
            "tmb": rng.lognormal(1.5, 0.6, n).round(2),
        }
    ).set_index("patient_id")


@pytest.fixture(scope="module")
def default_horizon() -> Cutpoint:
    return optimal_cutpoint(_months_table(), "tmb", n_boot=0)


def test_a_default_horizon_at_the_last_event_reads_as_its_day(default_horizon: Cutpoint) -> None:
    res = default_horizon
    assert res.horizon_basis == "last event"
    assert res.horizon_days == pytest.approx(32.1 * DAYS_PER_MONTH)  # the value is kept exact
    assert res.horizon_text == "day 977"
    summary = res.summary()
    assert summary.startswith("OS at day 977: ")
    assert "day-" not in summary
    assert "977.04" not in summary
    for group in res.groups:
        assert group.survival_at_horizon.name == "OS at day 977"


@pytest.mark.parametrize(
    ("given", "text", "opening"),
    [
        (977.5, "day 977.5", "OS at day 977.5: "),
        (730.0, "day 730", "OS at day 730: "),
        (365.25, "1 year", "1-year OS "),
        (547.875, "18 months", "18-month OS "),
    ],
)
def test_a_given_horizon_reads_as_given(given: float, text: str, opening: str) -> None:
    res = optimal_cutpoint(_months_table(), "tmb", n_boot=0, horizon_days=given)
    assert res.horizon_basis == "given"
    assert res.horizon_text == text
    assert res.summary().startswith(opening)
    assert res.groups[0].survival_at_horizon.name == f"OS at {text}"


def test_five_years_reads_as_five_years() -> None:
    assert horizon_text(1826.25, exact=False) == "5 years"
    table = _months_table().assign(os_days=lambda f: f["os_days"] * 2)  # beyond five years
    res = optimal_cutpoint(table, "tmb", n_boot=0)
    assert (res.horizon_basis, res.horizon_text) == ("five years", "5 years")
    assert res.summary().startswith("5-year OS ")


def test_the_horizon_reads_the_same_in_the_cli_the_json_and_the_report(tmp_path: Path) -> None:
    table = _months_table()
    path = tmp_path / "analysis.csv"
    table.to_csv(path)
    out = tmp_path / "cut.json"
    result = runner.invoke(
        app, ["cohort", "cutpoint", str(path), "tmb", "--n-boot", "0", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "survival at day 977 (95% CI)" in result.stdout
    assert "OS at day 977: " in result.stdout
    assert "day-" not in result.stdout
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["horizon_basis"] == "last event"
    assert saved["horizon_days"] == pytest.approx(32.1 * DAYS_PER_MONTH)
    html = render_cohort_html(table, CohortReportOptions(biomarkers=("tmb",), n_boot=0))
    assert "<th>Survival at day 977 (95% CI)</th>" in html
    assert "OS at day 977: " in html
    assert "day-" not in html


def test_the_at_risk_days_of_the_table_are_the_days_the_cli_prints() -> None:
    km = kaplan_meier(_months_table())
    times = km.curves[0].at_risk_times
    assert times[1] == pytest.approx(10 * DAYS_PER_MONTH)  # whole months: day 304.375
    columns = [c for c in km.table().columns if c.startswith("at_risk_day_")]
    assert columns == [f"at_risk_day_{format_day(t)}" for t in times]
    assert columns[:3] == ["at_risk_day_0", "at_risk_day_304", "at_risk_day_609"]


def test_at_risk_days_that_would_read_the_same_keep_their_digits() -> None:
    km = kaplan_meier(_months_table(), at_risk_times=[100.2, 100.4])
    assert [c for c in km.table().columns if c.startswith("at_risk_day_")] == [
        "at_risk_day_100.2",
        "at_risk_day_100.4",
    ]
