"""Pooling a predictor across cohorts leaves out a cohort where it cannot be ranked."""

from __future__ import annotations

import pytest

from immunoprecise.cohort import evaluate_predictors_across_cohorts, roc_auc
from immunoprecise.cohort.meta import pool_random_effects
from predictor_cohorts import response_cohort


def test_a_predictor_constant_in_one_cohort_skips_that_cohort_and_pools_the_others() -> None:
    cohorts = {
        "A": response_cohort(1, 40),
        "B": response_cohort(2, 30),
        "C": response_cohort(3, 50),
    }
    # a panel not run in cohort B: the export fills in one value for everybody
    cohorts["B"] = cohorts["B"].assign(score=7.0)
    result = evaluate_predictors_across_cohorts(cohorts, ["score", "tmb"])
    score, tmb = result.results
    assert [c.cohort for c in score.per_cohort] == ["A", "C"]
    assert len(score.skipped) == 1
    label, reason = score.skipped[0]
    assert label == "B"
    assert "score is 7 for all 30 patients with response" in reason
    assert "constant" in reason
    assert score.pooled is not None
    direct = pool_random_effects(
        [roc_auc(cohorts[c]["response"], cohorts[c]["score"]) for c in ("A", "C")],
        scale="logit",
    )
    assert score.pooled.pooled.estimate == pytest.approx(direct.pooled.estimate)
    # the other predictor is still evaluated in all three cohorts
    assert [c.cohort for c in tmb.per_cohort] == ["A", "B", "C"]
    assert tmb.skipped == ()
    assert "B" not in result.table().query("predictor == 'score'")["cohort"].tolist()
