"""How a statistic reads in summaries: a median survival not reached, a bound not estimable."""

from __future__ import annotations

import math

import pytest

from immunoprecise.cohort import Statistic
from immunoprecise.cohort.statistic import format_number

INF = math.inf


def _median(estimate: float, low: float | None, high: float | None) -> Statistic:
    return Statistic(
        name="median PFS",
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        ci_level=0.95,
        n=40,
        method="Kaplan–Meier median",
        unit="days",
    )


def test_median_survival_not_reached_reads_as_in_tables() -> None:
    text = str(_median(INF, 310.0, None))
    assert text.startswith("median PFS not reached (95% CI 310.000–NE;")
    assert "∞" not in text
    assert format_number(INF) == "not reached"


@pytest.mark.parametrize(
    ("estimate", "low", "high", "expected"),
    [
        (420.0, 300.0, INF, "median PFS 420.000 (95% CI 300.000–NE;"),
        (INF, INF, INF, "median PFS not reached (95% CI NE–NE;"),
        (math.nan, None, None, "median PFS NE ("),
    ],
)
def test_infinite_or_undefined_median_bounds_read_ne(
    estimate: float, low: float | None, high: float | None, expected: str
) -> None:
    text = str(_median(estimate, low, high))
    assert text.startswith(expected), text
    assert "∞" not in text
    assert "inf" not in text
    assert "nan" not in text


def test_infinite_hazard_ratio_keeps_infinity() -> None:
    hr = Statistic(
        name="hazard ratio",
        estimate=2.5,
        ci_low=0.8,
        ci_high=INF,
        ci_level=0.95,
        n=30,
        method="Cox partial likelihood",
    )
    assert str(hr).startswith("hazard ratio 2.500 (95% CI 0.800–∞;")
