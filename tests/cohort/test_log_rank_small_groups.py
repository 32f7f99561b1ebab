"""The k-sample log-rank test says when a group expects too few events for its χ² approximation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import multivariate_logrank_test

from immunoprecise.cohort import kaplan_meier, log_rank
from immunoprecise.errors import CohortError

CAUTION = "expected events in"


def _expected_by_hand(frame: pd.DataFrame, group: str) -> dict[str, float]:
    """E_g = Σ_t n_g(t) · d(t) / n(t) over the distinct event times, event by event."""
    expected = dict.fromkeys(frame[group].unique(), 0.0)
    for t in np.unique(frame.loc[frame["os_event"] == 1, "os_days"]):
        at_risk = frame[frame["os_days"] >= t]
        d = int(((frame["os_days"] == t) & (frame["os_event"] == 1)).sum())
        for g in expected:
            expected[g] += (at_risk[group] == g).sum() * d / len(at_risk)
    return expected


def _cohort(seed: int, sizes: dict[str, int]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = sum(sizes.values())
    return pd.DataFrame(
        {
            "os_days": rng.exponential(300, n).round(),
            "os_event": rng.integers(0, 2, n),
            "arm": [g for g, k in sizes.items() for _ in range(k)],
        }
    )


def test_a_group_expecting_few_events_is_flagged_and_the_statistic_kept() -> None:
    frame = _cohort(1, {"A": 60, "B": 55, "C": 3})
    expected = _expected_by_hand(frame, "arm")
    assert expected["C"] < 5 <= min(expected["A"], expected["B"])
    test = log_rank(frame, group="arm")
    assert "fewer than 5 expected events in 1 of 3 groups" in test.method
    assert "interpret with caution" in str(test)
    direct = multivariate_logrank_test(frame["os_days"], frame["arm"], frame["os_event"])
    assert test.estimate == float(direct.test_statistic)
    km = kaplan_meier(frame, group="arm")
    assert km.log_rank is not None
    assert km.log_rank.method == test.method


def test_a_continuous_column_taken_for_groups_is_refused() -> None:
    frame = _cohort(2, {f"{v:.1f}": 2 for v in np.linspace(1, 9, 40)})
    with pytest.raises(CohortError, match="'arm' has 40 distinct values"):
        log_rank(frame, group="arm")


def test_ten_small_groups_are_flagged_in_every_group() -> None:
    frame = _cohort(2, {f"{v:.1f}": 2 for v in np.linspace(1, 9, 10)})
    test = log_rank(frame, group="arm")
    assert "fewer than 5 expected events in 10 of 10 groups" in test.method


def test_groups_expecting_enough_events_carry_no_caution() -> None:
    frame = _cohort(3, {"A": 60, "B": 55})
    assert min(_expected_by_hand(frame, "arm").values()) >= 5
    assert CAUTION not in log_rank(frame, group="arm").method
