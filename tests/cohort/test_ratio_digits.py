"""Ratios close to 1 keep the digits that tell them and their CI apart from 1."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from immunoprecise import pl
from immunoprecise.cohort.statistic import Statistic, format_ratio, ratio_digits


def _hr(estimate: float, low: float, high: float) -> Statistic:
    return Statistic(
        name="hazard ratio cd8_density",
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        ci_level=0.95,
        n=120,
        method="Cox",
        p_value=0.03,
    )


def test_format_ratio_keeps_two_decimals_where_they_suffice() -> None:
    assert format_ratio(0.7215, 0.553, 0.941) == "0.72 (0.55–0.94)"
    assert format_ratio(2.5, 1.1, float("inf")) == "2.50 (1.10–∞)"
    assert format_ratio(1.5, None, None) == "1.50"


def test_format_ratio_shows_a_per_unit_ratio_apart_from_1() -> None:
    assert format_ratio(1.00321, 1.00031, 1.00612) == "1.0032 (1.0003–1.0061)"
    assert ratio_digits(0.99983, 0.99971, 0.99996) == 5


def test_statistic_text_shows_a_per_unit_ratio_apart_from_1() -> None:
    text = str(_hr(1.00321, 1.00031, 1.00612))
    assert text.startswith("hazard ratio cd8_density 1.0032 (95% CI 1.0003–1.0061;")


def test_statistic_text_of_other_statistics_is_unchanged() -> None:
    auc = Statistic(
        name="AUC", estimate=0.7, ci_low=0.6, ci_high=0.8, ci_level=0.95, n=50, method="DeLong"
    )
    assert str(auc) == "AUC 0.700 (95% CI 0.600–0.800; n=50; DeLong)"
    assert str(_hr(0.7, 0.5, 0.98)).startswith("hazard ratio cd8_density 0.700 (95% CI 0.500–0.980")


def test_forest_writes_a_per_unit_ratio_apart_from_1() -> None:
    fig = pl.forest([("CD8", _hr(1.00321, 1.00031, 1.00612))], log_scale=True)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "1.0032 (1.0003–1.0061)" in texts
