"""A body weight that no person has (grams typed as kg) is refused, naming the likely mistake.

Before, ``body_weight_kg=70000`` (70 kg typed in grams) was taken as 70 tonnes: every per-kg
dose became 1,000 times too large, silently.
"""

from __future__ import annotations

import pytest

import immunoprecise as ip
from immunoprecise.dynamics.dosing import (
    MAX_BODY_WEIGHT_KG,
    MIN_BODY_WEIGHT_KG,
    body_weight_problem,
)
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ModelError, ValidationError

GRAMS = "70000 kg is not a human body weight (0.2 to 650 kg): 70000 looks like grams; give the "
GRAMS += "weight in kg (70)"


def test_simulate_refuses_a_body_weight_in_grams() -> None:
    with pytest.raises(ModelError) as err:
        ip.simulate("fl_adcc", t_end=1, regimen="rituximab 375 mg/kg d0", body_weight_kg=70000)
    assert str(err.value) == f"body_weight_kg {GRAMS}"


@pytest.mark.parametrize("weight", [MIN_BODY_WEIGHT_KG, 0.5, 3.2, 70, 180, MAX_BODY_WEIGHT_KG])
def test_human_body_weights_are_taken(weight: float) -> None:
    assert body_weight_problem(weight) is None
    tr = ip.simulate("fl_adcc", t_end=1, regimen="rituximab 375 mg/kg d0", body_weight_kg=weight)
    assert tr.settings["body_weight_kg"] == weight


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        (0.05, "0.05 kg is not a human body weight (0.2 to 650 kg); give the weight in kg"),
        (1e7, "1e+07 kg is not a human body weight (0.2 to 650 kg); give the weight in kg"),
        (
            700,
            "700 kg is not a human body weight (0.2 to 650 kg): 700 looks like grams; give "
            "the weight in kg (0.7)",
        ),
    ],
)
def test_body_weight_problem_names_value_unit_and_range(weight: float, expected: str) -> None:
    assert body_weight_problem(weight) == expected


def test_a_trial_design_refuses_a_body_weight_in_grams() -> None:
    design = {
        "name": "x",
        "model": "cartmath2021",
        "seed": 1,
        "n_per_arm": 50,
        "follow_up_days": 112,
        "population": {"body_weight_kg": 70000},
        "arms": [{"id": "a", "regimen": "CAR-T 1e6 cells/kg d0"}],
    }
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    assert err.value.problems[0].field == "population.body_weight_kg"
    assert GRAMS in str(err.value)
    assert load_trial_design({**design, "population": {"body_weight_kg": 70}}).population
