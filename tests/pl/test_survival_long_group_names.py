"""A Kaplan–Meier figure whose groups have long names (an arm written out in full) keeps its
legend off most of the curves: the names are wrapped, never cut."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier
from immunoprecise.cohort.survival import SurvivalCurves

LONG = "Rituximab + zolédronate + IL-2 à faible dose (bras expérimental)"
OTHER = "Standard of care — Müller protocol"


def _curves() -> SurvivalCurves:
    rng = np.random.default_rng(0)
    n = 60
    table = pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(n)],
            "os_days": rng.integers(10, 2400, n).astype(float),
            "os_event": rng.integers(0, 2, n),
            "arm": [LONG, OTHER] * (n // 2),
        }
    )
    return kaplan_meier(table, endpoint="os", group="arm")


def test_long_group_names_are_wrapped_inside_the_plot() -> None:
    fig = pl.kaplan_meier(_curves())
    fig.canvas.draw()
    main, table = fig.axes
    legend = main.get_legend()
    assert legend is not None
    box, plot = legend.get_window_extent(), main.get_window_extent()
    # the legend leaves most of the curves uncovered
    assert box.width < 0.7 * plot.width, (box.width, plot.width)
    texts = [t.get_text() for t in legend.get_texts()]
    for name in (LONG, OTHER):  # every word is kept
        assert any(" ".join(t.split()).startswith(name) for t in texts), texts
    ticks = [" ".join(t.get_text().split()) for t in table.get_yticklabels()]
    assert sorted(ticks) == sorted([LONG, OTHER])
