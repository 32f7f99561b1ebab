"""Censoring ticks on Kaplan–Meier curves: kept on the curve model and drawn on the figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.lines import Line2D

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier
from immunoprecise.pl._survival import MAX_CENSOR_MARKS, MAX_STEPS, censor_marks


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "os_days": [10.0, 20, 20, 30, 40, 50, 60, 70],
            "os_event": [1, 0, 0, 1, 0, 1, 1, 0],
            "arm": ["a", "a", "a", "a", "b", "b", "b", "b"],
        }
    )


def test_curve_keeps_censoring_times_and_counts() -> None:
    curves = kaplan_meier(_frame(), group="arm")
    a, b = curves.curves
    assert a.censor_times == (20.0,)
    assert a.censored == (2,)
    assert b.censor_times == (40.0, 70.0)
    assert b.censored == (1, 1)
    assert sum(c.n - c.events for c in curves.curves) == sum(sum(c.censored) for c in curves.curves)


def test_censoring_marks_are_drawn_on_the_curve() -> None:
    curves = kaplan_meier(_frame(), group="arm")
    fig = pl.kaplan_meier(curves, time_unit="days", risk_table=False)
    marks = [
        line
        for line in fig.axes[0].get_lines()
        if line.get_marker() == "|" and line.get_linestyle() == "None"
    ]
    assert len(marks) == 2
    xs = sorted(float(x) for m in marks for x in np.asarray(m.get_xdata()))
    assert xs == [20.0, 40.0, 70.0]
    a_mark = next(m for m in marks if 20.0 in np.asarray(m.get_xdata()))
    assert np.asarray(a_mark.get_ydata()) == pytest.approx([0.75])


def test_legend_names_the_censoring_mark() -> None:
    fig = pl.kaplan_meier(kaplan_meier(_frame(), group="arm"), time_unit="days")
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert "censored" in [t.get_text() for t in legend.get_texts()]
    handle = legend.legend_handles[-1]
    assert isinstance(handle, Line2D)
    assert handle.get_marker() == "|"


def test_no_mark_and_no_legend_entry_without_censoring() -> None:
    f = pd.DataFrame({"os_days": [10.0, 20, 30], "os_event": [1, 1, 1]})
    fig = pl.kaplan_meier(kaplan_meier(f), time_unit="days")
    assert not [line for line in fig.axes[0].get_lines() if line.get_marker() == "|"]
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert "censored" not in [t.get_text() for t in legend.get_texts()]


def test_marks_are_merged_per_time_bin_for_a_large_cohort() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    f = pd.DataFrame(
        {"os_days": rng.uniform(1, 3000, n).round(3), "os_event": rng.integers(0, 2, n)}
    )
    curve = kaplan_meier(f).curves[0]
    t, s = censor_marks(curve, 1.0, 100)
    assert len(curve.censor_times) > 1000
    assert 0 < t.size <= 100
    assert t.size == s.size
    assert censor_marks(curve, 1.0, None)[0].size == len(curve.censor_times)


def _censored_at(count: int) -> pd.DataFrame:
    """``count`` distinct censoring times (days 1…count) and ten events."""
    days = np.concatenate([np.arange(1.0, count + 1), np.linspace(5.5, count - 0.5, 10)])
    events = np.concatenate([np.zeros(count, dtype=int), np.ones(10, dtype=int)])
    return pd.DataFrame({"os_days": days, "os_event": events})


def _ticks(fig: object) -> int:
    lines = fig.axes[0].get_lines()  # type: ignore[attr-defined]
    return sum(len(line.get_xdata()) for line in lines if line.get_marker() == "|")


def test_marks_are_thinned_above_the_shared_count_and_not_at_it() -> None:
    at = kaplan_meier(_censored_at(MAX_CENSOR_MARKS))
    assert _ticks(pl.kaplan_meier(at, time_unit="days")) == MAX_CENSOR_MARKS
    above = kaplan_meier(_censored_at(MAX_CENSOR_MARKS + 1))
    assert _ticks(pl.kaplan_meier(above, time_unit="days")) <= MAX_STEPS
    # between MAX_STEPS and MAX_CENSOR_MARKS every censoring time keeps its tick
    between = kaplan_meier(_censored_at(MAX_STEPS + 500))
    assert _ticks(pl.kaplan_meier(between, time_unit="days")) == MAX_STEPS + 500
