"""Checks that tie fields of a trial design together name the field to change, not the design."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ValidationError

DESIGN: dict[str, Any] = {
    "name": "FL rituximab",
    "model": "fl_adcc",
    "seed": 1,
    "n_per_arm": 200,
    "follow_up_days": 84,
    "arms": [
        {"id": "ctl", "regimen": ""},
        {"id": "R", "regimen": "rituximab 375 mg/m2 d0,7,14,21"},
    ],
}


def _refused(**changes: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as err:
        load_trial_design({**DESIGN, **changes})
    assert "(record)" not in str(err.value)
    return [(p.field, str(p)) for p in err.value.problems]


def test_no_arms_names_the_arms() -> None:
    assert _refused(arms=[]) == [("arms", "arms: give 1 to 10 arms, not 0")]


def test_eleven_arms_names_the_arms() -> None:
    arms = [{"id": f"a{k}", "regimen": ""} for k in range(11)]
    [(field, text)] = _refused(arms=arms)
    assert field == "arms"
    assert "give 1 to 10 arms, not 11" in text


def test_an_endpoint_listed_twice_names_the_second_listing() -> None:
    [(field, text)] = _refused(endpoints=["orr", "pfs", "orr"])
    assert field == "endpoints[2]"
    assert "each endpoint may be listed once" in text


def test_an_arm_starting_after_the_follow_up_names_its_regimen() -> None:
    arms = [*DESIGN["arms"], {"id": "late", "regimen": "rituximab 375 mg/m2 d100"}]
    [(field, text)] = _refused(arms=arms)
    assert field == "arms[2].regimen"
    assert "no dose within follow_up_days = 84: arm 'late' (first dose on day 100)" in text


def test_an_agent_the_model_cannot_take_names_each_arm_with_it() -> None:
    arms = [
        {"id": "R", "regimen": "rituxmab 375 mg/m2 d0"},
        {"id": "R2", "regimen": "rituximab 375 mg/m2 d0"},
        {"id": "R3", "regimen": "ritux 375 mg/m2 d0"},
    ]
    problems = _refused(arms=arms)
    assert [field for field, _ in problems] == ["arms[0].regimen", "arms[2].regimen"]
    assert "cannot take agent 'rituxmab'" in problems[0][1]


def test_a_population_name_not_in_the_model_is_named_where_it_is_written() -> None:
    population = {
        "vary": ["a", "rh0"],
        "initial": {"Tt": 1e9},
        "strata": [
            {"name": "low", "proportion": 0.5},
            {"name": "high", "proportion": 0.5, "scale": {"KK": 2}, "source": "FLIPI 2004"},
        ],
    }
    problems = dict(_refused(population=population))
    assert list(problems) == [
        "population.vary[1]",
        "population.initial.Tt",
        "population.strata[1].scale.KK",
    ]
    assert "did you mean 'T'?" in problems["population.initial.Tt"]


def test_an_unknown_parameter_set_names_it_instead_of_failing_in_the_limits() -> None:
    # the limits read the parameter set: an unknown one was a ModelError naming no field
    [(field, text)] = _refused(population={"parameter_set": "patient9"})
    assert field == "population.parameter_set"
    assert "no parameter set 'patient9'" in text


def test_no_tumor_at_baseline_names_the_initial_tumor() -> None:
    [(field, text)] = _refused(population={"initial": {"T": 0}})
    assert field == "population.initial.T"
    assert "is below one cell" in text


def test_a_lethal_initial_tumor_names_the_initial_tumor() -> None:
    [(field, text)] = _refused(population={"initial": {"T": 2e12}})
    assert field == "population.initial.T"
    assert "at or above lethal_burden_cells = 1e+12" in text


def test_a_lethal_burden_below_the_model_default_tumor_names_the_lethal_burden() -> None:
    [(field, text)] = _refused(lethal_burden_cells=1e9)
    assert field == "lethal_burden_cells"
    assert "(the model default) is at or above lethal_burden_cells = 1e+09" in text


def test_a_stratum_scaled_to_the_lethal_burden_names_its_scale() -> None:
    strata = [
        {"name": "low", "proportion": 0.5},
        {"name": "high", "proportion": 0.5, "scale": {"T": 100}, "source": "FLIPI 2004"},
    ]
    [(field, text)] = _refused(population={"strata": strata})
    assert field == "population.strata[1].scale.T"
    assert "stratum 'high'" in text


def test_a_sampled_tumor_too_small_for_lugano_names_its_distribution() -> None:
    spec = {
        "distributions": [
            {
                "name": "T",
                "kind": "lognormal",
                "median": 1e8,
                "cv": 0.3,
                "unit": "cells",
                "source": "FL baseline burden",
            }
        ]
    }
    [(field, text)] = _refused(response_criteria="lugano", population={"spec": spec})
    assert field == "population.spec.distributions[0]"
    assert "needs a measurable node at baseline" in text


def test_a_lugano_node_too_small_names_the_initial_tumor() -> None:
    [(field, text)] = _refused(response_criteria="lugano", population={"initial": {"T": 1e8}})
    assert field == "population.initial.T"
    assert "a node of 5.76 mm" in text


def test_every_stratum_too_small_for_lugano_is_named() -> None:
    strata = [
        {"name": "low", "proportion": 0.5, "scale": {"T": 0.001}, "source": "FLIPI 2004"},
        {"name": "high", "proportion": 0.5, "scale": {"T": 0.01}, "source": "FLIPI 2004"},
    ]
    problems = _refused(response_criteria="lugano", population={"strata": strata})
    assert [field for field, _ in problems] == [
        "population.strata[0].scale.T",
        "population.strata[1].scale.T",
    ]


def test_a_chunk_too_large_names_the_chunk_size() -> None:
    changes = {"n_per_arm": 20_000, "follow_up_days": 3650, "assessment_interval_days": 0.1}
    [(field, text)] = _refused(**changes)
    assert field == "chunk_size"
    assert "lower chunk_size to at most 547" in text


def test_more_scans_than_a_chunk_holds_names_the_assessment_interval() -> None:
    [(field, _)] = _refused(follow_up_days=3650, assessment_interval_days=0.001)
    assert field == "assessment_interval_days"


def test_too_many_kept_trajectories_names_keep_trajectories() -> None:
    changes = {
        "n_per_arm": 20_000,
        "chunk_size": 500,
        "follow_up_days": 3650,
        "assessment_interval_days": 0.1,
        "keep_trajectories": 1000,
    }
    [(field, text)] = _refused(**changes)
    assert field == "keep_trajectories"
    assert "lower keep_trajectories to at most 273" in text


def test_the_api_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        ip.virtual_trial({**DESIGN, "lethal_burden_cells": 1e9}, scheduler="synchronous")
    assert err.value.problems[0].field == "lethal_burden_cells"
    assert not list(tmp_path.iterdir())


def test_the_command_line_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    arms = [*DESIGN["arms"], {"id": "late", "regimen": "rituximab 375 mg/m2 d100"}]
    path.write_text(yaml.safe_dump({**DESIGN, "arms": arms}), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["trial", str(path), "--scheduler", "synchronous", "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 2
    assert "  - arms[2].regimen = 'rituximab 375 mg/m2 d100': no dose within" in result.output
    assert "(record)" not in result.output
    assert not (tmp_path / "run").exists()


KAPPA: dict[str, Any] = {
    "name": "kappa",
    "kind": "lognormal",
    "median": 1.0,
    "cv": 0.3,
    "unit": "1/d",
    "source": "assumed for the example",
}


def test_a_spec_distribution_missing_a_field_is_named_by_its_position() -> None:
    spec = {"distributions": [{k: v for k, v in KAPPA.items() if k != "unit"}]}
    assert _refused(population={"spec": spec}) == [
        (
            "population.spec.distributions[0].unit",
            "population.spec.distributions[0].unit: required field is missing",
        )
    ]


def test_a_misspelt_field_of_a_spec_distribution_is_named_with_the_spelling_meant() -> None:
    spec = {"distributions": [{**KAPPA, "meadian": 2.0}]}
    [(field, text)] = _refused(population={"spec": spec})
    assert field == "population.spec.distributions[0].meadian"
    assert "unknown field; did you mean 'median'?" in text


def test_a_bad_number_of_the_second_distribution_is_named_by_its_position() -> None:
    spec = {"distributions": [KAPPA, {**KAPPA, "name": "h", "cv": -1}]}
    [(field, text)] = _refused(population={"spec": spec})
    assert field == "population.spec.distributions[1].cv"
    assert "must be a finite number > 0" in text


def test_a_constraint_without_bounds_is_named_by_its_position() -> None:
    spec = {
        "distributions": [KAPPA],
        "constraints": [{"parameter": "kappa", "max": 3}, {"parameter": "kappa"}],
    }
    [(field, text)] = _refused(population={"spec": spec})
    assert field == "population.spec.constraints[1].min"
    assert "give min, max or both" in text


def test_a_repeated_stratum_name_names_the_second_stratum() -> None:
    strata = [{"name": "low", "proportion": 0.5}, {"name": "low", "proportion": 0.5}]
    [(field, text)] = _refused(population={"strata": strata})
    assert field == "population.strata[1].name"
    assert "stratum names must be unique" in text


def test_stratum_proportions_not_adding_up_to_one_name_the_strata() -> None:
    strata = [{"name": "low", "proportion": 0.6}, {"name": "high", "proportion": 0.5}]
    assert _refused(population={"strata": strata}) == [
        (
            "population.strata",
            "population.strata: stratum proportions must add up to 1; they add up to 1.1 "
            "(0.6, 0.5)",
        )
    ]


def test_a_negative_initial_state_names_the_state() -> None:
    [(field, text)] = _refused(population={"initial": {"N": -5}})
    assert field == "population.initial.N"
    assert "finite and ≥ 0" in text


def test_a_constraint_on_a_parameter_the_spec_does_not_declare_is_named_by_its_position() -> None:
    spec = {"distributions": [KAPPA], "constraints": [{"parameter": "kapa", "min": 0.1}]}
    [(field, text)] = _refused(population={"spec": spec})
    assert field == "population.spec.constraints[0].parameter"
    assert "unknown parameter; the spec declares kappa" in text


@pytest.mark.parametrize(
    ("changes", "field", "got"),
    [
        (
            {"arms": {"R": "rituximab 375 mg/m2 d0", "C": ""}},
            "arms",
            "got a mapping (keys: R, C)",
        ),
        ({"arms": "rituximab 375 mg/m2 d0"}, "arms", "got a text"),
        ({"endpoints": "orr"}, "endpoints", "got a text"),
        (
            {"observed": {"arm": "R", "endpoint": "orr", "responders": 1, "n": 2, "source": "x 1"}},
            "observed",
            "got a mapping (keys: arm, endpoint, responders, n, source)",
        ),
        (
            {"population": {"strata": {"name": "low", "proportion": 1}}},
            "population.strata",
            "got a mapping (keys: name, proportion)",
        ),
    ],
)
def test_a_mapping_or_a_text_where_a_list_is_expected_says_how_to_write_the_list(
    changes: dict[str, Any], field: str, got: str
) -> None:
    [(found, text)] = _refused(**changes)
    assert found == field
    assert "expected a list (a '- ' line per item, or [..., ...])" in text
    assert got in text
    assert "tuple" not in text
