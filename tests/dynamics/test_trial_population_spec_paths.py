"""A standalone ``PopulationSpec`` names a bad distribution or constraint by its position.

Before, it named it by its class (``ParameterDistribution.median``) or by its name
(``distribution 'b'.median``), where a trial design says ``population.spec.distributions[1]``.
"""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.dynamics.trials.population import PopulationSpec
from immunoprecise.errors import ValidationError

CITED = {"unit": "1/day", "source": "assumed"}
GOOD = {"name": "a", "kind": "lognormal", "median": 1.0, "cv": 0.3, **CITED}


def _problems(**spec: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        PopulationSpec(**spec)
    return [str(p) for p in info.value.problems]


def test_a_distribution_of_the_wrong_type_is_named_by_its_position() -> None:
    bad = {"name": "b", "kind": "lognormal", "median": "x", "cv": 0.3, **CITED}
    assert _problems(distributions=[GOOD, GOOD | {"name": "c"}, bad]) == [
        "distributions[2].median = 'x': Input should be a valid number, unable to parse string "
        "as a number"
    ]


def test_a_distribution_out_of_range_is_named_by_its_position() -> None:
    bad = {"name": "b", "kind": "lognormal", "median": -1, "cv": 0.3, **CITED}
    assert _problems(distributions=[GOOD, bad]) == [
        "distributions[1].median = -1.0: must be a finite number > 0 (median in the "
        "parameter's unit)"
    ]


def test_a_missing_field_and_a_bad_constraint_are_named_by_position() -> None:
    assert _problems(distributions=[{"name": "a", "kind": "uniform", "low": 0, "high": 1}]) == [
        "distributions[0].unit: required field is missing",
        "distributions[0].source: required field is missing",
    ]
    assert _problems(
        distributions=[GOOD], constraints=[{"parameter": "a", "min": 0}, {"parameter": "a"}]
    ) == ["constraints[1].min: give min, max or both"]
