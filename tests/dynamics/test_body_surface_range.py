"""A body surface area that no person has (cm² typed as m²) is refused, naming the likely mistake.

Before, ``body_surface_m2=18000`` (the 1.8 m² reference adult typed in cm²) was taken as
18,000 m²: every per-m² dose became 10,000 times too large, silently.
"""

from __future__ import annotations

import pytest

import immunoprecise as ip
from immunoprecise.dynamics.dosing import (
    MAX_BODY_SURFACE_M2,
    MIN_BODY_SURFACE_M2,
    body_surface_problem,
)
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ModelError, ValidationError

CM2 = "18000 m² is not a human body surface area (0.03 to 6 m²): 18000 looks like cm²; give the "
CM2 += "area in m² (1.8)"


def test_simulate_refuses_a_body_surface_in_cm2() -> None:
    with pytest.raises(ModelError) as err:
        ip.simulate("fl_adcc", t_end=1, regimen="rituximab 375 mg/m2 d0", body_surface_m2=18000)
    assert str(err.value) == f"body_surface_m2 {CM2}"


@pytest.mark.parametrize("area", [MIN_BODY_SURFACE_M2, 0.25, 1.0, 1.8, 2.6, MAX_BODY_SURFACE_M2])
def test_human_body_surfaces_are_taken(area: float) -> None:
    assert body_surface_problem(area) is None
    tr = ip.simulate("fl_adcc", t_end=1, regimen="rituximab 375 mg/m2 d0", body_surface_m2=area)
    assert tr.settings["body_surface_m2"] == area


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        (0.01, "0.01 m² is not a human body surface area (0.03 to 6 m²); give the area in m²"),
        (1e9, "1e+09 m² is not a human body surface area (0.03 to 6 m²); give the area in m²"),
        (
            7,
            "7 m² is not a human body surface area (0.03 to 6 m²); give the area in m²",
        ),
        (
            2500,
            "2500 m² is not a human body surface area (0.03 to 6 m²): 2500 looks like cm²; "
            "give the area in m² (0.25)",
        ),
    ],
)
def test_body_surface_problem_names_value_unit_and_range(area: float, expected: str) -> None:
    assert body_surface_problem(area) == expected


def test_a_trial_design_refuses_a_body_surface_in_cm2() -> None:
    design = {
        "name": "x",
        "model": "fl_adcc",
        "seed": 1,
        "n_per_arm": 50,
        "follow_up_days": 112,
        "population": {"body_surface_m2": 18000},
        "arms": [{"id": "a", "regimen": "rituximab 375 mg/m2 d0"}],
    }
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    assert err.value.problems[0].field == "population.body_surface_m2"
    assert CM2 in str(err.value)
    assert load_trial_design({**design, "population": {"body_surface_m2": 1.8}}).population
