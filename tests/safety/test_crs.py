"""ASTCT CRS grading of one day: every grade boundary, masked fever and missing findings."""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.records import ToxicityObservation
from immunoprecise.safety import grade_crs

FEBRILE: dict[str, Any] = {"temperature": 38.5, "hypotension": "none", "oxygen": "none"}


def _obs(**fields: Any) -> ToxicityObservation:
    return ToxicityObservation(day=1, **fields)


@pytest.mark.parametrize(
    ("temperature", "grade"),
    [
        (37.9, 0),
        (38.0, 1),
        ("100.4 °F", 1),  # = 38.0 °C exactly, kept at 0.01 °C
        ("100.2 degF", 0),  # 37.89 °C
        (41.0, 1),
    ],
)
def test_fever_threshold(temperature: object, grade: int) -> None:
    g = grade_crs(_obs(temperature=temperature, hypotension="none", oxygen="none"))
    assert g.grade == grade
    assert g.criterion.startswith("fever")


@pytest.mark.parametrize(
    ("hypotension", "grade"),
    [
        ("none", 1),
        ("no_vasopressor", 2),
        ("one_vasopressor", 3),
        ("multiple_vasopressors", 4),
    ],
)
def test_each_hypotension_level(hypotension: str, grade: int) -> None:
    g = grade_crs(_obs(temperature=38.5, hypotension=hypotension, oxygen="none"))
    assert g.grade == grade
    if grade > 1:
        assert g.criterion.startswith("hypotension")


@pytest.mark.parametrize(
    ("oxygen", "flow", "grade"),
    [
        ("none", None, 1),
        ("nasal_cannula", 1, 2),
        ("nasal_cannula", 6, 2),  # ≤ 6 L/min is low flow
        ("nasal_cannula", 6.5, 3),  # > 6 L/min is high flow
        ("nasal_cannula", "6000 mL/min", 2),
        ("blow_by", None, 2),
        ("high_flow_nasal_cannula", None, 3),
        ("high_flow_nasal_cannula", 30, 3),
        ("facemask", None, 3),
        ("non_rebreather", None, 3),
        ("venturi", None, 3),
        ("cpap", None, 4),
        ("bipap", None, 4),
        ("mechanical_ventilation", None, 4),
    ],
)
def test_each_oxygen_level(oxygen: str, flow: object, grade: int) -> None:
    g = grade_crs(_obs(temperature=38.5, hypotension="none", oxygen=oxygen, oxygen_flow=flow))
    assert g.grade == grade
    if grade > 1:
        assert g.criterion.startswith("hypoxia")


def test_more_severe_of_hypotension_and_hypoxia_decides() -> None:
    g = grade_crs(
        _obs(temperature=39, hypotension="one_vasopressor", oxygen="nasal_cannula", oxygen_flow=2)
    )
    assert (g.grade, g.criterion) == (3, "hypotension: one vasopressor with or without vasopressin")


@pytest.mark.parametrize(
    ("fields", "grade", "masked"),
    [
        ({"temperature": 37.0, "hypotension": "one_vasopressor", "oxygen": "none"}, 0, False),
        ({"temperature": 37.0, "hypotension": "one_vasopressor", "oxygen": "none"}, 3, True),
        ({"temperature": 37.0, "hypotension": "none", "oxygen": "none"}, 0, True),
        ({"hypotension": "no_vasopressor", "oxygen": "none"}, 2, True),  # temperature not needed
        ({"temperature": 38.2, "hypotension": "none", "oxygen": "none"}, 1, True),
    ],
)
def test_masked_fever_is_not_required(fields: dict[str, Any], grade: int, masked: bool) -> None:
    g = grade_crs(_obs(**fields), fever_masked=masked)
    assert g.grade == grade
    assert ("Fever not required" in g.rationale) == masked


@pytest.mark.parametrize(
    ("fields", "at_least", "missing"),
    [
        ({"hypotension": "none", "oxygen": "none"}, 0, ("temperature",)),
        ({"hypotension": "multiple_vasopressors", "oxygen": "none"}, 0, ("temperature",)),
        ({"temperature": 38.5, "oxygen": "none"}, 1, ("hypotension",)),
        ({"temperature": 38.5, "hypotension": "no_vasopressor"}, 2, ("oxygen",)),
        ({"temperature": 38.5}, 1, ("hypotension", "oxygen")),
        (
            {"temperature": 38.5, "hypotension": "none", "oxygen": "nasal_cannula"},
            2,
            ("oxygen_flow",),
        ),
    ],
)
def test_missing_findings_leave_the_grade_unknown(
    fields: dict[str, Any], at_least: int, missing: tuple[str, ...]
) -> None:
    g = grade_crs(_obs(**fields))
    assert g.grade is None
    assert g.at_least == at_least
    assert set(missing) <= set(g.missing)
    assert "unknown" in g.text


def test_grade_four_is_decided_even_with_missing_findings() -> None:
    g = grade_crs(_obs(temperature=39.0, oxygen="cpap"))
    assert (g.grade, g.missing) == (4, ())


def test_no_fever_means_no_crs_even_with_missing_findings() -> None:
    g = grade_crs(_obs(temperature=37.5))
    assert (g.grade, g.missing) == (0, ())
    assert "requires fever" in g.rationale
