"""Trial designs as data: a valid design, every invalid field named, the design hash."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from immunoprecise.dynamics.trials.design import (
    TrialDesign,
    design_hash,
    load_trial_design,
)
from immunoprecise.errors import ValidationError

VALID: dict[str, Any] = {
    "name": "CAR-T timing",
    "model": "cartmath2021",
    "seed": 11,
    "n_per_arm": 1000,
    "follow_up_days": 365,
    "arms": [
        {"id": "early", "label": "CAR-T day 0", "regimen": "CAR-T 1e6 cells d0"},
        {"id": "late", "regimen": "CAR-T 1e6 cells d42"},
    ],
    "observed": [
        {"arm": "early", "endpoint": "orr", "responders": 9, "n": 19, "source": "example 2026"}
    ],
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def test_a_valid_design_reads_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump(VALID, allow_unicode=True), encoding="utf-8")
    design = load_trial_design(path)
    assert isinstance(design, TrialDesign)
    assert [a.name for a in design.arms] == ["CAR-T day 0", "late"]
    assert design.response_criteria == "recist"
    assert design.population.cv == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"model": "nosuchmodel"}, "model", "nosuchmodel"),
        ({"n_per_arm": 0}, "n_per_arm", "greater than or equal to 1"),
        ({"follow_up_days": 5000}, "follow_up_days", "3650"),
        ({"seed": -1}, "seed", "expected a whole number from 0 to 4294967295"),
        # a flag is no number, NaN is no day count (it was "should be ≤ 3650")
        ({"n_per_arm": True}, "n_per_arm", "expected a number, got true"),
        ({"seed": False}, "seed", "expected a number, got false"),
        ({"follow_up_days": float("nan")}, "follow_up_days", "expected a finite number, got nan"),
        ({"follow_up_days": "nan"}, "follow_up_days", "expected a finite number, got nan"),
        ({"lethal_burden_cells": float("inf")}, "lethal_burden_cells", "finite number, got inf"),
        ({"population": {"initial": {"T": float("nan")}}}, "population.initial.T", "finite"),
        ({"response_criteria": "who"}, "response_criteria", "recist"),
        ({"endpoints": ["orr", "dcr"]}, "endpoints[1]", "orr"),
        (
            {"arms": [{"id": "a", "regimen": "CAR-T lots d0"}]},
            "arms[0].regimen",
            "lots",
        ),
        (
            {"arms": [{"id": "a", "regimen": ""}, {"id": "a", "regimen": ""}]},
            "arms[1].id",
            "repeated: ['a']",
        ),
        ({"arms": [{"id": "bad id!", "regimen": ""}]}, "arms[0].id", "a short id of 1–64"),
        ({"arms": []}, "arms", "give 1 to 10 arms"),
        (
            {
                "arms": [
                    {"id": "early", "regimen": ""},
                    {"id": "late", "regimen": "CAR-T 1e6 cells d400"},
                ]
            },
            "arms[1].regimen",
            "no dose within follow_up_days = 365: arm 'late' (first dose on day 400)",
        ),
        (
            {
                "observed": [
                    {"arm": "x", "endpoint": "orr", "responders": 1, "n": 2, "source": "s 1"}
                ]
            },
            "observed[0].arm",
            "do not exist: ['x']",
        ),
        (
            {
                "observed": [
                    {"arm": "early", "endpoint": "orr", "responders": 3, "n": 2, "source": "s 1"}
                ]
            },
            "observed[0]",
            "exceed n",
        ),
        # no scan within the follow-up: every patient NE
        ({"follow_up_days": 50}, "assessment_interval_days", "(follow_up_days = 50)"),
        (
            {"follow_up_days": 80, "assessment_interval_days": 84},
            "assessment_interval_days",
            "at day 84, falls after the end of follow-up (follow_up_days = 80)",
        ),
        # cartmath2021 starts at 2e6 cells: a 1.56 mm node, not measurable by Lugano
        (
            {"response_criteria": "lugano"},
            "population.initial.T",
            "needs a measurable node at baseline",
        ),
        (
            {"response_criteria": "lugano"},
            "population.initial.T",
            "T = 2e+06 cells (the model default)",
        ),
        ({"response_criteria": "lugano"}, "population.initial.T", "a node of 1.56 mm"),
        ({"response_criteria": "lugano"}, "population.initial.T", "more than 15 mm"),
        # no tumor at baseline: every patient was reported as a failed simulation
        (
            {"population": {"initial": {"T": 0}}},
            "population.initial.T",
            "the population: the initial tumor T = 0 cells (population.initial.T) is below one",
        ),
        (
            {"lethal_burden_cells": 2e6},
            "lethal_burden_cells",
            "the population: the initial tumor T = 2e+06 cells (the model default) is at or "
            "above lethal_burden_cells = 2e+06",
        ),
    ],
)
def test_invalid_fields_are_named(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        load_trial_design(_with(**changes))
    problems = info.value.problems
    assert any(p.field.startswith(field) and message in str(p) for p in problems), problems


def test_missing_seed_and_unknown_fields_are_listed_together() -> None:
    data = {k: v for k, v in VALID.items() if k != "seed"} | {"arms_count": 2}
    with pytest.raises(ValidationError) as info:
        load_trial_design(data)
    fields = {p.field for p in info.value.problems}
    assert {"seed", "arms_count"} <= fields


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file"):
        load_trial_design(tmp_path / "missing.yaml")
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(ValidationError, match="is a folder, not a design file"):
        load_trial_design(tmp_path / "folder.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("arms: [unclosed", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid YAML"):
        load_trial_design(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="expected a mapping"):
        load_trial_design(listed)


def test_design_hash_follows_content_not_key_order() -> None:
    a = load_trial_design(VALID)
    b = load_trial_design(dict(reversed(list(VALID.items()))))
    assert design_hash(a) == design_hash(b)
    assert design_hash(a) != design_hash(load_trial_design(_with(seed=12)))


EXAMPLE = Path(__file__).parents[2] / "src/immunoprecise/data/examples/fl_gammadelta_trial.yaml"


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return data


def test_a_follow_up_of_one_scan_interval_is_accepted() -> None:
    design = load_trial_design(_with(follow_up_days=56))
    assert design.assessment_days() == (0.0, 56.0)


def test_a_stratum_starting_at_the_lethal_burden_is_refused_naming_both_numbers() -> None:
    data = _example()
    data["population"]["strata"][1]["scale"] = {"T": 12.0}  # 1.2e12 cells > 1e12
    with pytest.raises(ValidationError) as info:
        load_trial_design(data)
    message = str(info.value)
    assert "stratum 'intermediate/poor FLIPI'" in message
    assert "T = 1.2e+12 cells (1e+11 from population.initial.T × scale 12)" in message
    assert "lethal_burden_cells = 1e+12" in message
    data["lethal_burden_cells"] = 2e12  # a higher lethal burden makes the stratum valid again
    assert load_trial_design(data).lethal_burden_cells == 2e12


def test_the_shipped_example_starts_below_the_lethal_burden_with_measurable_nodes() -> None:
    design = load_trial_design(EXAMPLE)
    starts = design.initial_tumor()
    assert starts == {
        "low FLIPI": (1e11, "population.initial.T"),
        "intermediate/poor FLIPI": (6e11, "1e+11 from population.initial.T × scale 6"),
    }
    assert all(cells < design.lethal_burden_cells for cells, _ in starts.values())
    assert design.response_criteria == "lugano"


def test_lugano_names_the_stratum_whose_node_is_not_measurable() -> None:
    data = _example()
    data["population"]["strata"][0]["scale"] = {"T": 0.01}  # 1e9 cells: a 12.4 mm node
    data["population"]["strata"][0]["source"] = "test"
    with pytest.raises(ValidationError) as info:
        load_trial_design(data)
    message = str(info.value)
    assert "stratum 'low FLIPI'" in message
    assert "T = 1e+09 cells (1e+11 from population.initial.T × scale 0.01)" in message
    assert "a node of 12.4 mm" in message
    data["response_criteria"] = "recist"
    assert load_trial_design(data).response_criteria == "recist"


def test_a_stratum_without_tumor_is_refused() -> None:
    data = _example()
    data["population"]["strata"][0]["scale"] = {"T": 0.0}
    data["population"]["strata"][0]["source"] = "test"
    with pytest.raises(ValidationError):  # a scale must be > 0
        load_trial_design(data)
    data["population"]["initial"] = {"T": 0.5}
    data["population"]["strata"][0]["scale"] = {"T": 1.0}
    data["response_criteria"] = "recist"
    with pytest.raises(ValidationError) as info:
        load_trial_design(data)
    assert "stratum 'low FLIPI': the initial tumor T = 0.5 cells" in str(info.value)


def test_a_sampled_initial_tumor_is_checked_at_its_median() -> None:
    spec = {
        "distributions": [
            {"name": "T", "kind": "lognormal", "median": 1e9, "cv": 0.5, "unit": "cells",
             "source": "test"}
        ]
    }  # fmt: skip
    data = _with(population={"spec": spec}, response_criteria="lugano")
    expected = re.escape("T = 1e+09 cells (the median of population.spec's T distribution)")
    with pytest.raises(ValidationError, match=expected):
        load_trial_design(data)
    spec["distributions"][0]["median"] = 1e10
    assert load_trial_design(data).initial_tumor()[""][0] == pytest.approx(1e10)


def test_the_hash_of_a_design_without_body_size_is_unchanged() -> None:
    # the hash resumed chunks are matched by: a design that states no body size keeps it
    assert (
        design_hash(TrialDesign.model_validate(VALID))
        == "5937b2593152e91ed623f910755b5ffec86ef46e978dec15b446dbbf9ab13370"
    )
    stated = TrialDesign.model_validate(_with(population={"body_weight_kg": 70}))
    assert design_hash(stated) != design_hash(TrialDesign.model_validate(VALID))


@pytest.mark.parametrize("field", ["body_weight_kg", "body_surface_m2"])
@pytest.mark.parametrize("value", [0, -70, float("nan"), float("inf"), True, "heavy"])
def test_a_body_size_must_be_a_positive_finite_number(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        load_trial_design(_with(population={field: value}))
    assert f"population.{field}" in str(caught.value)
    assert caught.value.problems[0].field == f"population.{field}"


def test_a_stated_body_size_is_used_to_check_the_doses() -> None:
    design = TrialDesign.model_validate(
        _with(population={"body_weight_kg": 20, "body_surface_m2": 0.8})
    )
    assert design.population.body_size == {"body_weight_kg": 20.0, "body_surface_m2": 0.8}
    assert TrialDesign.model_validate(VALID).population.body_size == {
        "body_weight_kg": 70.0,
        "body_surface_m2": 1.8,
    }
