"""Edge cases found by using the cohort functions on hand-made cohorts (review of 2026-11)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from immunoprecise.cohort import _rank_scan as rs
from immunoprecise.cohort import log_rank
from immunoprecise.cohort.calibration import calibration
from immunoprecise.cohort.cutpoint import optimal_cutpoint
from immunoprecise.cohort.statistic import Statistic
from immunoprecise.errors import CohortError


def _cohort(n: int = 40, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "os_days": rng.exponential(500, n).round() + 1,
            "os_event": rng.integers(0, 2, n),
            "x": rng.integers(0, 3, n).astype(float),
        },
        index=pd.Index([f"P{i}" for i in range(n)], name="patient_id"),
    )


@pytest.mark.parametrize("b", [0.05, 0.24, 0.5, 0.99])
def test_lausen_schumacher_p_is_one_below_b_one(b: float) -> None:
    # the approximation falls below 0 for small b with min_prop 0.1 (clipped to 0 it read as
    # p < 0.001 for no association at all); maxstat returns 1 there (Schell's correction)
    assert rs.p_lausen92(b, 0.1, 0.9) == 1.0


def test_a_weak_cutpoint_is_not_called_significant() -> None:
    cut = optimal_cutpoint(_cohort(), "x", n_boot=0, seed=0)
    assert cut.max_statistic.estimate < 1
    assert cut.max_statistic.p_value == 1.0
    assert "adjusted p <0.001" not in cut.summary()


def test_lausen_schumacher_p_unchanged_above_one() -> None:
    # published values (maxstat regression output, hohnloser) stay as they were
    assert round(rs.p_lausen92(3.5691, 0.1, 0.9), 5) == 0.01065


def test_trend_order_naming_a_level_twice_is_refused() -> None:
    # a repeated level shifted every later score (0, 1, 1, 2 → 1, 3, 4) without a word
    with pytest.raises(CohortError, match=r"names the level\(s\) \['1'\] more than once"):
        log_rank(_cohort(), group="x", trend=True, order=["0", "1", "1", "2"])


def test_cutpoint_with_every_event_at_day_zero_says_what_to_give() -> None:
    frame = _cohort()
    frame["os_days"] = 0.0
    with pytest.raises(CohortError, match=r"every event is at day 0.*horizon_days"):
        optimal_cutpoint(frame, "x", n_boot=0, seed=0)
    given = optimal_cutpoint(frame, "x", n_boot=0, seed=0, horizon_days=30)
    assert given.horizon_days == 30


def test_calibration_of_one_constant_probability_names_the_cause() -> None:
    # was refused as "the predicted probabilities separate responders from non-responders
    # completely", which they do not: every patient has the same prediction
    y = pd.Series([0, 1] * 10, index=[f"p{i}" for i in range(20)])
    with pytest.raises(CohortError, match=r"same predicted probability \(0\.5\)"):
        calibration(y, pd.Series(0.5, index=y.index))


def test_a_small_cutpoint_is_printed_with_its_digits() -> None:
    # str() of a cut-point of 0.000214 read "cut-point 0.000 (95% CI 0.000–0.001; …)" beside a
    # summary that said 0.000214
    s = Statistic(
        name="frac cut-point", estimate=0.000214, ci_low=0.000201, ci_high=0.000871,
        ci_level=0.95, n=80, method="maximally selected log-rank statistic",
    )  # fmt: skip
    assert str(s).startswith("frac cut-point 0.000214 (95% CI 0.000201–0.000871;")
    zero = Statistic(name="ORR", estimate=0.0, ci_low=0.0, ci_high=0.308, ci_level=0.95, n=10,
                     method="Clopper–Pearson exact")  # fmt: skip
    assert str(zero).startswith("ORR 0.000 (95% CI 0.000–0.308;")


def test_trend_test_memory_grows_with_patients_not_patients_times_event_times() -> None:
    # the at-risk counts were a (event times × patients) float matrix: 2 GB for 20,000 patients
    # with continuous times, out of memory for 50,000; now counted by sorted search
    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame(
        {
            "os_days": rng.exponential(500, n),
            "os_event": rng.integers(0, 2, n),
            "g": rng.choice(["a", "b", "c"], n),
        }
    )
    tracemalloc.start()
    try:
        trend = log_rank(frame, group="g", trend=True, order=["a", "b", "c"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16e6  # the matrix alone was 2,000 × 4,000 × 8 bytes = 64 MB
    two = log_rank(frame[frame["g"] != "c"], group="g", trend=True, order=["a", "b"])
    plain = log_rank(frame[frame["g"] != "c"], group="g")
    assert trend.p_value is not None
    assert two.estimate == pytest.approx(plain.estimate, rel=1e-10)  # two groups: the χ²
