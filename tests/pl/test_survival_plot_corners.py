"""Kaplan–Meier curves are drawn with the corners where they step: the same steps, fewer points."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier


def _curves() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 400
    event_time = rng.exponential(400, n)
    censor_time = rng.uniform(0, 900, n)
    return pd.DataFrame(
        {
            "os_days": np.minimum(event_time, censor_time).round(1),
            "os_event": (event_time <= censor_time).astype(int),
            "arm": rng.choice(["A", "B"], n),
        }
    )


def _at(xs: np.ndarray, ys: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A step function (value held after each corner) read at ``times``."""
    return ys[np.searchsorted(xs, times, side="right") - 1]


def test_the_drawn_steps_equal_the_curve_at_every_time_in_fewer_points() -> None:
    km = kaplan_meier(_curves(), group="arm")
    fig = pl.kaplan_meier(km, time_unit="days", risk_table=False)
    lines = [ln for ln in fig.axes[0].lines if ln.get_label().startswith(("A ", "B "))]
    assert len(lines) == 2
    for line, curve in zip(lines, km.curves, strict=True):
        xs = np.asarray(line.get_xdata(), dtype=float)
        ys = np.asarray(line.get_ydata(), dtype=float)
        times = np.asarray(curve.times)
        assert np.array_equal(_at(xs, ys, times), np.asarray(curve.survival))
        assert xs[-1] == times[-1]  # drawn up to the last follow-up
        assert xs.size < times.size  # the censoring-only times add no corner


def test_the_band_keeps_its_values_at_every_time() -> None:
    from immunoprecise.pl._survival import curve_steps

    km = kaplan_meier(_curves(), group="arm")
    for curve in km.curves:
        t, s, lo, hi = curve_steps(curve, 1.0)
        times = np.asarray(curve.times)
        assert np.array_equal(_at(t, s, times), np.asarray(curve.survival))
        assert np.allclose(_at(t, lo, times), curve.ci_low, equal_nan=True, rtol=0, atol=0)
        assert np.allclose(_at(t, hi, times), curve.ci_high, equal_nan=True, rtol=0, atol=0)
