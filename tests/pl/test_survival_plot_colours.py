"""Every Kaplan–Meier curve of a figure has its own colour, up to the most groups allowed."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier
from immunoprecise.cohort.frame import MAX_GROUP_LEVELS, MAX_NAMED_GROUP_LEVELS
from immunoprecise.dynamics.trials.design import MAX_ARMS


def test_ten_groups_are_drawn_in_ten_colours() -> None:
    rng = np.random.default_rng(11)
    n = 400
    frame = pd.DataFrame(
        {
            "os_days": rng.exponential(300.0, n).round(1),
            "os_event": rng.integers(0, 2, n),
            "grade": np.arange(n) % MAX_GROUP_LEVELS,
        }
    )
    km = kaplan_meier(frame, group="grade")
    assert len(km.curves) == MAX_GROUP_LEVELS >= MAX_ARMS
    fig = pl.kaplan_meier(km)
    try:
        lines = [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
        colours = [to_hex(line.get_color()) for line in lines]
        assert len(colours) == MAX_GROUP_LEVELS
        assert len(set(colours)) == MAX_GROUP_LEVELS, colours
        # the numbers at risk of each group are written in its curve's colour
        rows = {to_hex(t.get_color()) for t in fig.axes[1].texts}
        assert rows == set(colours)
    finally:
        plt.close(fig)


def test_twenty_named_groups_are_told_apart_by_colour_and_line_style() -> None:
    rng = np.random.default_rng(12)
    n = 800
    frame = pd.DataFrame(
        {
            "os_days": rng.exponential(300.0, n).round(1),
            "os_event": rng.integers(0, 2, n),
            "site": [f"site {i % MAX_NAMED_GROUP_LEVELS:02d}" for i in range(n)],
        }
    )
    km = kaplan_meier(frame, group="site")
    assert len(km.curves) == MAX_NAMED_GROUP_LEVELS
    fig = pl.kaplan_meier(km, risk_table=False)
    try:
        lines = [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
        looks = {(to_hex(line.get_color()), str(line.get_linestyle())) for line in lines}
        assert len(lines) == MAX_NAMED_GROUP_LEVELS
        assert len(looks) == MAX_NAMED_GROUP_LEVELS, looks
    finally:
        plt.close(fig)


def test_the_dashboard_draws_twenty_named_groups_apart() -> None:
    from immunoprecise.service.dashboard_cohorts import km_figure

    rng = np.random.default_rng(13)
    n = 800
    frame = pd.DataFrame(
        {
            "os_days": rng.exponential(300.0, n).round(1),
            "os_event": rng.integers(0, 2, n),
            "site": [f"site {i % MAX_NAMED_GROUP_LEVELS:02d}" for i in range(n)],
        }
    )
    figure = km_figure(kaplan_meier(frame, group="site"), title="OS")
    legend = [t for t in figure["data"] if t.get("showlegend")]
    # one entry per group, and one for the censoring ticks of all groups
    assert [t["name"] for t in legend].count("censored") == 1
    shown = [t for t in legend if t.get("legendgroup") != "censored"]
    looks = {(t["line"]["color"], t["line"]["dash"]) for t in shown}
    assert len(shown) == MAX_NAMED_GROUP_LEVELS
    assert len(looks) == MAX_NAMED_GROUP_LEVELS, looks
