"""Pooling a predictor across cohorts leaves out a cohort where it cannot be ranked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoprecise.cohort import evaluate_predictors_across_cohorts, roc_auc
from immunoprecise.cohort.meta import pool_random_effects


def _cohort(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    response = np.repeat([1, 0], n // 2)
    return pd.DataFrame(
        {
            "patient_id": [f"S{seed}-{i}" for i in range(response.size)],
            "response": response,
            "score": response + rng.normal(0, 1.2, response.size),
            "tmb": rng.gamma(2.0, 5.0, response.size),
        }
    ).set_index("patient_id")


def test_a_predictor_constant_in_one_cohort_skips_that_cohort_and_pools_the_others() -> None:
    cohorts = {"A": _cohort(1, 40), "B": _cohort(2, 30), "C": _cohort(3, 50)}
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
