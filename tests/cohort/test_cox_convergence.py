"""A Cox model without a finite fit says which term is at fault, in words, not in Python code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoprecise.cohort import cox_model
from immunoprecise.errors import CohortError

INTERNAL = (">>>", "_event", "df[", "stats.stackexchange")


def _message(frame: pd.DataFrame, covariates: list[str]) -> str:
    with pytest.raises(CohortError, match="did not converge") as caught:
        cox_model(frame, covariates)
    return str(caught.value)


def test_a_rising_biomarker_that_orders_the_events_tends_to_infinity() -> None:
    frame = pd.DataFrame(
        {
            "os_days": np.arange(1.0, 21.0),
            "os_event": [1] * 10 + [0] * 10,
            "ldh": np.arange(20.0, 0.0, -1.0),  # the earlier the event, the higher the LDH
        }
    )
    assert "term 'ldh' separates the events" in _message(frame, ["ldh"])
    assert "tends to ∞" in _message(frame, ["ldh"])


def test_a_level_without_any_event_is_named_with_the_direction() -> None:
    frame = pd.DataFrame(
        {
            "os_days": np.arange(1.0, 21.0),
            "os_event": [1] * 10 + [0] * 10,
            "arm": ["dead early"] * 10 + ["alive"] * 10,
        }
    )
    text = _message(frame, ["arm"])
    # reference 'dead early' (first of two equally frequent levels): HR of 'alive' → 0
    assert "term 'arm=alive' separates the events" in text
    assert "tends to 0" in text
    assert not [s for s in INTERNAL if s in text]


def test_a_single_event_separates_a_two_level_covariate() -> None:
    frame = pd.DataFrame(
        {
            "os_days": [5.0, 10, 20, 30, 40, 50],
            "os_event": [0, 1, 0, 0, 0, 0],
            "arm": ["A", "A", "B", "B", "B", "A"],
        }
    )
    text = _message(frame, ["arm"])
    assert not [s for s in INTERNAL if s in text]
    # reference A (first of the two equally frequent levels): the event is in A, HR of B → 0
    assert "term 'arm=B' separates the events" in text
    assert "tends to 0" in text


def test_collinear_covariates_are_named() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    frame = pd.DataFrame(
        {
            "os_days": rng.exponential(100, 60).round() + 1,
            "os_event": rng.integers(0, 2, 60),
            "crp": x,
            "crp_twice": 2 * x + 1,
        }
    )
    text = _message(frame, ["crp", "crp_twice"])
    assert "['crp', 'crp_twice'] are collinear" in text
    assert not [s for s in INTERNAL if s in text]


def test_events_all_at_the_end_of_every_follow_up_are_refused_in_words() -> None:
    # two patients with the event on the same day and nobody followed longer: no risk set holds
    # a patient without the event, so there is nothing to compare (no traceback from lifelines)
    frame = pd.DataFrame({"os_days": [100.0, 100.0], "os_event": [1, 1], "crp": [5.0, 7.0]})
    with pytest.raises(CohortError, match="no patient is still at risk without the os event"):
        cox_model(frame, ["crp"])
    censored_earlier = pd.DataFrame(
        {"os_days": [100.0, 100.0, 100.0, 50.0], "os_event": [1, 1, 1, 0], "crp": [5.0, 7, 9, 3]}
    )
    with pytest.raises(CohortError, match=r"3 events, all at day 100"):
        cox_model(censored_earlier, ["crp"])


def test_a_patient_censored_on_the_day_of_the_events_is_compared() -> None:
    frame = pd.DataFrame(
        {"os_days": [100.0, 100.0, 100.0, 50.0], "os_event": [1, 0, 1, 0], "crp": [5.0, 7, 9, 3]}
    )
    model = cox_model(frame, ["crp"])
    assert model.events == 2
    assert model.hazard_ratios["crp"].ci_low is not None
