"""Forest plots of estimates that a plain plot would silently leave out."""

from __future__ import annotations

import math

import numpy as np
import pytest

from immunoprecise import pl
from immunoprecise.cohort.statistic import Statistic


def _hr(estimate: float, low: float | None = None, high: float | None = None) -> Statistic:
    level = 0.95 if low is not None else None
    return Statistic(
        name="hazard ratio",
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        ci_level=level,
        n=40,
        method="Cox",
    )


def _visible_extent(line: object) -> tuple[float, float]:
    x = np.asarray(line.get_xdata(), dtype=float)  # type: ignore[attr-defined]
    x = x[np.isfinite(x)]
    return float(x.min()), float(x.max())


def test_an_unbounded_confidence_interval_keeps_its_whisker() -> None:
    # a hazard ratio whose upper limit is infinite (no events in one group): the whisker used
    # to vanish, since matplotlib drops a line to inf; it now runs to the axis edge with an arrow
    fig = pl.forest(
        [("trial A", _hr(2.0, 0.5, math.inf)), ("trial B", _hr(0.8, 0.6, 1.1))],
        log_scale=True,
    )
    ax = fig.axes[0]
    whisker = next(
        line
        for line in ax.get_lines()
        if len(line.get_xdata()) == 2 and list(line.get_ydata()) == [0.0, 0.0]
    )
    low, high = _visible_extent(whisker)
    assert low == 0.5
    assert math.isfinite(high)
    assert high > 2.0
    arrows = [line for line in ax.get_lines() if line.get_marker() == ">"]
    assert len(arrows) == 1
    assert list(arrows[0].get_xdata()) == [high]
    assert "2.00 (0.50–∞)" in [t.get_text() for t in ax.texts]


@pytest.mark.parametrize(
    ("row", "log_scale", "words"),
    [
        (_hr(math.nan), False, "'trial B' has hazard ratio nan"),
        (_hr(0.0, 0.0, 1.0), True, "'trial B' has hazard ratio 0 ≤ 0"),
        (_hr(1.0, 0.0, 2.0), True, "'trial B' has CI bound 0 ≤ 0"),
    ],
)
def test_a_row_that_cannot_be_drawn_is_refused_by_name(
    row: Statistic, log_scale: bool, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        pl.forest([("trial A", _hr(0.8, 0.6, 1.1)), ("trial B", row)], log_scale=log_scale)
