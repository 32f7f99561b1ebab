"""The pooled statistic of studies whose statistics are named differently is named once, as a
ratio when pooled on the log scale."""

from __future__ import annotations

from immunoprecise.cohort.meta import pool_random_effects
from immunoprecise.cohort.statistic import Statistic


def _stat(name: str, estimate: float, low: float, high: float) -> Statistic:
    return Statistic(
        name=name, estimate=estimate, ci_low=low, ci_high=high, ci_level=0.95, n=100, method="Cox"
    )


def test_mixed_names_of_ratios_give_a_pooled_ratio() -> None:
    studies = [_stat("HR", 0.7, 0.5, 0.98), _stat("hazard ratio", 0.8, 0.6, 1.1)]
    pooled = pool_random_effects(studies, labels=["A", "B"], scale="log")
    assert pooled.pooled.name == "pooled ratio"
    assert pooled.fixed.name == "pooled ratio"


def test_mixed_names_on_another_scale_give_a_pooled_estimate() -> None:
    studies = [_stat("AUC", 0.7, 0.6, 0.8), _stat("C-index", 0.72, 0.62, 0.82)]
    pooled = pool_random_effects(studies, labels=["A", "B"], scale="logit")
    assert pooled.pooled.name == "pooled estimate"


def test_one_name_is_kept() -> None:
    studies = [_stat("AUC", 0.7, 0.6, 0.8), _stat("AUC", 0.72, 0.62, 0.82)]
    assert pool_random_effects(studies, scale="logit").pooled.name == "pooled AUC"
