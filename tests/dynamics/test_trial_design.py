"""Trial designs as data: a valid design, every invalid field named, the design hash."""

from __future__ import annotations

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
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"response_criteria": "who"}, "response_criteria", "recist"),
        ({"endpoints": ["orr", "dcr"]}, "endpoints[1]", "orr"),
        (
            {"arms": [{"id": "a", "regimen": "CAR-T lots d0"}]},
            "arms[0].regimen",
            "lots",
        ),
        (
            {"arms": [{"id": "a", "regimen": ""}, {"id": "a", "regimen": ""}]},
            "(record)",
            "repeated: ['a']",
        ),
        ({"arms": [{"id": "bad id!", "regimen": ""}]}, "arms[0].id", "pattern"),
        ({"arms": []}, "(record)", "give 1 to 10 arms"),
        (
            {
                "observed": [
                    {"arm": "x", "endpoint": "orr", "responders": 1, "n": 2, "source": "s 1"}
                ]
            },
            "(record)",
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
