"""Problems of a population spec are named by their location in it, however deeply nested.

A distribution's parameter and a constraint within the spec's lists are named by their path
(``population.spec.distributions[2].median``, ``population.spec.constraints[1].min``), and so
is an item that is not a mapping (``distributions[0]``, not ``distributions.0``, nor
``constraints.0.Constraint``). A problem of the spec itself is listed beside its items'
problems, not dropped.
"""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.dynamics.trials import load_trial_design
from immunoprecise.dynamics.trials.population import PopulationSpec
from immunoprecise.errors import ValidationError

CITED = {"unit": "1/d", "source": "assumed"}
KAPPA = {"name": "kappa", "kind": "uniform", "low": 1, "high": 2, **CITED}


def _design_problems(spec: dict[str, Any]) -> list[tuple[str, object, str]]:
    design = {
        "name": "nested",
        "model": "fl_adcc",
        "seed": 1,
        "n_per_arm": 5,
        "follow_up_days": 84,
        "arms": [{"id": "none", "regimen": ""}],
        "population": {"spec": spec},
    }
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    return [(p.field, p.value, p.message) for p in err.value.problems]


def test_nested_distribution_and_constraint_problems_and_the_specs_own_are_all_named() -> None:
    spec = {
        "distributions": [KAPPA, {**KAPPA, "name": "a"}, {**KAPPA, "name": "b", "mean": "x"}],
        "constraints": [{"parameter": "kappa", "max": 2}, {"parameter": "kappa", "mni": 0}],
        "correlation_kind": "pearson",
    }
    assert _design_problems(spec) == [
        (
            "population.spec.distributions[2].mean",
            "x",
            "Input should be a valid number, unable to parse string as a number",
        ),
        (
            "population.spec.correlation_kind",
            "pearson",
            "Input should be 'spearman' or 'normal_scores'",
        ),
        (
            "population.spec.constraints[1].mni",
            0,
            "unknown field; did you mean 'min'? allowed here: parameter, min, max, ratio_to, label",
        ),
    ]


def test_range_problems_of_nested_items_are_named_by_position_beside_the_specs_own() -> None:
    spec = {
        "distributions": [
            KAPPA,
            {
                **KAPPA,
                "name": "b",
                "kind": "lognormal",
                "low": None,
                "high": None,
                "median": -1,
                "cv": 0.3,
            },
        ],
        "constraints": [{"parameter": "kappa", "min": 0}, {"parameter": "kappa"}],
        "correlation_kind": "pearson",
    }
    assert [field for field, _, _ in _design_problems(spec)] == [
        "population.spec.distributions[1].median",
        "population.spec.correlation_kind",
        "population.spec.constraints[1].min",
    ]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"distributions": ["kappa"]}, "distributions[0]"),
        ({"distributions": [KAPPA], "constraints": [5]}, "constraints[0]"),
        (
            {"distributions": [KAPPA], "correlated": ["kappa"], "correlation": [["a"]]},
            "correlation[0][0]",
        ),
    ],
)
def test_an_item_of_the_wrong_type_is_named_with_its_index(
    spec: dict[str, Any], field: str
) -> None:
    assert [f for f, _, _ in _design_problems(spec)] == [f"population.spec.{field}"]
    with pytest.raises(ValidationError) as err:
        PopulationSpec(**spec)
    assert [p.field for p in err.value.problems] == [f"PopulationSpec.{field}"]
