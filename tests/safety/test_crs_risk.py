"""Early severe-CRS risk models (data): thresholds, missing observations, a custom model file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import ToxicityObservation
from immunoprecise.safety import crs_risk, crs_risk_models


def _days(t0: float | None, t1: float | None, mcp1: float | None) -> list[ToxicityObservation]:
    cytokines = {"MCP-1": mcp1} if mcp1 is not None else {}
    return [
        ToxicityObservation(day=0, temperature=t0),
        ToxicityObservation(day=1, temperature=t1, cytokines=cytokines),
        ToxicityObservation(day=2, temperature=40.5, cytokines={"MCP1": 9_000}),  # outside
    ]


def test_shipped_model_holds_hay_2017_values_and_says_they_are_unverified() -> None:
    (model,) = crs_risk_models()
    assert model.id == "hay2017_tree"
    assert [(c.input, c.at_least) for c in model.criteria] == [
        ("temperature", 38.9),
        ("cytokine:MCP1", 1343.5),
    ]
    assert model.verified is False
    assert "10.1182/blood-2017-06-793141" in model.reference


@pytest.mark.parametrize(
    ("t0", "t1", "mcp1", "high"),
    [
        (37.0, 38.9, 1343.5, True),  # both at their thresholds
        (38.9, 37.0, 5000.0, True),
        (37.0, 38.8, 5000.0, False),  # fever below 38.9 on both days
        (37.0, 38.9, 1343.4, False),  # MCP-1 just below
        (37.0, 39.5, None, None),  # MCP-1 not measured: undecided
        (None, 38.5, 5000.0, None),  # day 0 temperature missing: could have been ≥ 38.9
        (None, 39.0, 5000.0, True),  # met whatever day 0 was
        (None, 37.0, 100.0, False),  # MCP-1 decides "no" though a temperature is missing
    ],
)
def test_hay_tree_at_and_around_its_thresholds(
    t0: float | None, t1: float | None, mcp1: float | None, high: bool | None
) -> None:
    (result,) = crs_risk(_days(t0, t1, mcp1))
    assert result.high_risk is high
    assert bool(result.missing) == (high is None)


def test_missing_observations_are_named() -> None:
    (result,) = crs_risk(_days(None, 38.5, None))
    assert result.missing == (
        "toxicity[].temperature (day 0)",
        "toxicity[].cytokines.MCP1 (days 0–1)",
    )
    assert "not verified" in result.rationale


def test_no_observations_in_window_is_undecided() -> None:
    (result,) = crs_risk([ToxicityObservation(day=5, temperature=40.0)])
    assert result.high_risk is None


def test_undecided_rationale_reads_as_a_sentence() -> None:
    (result,) = crs_risk([ToxicityObservation(day=0, temperature=39.5)])
    assert result.high_risk is None
    assert ": undecided whether high risk of grade ≥ 4 CRS — " in result.rationale
    assert "undecided of" not in result.rationale


def test_custom_model_file(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        """
models:
  - id: il6_day0
    name: toy IL-6 model
    outcome: toy
    reference: none
    verified: true
    verification: test
    window: {first_day: 0, last_day: 0}
    criteria:
      - {input: "cytokine:IL6", label: IL-6, at_least: 100, unit: pg/mL, every_day: false}
""",
        encoding="utf-8",
    )
    models = crs_risk_models(path)
    obs: list[Any] = [ToxicityObservation(day=0, cytokines={"il6": 150})]
    assert crs_risk(obs, models=models)[0].high_risk is True


def test_bad_model_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models:\n  - id: x\n    name: y\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"models\[0\]\.criteria"):
        crs_risk_models(path)
