"""Survival that has dropped to 0 is reported without a confidence interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from immunoprecise.cohort import kaplan_meier, optimal_cutpoint


def _small_arm() -> pd.DataFrame:
    # five patients, the one followed longest dies on day 5
    return pd.DataFrame(
        {"os_days": [1.0, 2, 3, 4, 5], "os_event": [1, 0, 1, 0, 1]},
        index=pd.Index([f"P{i}" for i in range(5)], name="patient_id"),
    )


def test_survival_read_after_the_curve_reaches_zero_has_no_interval() -> None:
    curve = kaplan_meier(_small_arm()).curves[0]
    for day in (5.0, 6.0):
        at = curve.survival_at(day)
        assert at.estimate == 0.0
        assert at.ci_low is None
        assert at.ci_high is None
        assert "undefined at 0" in at.method
        assert "95% CI" not in str(at)
    # before the last death the exponential Greenwood band is lifelines' own
    before = curve.survival_at(4.5)
    kmf = KaplanMeierFitter().fit([1.0, 2, 3, 4, 5], [1, 0, 1, 0, 1])
    band = kmf.confidence_interval_.loc[4.0]
    assert before.estimate == kmf.survival_function_.loc[4.0].iloc[0]
    assert (before.ci_low, before.ci_high) == (band.iloc[0], band.iloc[1])


def test_a_cut_point_group_whose_curve_reaches_zero_has_no_interval_at_the_horizon() -> None:
    rng = np.random.default_rng(3)
    n = 40
    low = np.arange(n) < n // 2
    frame = pd.DataFrame(
        {
            "os_days": np.where(low, rng.uniform(50, 500, n), rng.uniform(400, 900, n)),
            "os_event": np.ones(n, dtype=int),
            "cd8": np.where(low, rng.uniform(0, 10, n), rng.uniform(20, 30, n)),
        },
        index=pd.Index([f"P{i}" for i in range(n)], name="patient_id"),
    )
    frame.loc["P39", "os_event"] = 0  # the high group's longest follow-up is censored
    frame.loc["P39", "os_days"] = 1000.0
    cut = optimal_cutpoint(frame, "cd8", n_boot=0, horizon_days=600.0)
    low_side = cut.low.survival_at_horizon
    assert low_side.estimate == 0.0
    assert low_side.ci_low is None
    assert low_side.ci_high is None
    high_side = cut.high.survival_at_horizon
    assert 0.0 < high_side.estimate < 1.0
    assert high_side.ci_low is not None
    assert not math.isnan(high_side.ci_low)
