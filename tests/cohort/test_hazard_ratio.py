"""The two-group Cox hazard ratio from event counts equals lifelines on every patient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from immunoprecise.cohort import two_group_hazard_ratio
from immunoprecise.errors import CohortError


@pytest.mark.parametrize(("n", "seed"), [(30, 1), (400, 2), (5000, 3)])
def test_equals_lifelines_with_many_tied_times(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.random(n) < 0.5).astype(float)
    scans = rng.choice(np.arange(56, 400, 56.0), n)  # progression seen at scans: heavy ties
    continuous = np.round(rng.exponential(200 / (1 + x)), 1)
    t = np.where(rng.random(n) < 0.5, scans, continuous)
    e = (rng.random(n) < 0.6).astype(int)
    ours = two_group_hazard_ratio(t, e, x, ci_level=0.9)
    frame = pd.DataFrame({"t": t, "e": e, "x": x})
    ref = CoxPHFitter(alpha=0.1).fit(frame, "t", "e", fit_options={"precision": 1e-10})
    row = ref.summary.loc["x"]
    assert ours.estimate == pytest.approx(row["exp(coef)"], rel=1e-6)
    assert ours.ci_low == pytest.approx(row["exp(coef) lower 90%"], rel=1e-6)
    assert ours.ci_high == pytest.approx(row["exp(coef) upper 90%"], rel=1e-6)
    assert ours.p_value == pytest.approx(row["p"], rel=1e-5)
    assert ours.n == n
    assert ours.ci_level == 0.9


def test_swapping_the_groups_inverts_the_ratio() -> None:
    rng = np.random.default_rng(4)
    t = rng.exponential(100, 300)
    e = rng.random(300) < 0.7
    g = rng.random(300) < 0.4
    a = two_group_hazard_ratio(t, e, g)
    b = two_group_hazard_ratio(t, e, ~g)
    assert a.estimate * b.estimate == pytest.approx(1.0)
    assert a.p_value == pytest.approx(b.p_value)


@pytest.mark.parametrize(
    ("time", "event", "group", "message"),
    [
        ([1, 2], [1, 0], [0, 0], "both groups"),
        ([1, 2], [0, 0], [0, 1], "no event"),
        ([1, -2], [1, 0], [0, 1], "≥ 0"),
        ([1, 2], [1, 2], [0, 1], "0/1"),
        ([1, 2, 3], [1, 0], [0, 1], "same length"),
        ([1, 2, 3, 4], [1, 1, 0, 0], [1, 1, 0, 0], "no finite estimate"),
    ],
)
def test_bad_input_is_named(
    time: list[float], event: list[int], group: list[int], message: str
) -> None:
    with pytest.raises(CohortError, match=message):
        two_group_hazard_ratio(time, event, group)
