"""The cross-cohort forest plot names the cohorts left out of an evaluation, with the reason."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from immunoprecise import pl
from immunoprecise.cohort import evaluate_predictors_across_cohorts
from immunoprecise.cohort.predictors import CrossCohortEvaluation


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


def _evaluation() -> CrossCohortEvaluation:
    cohorts = {"A": _cohort(1, 40), "B": _cohort(2, 30), "C": _cohort(3, 50)}
    cohorts["B"] = cohorts["B"].assign(score=7.0)  # a panel not run in cohort B
    return evaluate_predictors_across_cohorts(cohorts, ["score", "tmb"])


def _texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_forest_notes_the_skipped_cohort_and_its_reason() -> None:
    evaluation = _evaluation()
    (cohort, why) = evaluation.results[0].skipped[0]
    fig = pl.forest(evaluation)
    text = _texts(fig)
    assert f"not evaluated: {cohort}, score: " in text
    assert why.split()[0] in text
    fig.savefig(io.BytesIO(), format="png")  # the note is laid out with the plot


def test_forest_of_one_predictor_notes_only_its_skipped_cohorts() -> None:
    evaluation = _evaluation()
    assert "not evaluated" not in _texts(pl.forest(evaluation, predictor="tmb"))
    assert "not evaluated: B, score" in _texts(pl.forest(evaluation, predictor="score"))
