"""The Kaplan–Meier figure: one line per group, the risk table, the test in the title."""

from __future__ import annotations

import pytest

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier
from immunoprecise.data import example_path


def test_kaplan_meier_draws_each_group_and_its_numbers_at_risk() -> None:
    km = kaplan_meier(example_path("fl_cohort.csv"), endpoint="pfs", group="risk.flipi:category")
    fig = pl.kaplan_meier(km)
    main, table = fig.axes
    assert len(main.get_lines()) == 3
    assert main.get_xlabel() == "Time (months)"  # follow-up beyond a year is shown in months
    assert km.log_rank is not None
    assert f"log-rank χ² = {km.log_rank.estimate:.2f}" in main.get_title()
    shown = {t.get_text() for t in table.texts}
    for curve in km.curves:
        assert {str(k) for k in curve.at_risk} <= shown
    ticks = [t.get_text() for t in table.get_xticklabels()]
    assert ticks[:3] == ["0", "25", "50"]


def test_kaplan_meier_without_risk_table_and_bad_unit() -> None:
    km = kaplan_meier(example_path("fl_cohort.csv"))
    fig = pl.kaplan_meier(km, risk_table=False, time_unit="days")
    assert len(fig.axes) == 1
    assert fig.axes[0].get_xlabel() == "Time (days)"
    with pytest.raises(ValueError, match="time_unit"):
        pl.kaplan_meier(km, time_unit="weeks")
