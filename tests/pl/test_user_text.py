"""Every text a plot takes from the user's data (predictor, biomarker, cohort, group, arm, trial
and patient names) is drawn as written, never as TeX: matplotlib cannot draw '$a^$' as maths at
all, and draws '$5-$10' as a formula."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import immunoprecise as ip
from immunoprecise import pl
from immunoprecise.cohort import cohort_frame, kaplan_meier, optimal_cutpoint
from immunoprecise.cohort.predictors import compare_predictors, evaluate_predictors_across_cohorts
from immunoprecise.cohort.statistic import Statistic
from immunoprecise.dynamics.trials import TrialDesign, TrialResult, run_trial

UNDRAWABLE = "$a^$"
"""Not valid TeX: drawing it as maths raises."""
FORMULA = "$5-$10"
"""Valid TeX: drawn as maths, it reads '5-' in italics and loses its dollar signs."""


def _texts_as_tex(fig: Figure) -> list[str]:
    return sorted(
        {
            t.get_text()
            for t in fig.findobj(Text)
            if "$" in t.get_text() and t.get_visible() and t.get_parse_math()
        }
    )


def _drawn_texts(fig: Figure) -> set[str]:
    return {t.get_text() for t in fig.findobj(Text) if t.get_visible()}


def _responses(seed: int, n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    return pd.DataFrame(
        {
            "response": np.where(y == 1, "R", "NR").astype(object),
            UNDRAWABLE: 1.5 * y + rng.normal(size=n),
            FORMULA: rng.normal(size=n),
        },
        index=pd.Index([f"S{seed}-{i:02d}" for i in range(n)], name="patient_id"),
    )


def _statistic(estimate: float) -> Statistic:
    return Statistic(
        name="hazard ratio",
        estimate=estimate,
        ci_low=estimate - 0.2,
        ci_high=estimate + 0.2,
        ci_level=0.95,
        n=100,
        method="Cox",
    )


def _cutpoint_frame() -> pd.DataFrame:
    frame = cohort_frame(ip.data.example_path("fl_cohort.csv"))
    return frame.rename(columns={"crp": UNDRAWABLE})


def _trial() -> TrialResult:
    design = TrialDesign.model_validate(
        {
            "name": f"{UNDRAWABLE} trial",
            "model": "kuznetsov1994+cells",
            "seed": 1,
            "n_per_arm": 100,
            "chunk_size": 100,
            "follow_up_days": 120,
            "keep_trajectories": 10,
            "endpoints": ["orr", "cr_rate", "pfs"],
            "arms": [
                {"id": "none", "label": f"{UNDRAWABLE} none", "regimen": ""},
                {
                    "id": "cells",
                    "label": f"{FORMULA} cells",
                    "regimen": "effector-cells 1e7 cells d0",
                },
            ],
            "population": {"initial": {"T": 1e6}},
        }
    )
    return run_trial(design, scheduler="synchronous")


def _forest_of_predictors() -> Figure:
    cohorts = {f"{FORMULA} C{i}": _responses(i) for i in range(3)}
    return pl.forest(evaluate_predictors_across_cohorts(cohorts, [UNDRAWABLE, FORMULA]))


def _kaplan_meier() -> Figure:
    frame = _cutpoint_frame()
    frame["group"] = np.where(frame[UNDRAWABLE] > frame[UNDRAWABLE].median(), UNDRAWABLE, FORMULA)
    return pl.kaplan_meier(kaplan_meier(frame, group="group"))


def _profile() -> ip.ImmuneProfile:
    record = ip.read_patient(ip.data.example_path("fl_relapsed.json"))
    return ip.profile(record).model_copy(update={"patient_id": UNDRAWABLE})


def _record() -> ip.PatientRecord:
    record = ip.read_patient(ip.data.example_path("fl_relapsed.json"))
    patient = record.patient.model_copy(update={"id": UNDRAWABLE})
    return record.model_copy(update={"patient": patient})


PLOTS: dict[str, tuple[Callable[[], Figure], tuple[str, ...]]] = {
    "forest of predictors (section titles, cohort labels)": (
        _forest_of_predictors,
        (UNDRAWABLE, FORMULA, f"{FORMULA} C0"),
    ),
    "forest of labelled statistics": (
        lambda: pl.forest(
            [(UNDRAWABLE, _statistic(0.7)), (FORMULA, _statistic(0.9))],
            pooled=_statistic(0.8),
            xlabel=FORMULA,
        ),
        (UNDRAWABLE, FORMULA),
    ),
    "roc": (
        lambda: pl.roc(compare_predictors(_responses(3), [UNDRAWABLE, FORMULA]), title=FORMULA),
        (FORMULA,),
    ),
    "cut-point scan": (
        lambda: pl.cutpoint_scan(optimal_cutpoint(_cutpoint_frame(), UNDRAWABLE, n_boot=0)),
        (UNDRAWABLE,),
    ),
    "kaplan-meier": (_kaplan_meier, ()),
    "immunogram": (lambda: pl.immunogram(_profile()), (f"Immunogram — {UNDRAWABLE}",)),
    "effector-suppressor": (
        lambda: pl.effector_suppressor(_profile()),
        (f"Effector vs suppressor cells — {UNDRAWABLE}",),
    ),
    "tumor burden": (lambda: pl.tumor_burden(_record()), (f"Tumor burden — {UNDRAWABLE}",)),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_user_texts_are_drawn_as_written(name: str) -> None:
    make, expected = PLOTS[name]
    fig = make()
    assert _texts_as_tex(fig) == []
    fig.savefig(io.BytesIO(), format="svg")  # '$a^$' as TeX raises here
    drawn = _drawn_texts(fig)
    for text in expected:
        assert text in drawn, (text, sorted(drawn))


@pytest.fixture(scope="module")
def trial() -> TrialResult:
    return _trial()


@pytest.mark.parametrize("plot", [pl.waterfall, pl.spider, pl.effector_tumor])
def test_trial_and_arm_names_are_drawn_as_written(
    trial: TrialResult, plot: Callable[[TrialResult], Figure]
) -> None:
    fig = plot(trial)
    assert _texts_as_tex(fig) == []
    fig.savefig(io.BytesIO(), format="svg")
    drawn = " ".join(_drawn_texts(fig))
    assert UNDRAWABLE in drawn
    assert FORMULA in drawn
