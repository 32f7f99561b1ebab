"""A number of a trial design given as text with a unit is refused with the unit it expects.

Before, ``n_per_arm: "200 patients"`` and ``follow_up_days: 12 weeks`` got pydantic's "Input
should be a valid integer/number" without the unit or an example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ValidationError

DESIGN = """name: units
model: depillis2006
seed: {seed}
n_per_arm: {n_per_arm}
follow_up_days: {follow_up_days}
chunk_size: {chunk_size}
population:
  vary: []
  body_weight_kg: {body_weight_kg}
arms:
  - {{id: A, regimen: "chemo 1 mg/kg q21d x3"}}
"""
GOOD: dict[str, Any] = {
    "seed": 1,
    "n_per_arm": 200,
    "follow_up_days": 84,
    "chunk_size": 100,
    "body_weight_kg": 70,
}


def _problems(tmp_path: Path, **changes: Any) -> list[str]:
    path = tmp_path / "design.yaml"
    path.write_text(DESIGN.format(**{**GOOD, **changes}), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_trial_design(path)
    return [str(p) for p in info.value.problems]


def test_patients_and_days_written_with_their_unit_name_what_is_expected(tmp_path: Path) -> None:
    problems = _problems(tmp_path, n_per_arm='"200 patients"', follow_up_days="12 weeks")
    assert problems == [
        "n_per_arm = '200 patients': expected a whole number of patients per arm, e.g. 200",
        "follow_up_days = '12 weeks': expected a number of days, e.g. 84",
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"n_per_arm": "20.5"},
            "n_per_arm = 20.5: expected a whole number of patients per arm, e.g. 200",
        ),
        (
            {"follow_up_days": "[84]"},
            "follow_up_days: expected a number of days, e.g. 84, not a list",
        ),
        (
            {"chunk_size": "1k"},
            "chunk_size = '1k': expected a whole number of patients per chunk, e.g. 10000",
        ),
        (
            {"body_weight_kg": "70 kg"},
            "population.body_weight_kg = '70 kg': expected a body weight in kg, e.g. 70",
        ),
        (
            {"seed": "seven"},
            "seed = 'seven': expected a whole number from 0 to 4294967295, e.g. 7",
        ),
    ],
)
def test_other_numbers_of_a_design_name_their_unit(
    tmp_path: Path, changes: dict[str, Any], problem: str
) -> None:
    assert _problems(tmp_path, **changes) == [problem]
