"""The Kaplan–Meier figure: one line per group, the risk table, the test in the title."""

from __future__ import annotations

import pandas as pd
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
    assert f"log-rank χ² = {km.log_rank.estimate:.3f}" in main.get_title()  # as printed
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


def test_kaplan_meier_draws_group_labels_as_written() -> None:
    """Group levels are data: dollar signs are text, never TeX (which mislabels '$5-$10' and
    cannot draw '$a^$' at all)."""
    frame = pd.DataFrame(
        {
            "os_days": [10.0, 20, 30, 40, 50, 60],
            "os_event": [1, 0, 1, 0, 1, 1],
            "cost": ["$a^$", "$a^$", "$5-$10", "$5-$10", "x", "x"],
        }
    )
    km = kaplan_meier(frame, group="cost")
    fig = pl.kaplan_meier(km)
    svg = pl.figure_svg(fig)  # drawing every text: TeX parsing used to raise here
    assert svg.startswith("<svg")
    main, table = fig.axes
    legend = main.get_legend()
    assert legend is not None
    assert all(not t.get_parse_math() for t in legend.get_texts())
    assert [t.get_text() for t in legend.get_texts()] == [
        "$5-$10 (n=2, 1 event)",
        "$a^$ (n=2, 1 event)",
        "x (n=2, 2 events)",
        "censored",
    ]
    assert all(not t.get_parse_math() for t in table.get_yticklabels())
    assert not main.title.get_parse_math()
