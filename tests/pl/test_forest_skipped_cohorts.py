"""The cross-cohort forest plot names the cohorts left out of an evaluation, with the reason."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from immunoprecise import pl
from immunoprecise.cohort import evaluate_predictors_across_cohorts
from immunoprecise.cohort.predictors import CrossCohortEvaluation
from predictor_cohorts import response_cohort


def _evaluation() -> CrossCohortEvaluation:
    cohorts = {
        "A": response_cohort(1, 40),
        "B": response_cohort(2, 30),
        "C": response_cohort(3, 50),
    }
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
