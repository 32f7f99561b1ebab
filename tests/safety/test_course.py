"""Grades over a course: maximum and its day, fever masking across days, record validation."""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, ToxicityObservation, validate_model
from immunoprecise.safety import grade_course

NEURO: dict[str, Any] = {
    "ice_score": 10,
    "consciousness": "alert",
    "seizure": "none",
    "motor_weakness": False,
    "cerebral_edema": "none",
    "icp_signs": [],
}


def _day(day: int, **fields: Any) -> ToxicityObservation:
    return ToxicityObservation(
        day=day, **{"hypotension": "none", "oxygen": "none", **NEURO, **fields}
    )


def test_maximum_grade_and_the_first_day_it_was_reached() -> None:
    course = grade_course(
        [
            _day(3, temperature=38.4),
            _day(1, temperature=38.2),
            _day(2, temperature=39.0, hypotension="no_vasopressor"),
            _day(4, temperature=38.6, hypotension="no_vasopressor"),
            _day(5, temperature=37.0, ice_score=8),
        ],
        age_years=60,
    )
    assert [d.day for d in course.days] == [1, 2, 3, 4, 5]
    assert [d.crs.grade for d in course.days] == [1, 2, 1, 2, 0]
    assert (course.crs_max.grade, course.crs_max.day, course.crs_max.complete) == (2, 2, True)
    assert (course.icans_max.grade, course.icans_max.day) == (1, 5)
    assert course.crs_max.text == "grade 2 (day 2)"


@pytest.mark.parametrize(
    ("days", "masked"),
    [
        # fever, then treated: later afebrile days are graded without fever
        (
            [
                {"temperature": 38.5},
                {"temperature": 38.0, "fever_treated": True},
                {"temperature": 37.0, "hypotension": "one_vasopressor"},
            ],
            [False, True, True],
        ),
        # treatment on the febrile day itself masks from that day on
        (
            [
                {"temperature": 38.5, "fever_treated": True},
                {"temperature": 36.9, "oxygen": "facemask"},
            ],
            [True, True],
        ),
        # antipyretics without CRS fever do not mask anything
        (
            [
                {"temperature": 37.2, "fever_treated": True},
                {"temperature": 37.0, "hypotension": "one_vasopressor"},
            ],
            [False, False],
        ),
        # masking carries over days without treatment
        (
            [
                {"temperature": 39.0, "fever_treated": True},
                {"temperature": 37.0},
                {"temperature": 37.0},
                {"temperature": 36.8, "hypotension": "no_vasopressor"},
            ],
            [True, True, True, True],
        ),
    ],
)
def test_fever_masking_carries_over_days(days: list[dict[str, Any]], masked: list[bool]) -> None:
    course = grade_course([_day(i, **d) for i, d in enumerate(days)], age_years=50)
    assert [d.fever_masked for d in course.days] == masked
    last = course.days[-1]
    if masked[-1] and days[-1].get("hypotension") == "one_vasopressor":
        assert last.crs.grade == 3
    if not masked[-1] and days[-1].get("hypotension") == "one_vasopressor":
        assert last.crs.grade == 0


def test_masked_course_reaches_its_maximum_on_an_afebrile_day() -> None:
    course = grade_course(
        [
            _day(1, temperature=38.9, fever_treated=True),
            _day(2, temperature=37.1, hypotension="multiple_vasopressors"),
        ],
        age_years=50,
    )
    assert (course.crs_max.grade, course.crs_max.day) == (4, 2)


def test_undecided_days_make_the_maximum_a_lower_bound() -> None:
    course = grade_course(
        [
            _day(1, temperature=38.5, hypotension="no_vasopressor"),
            ToxicityObservation(day=2, temperature=38.7),  # hypotension, oxygen, neuro missing
        ],
        age_years=50,
    )
    crs = course.crs_max
    assert (crs.grade, crs.day, crs.complete, crs.undecided_days) == (2, 1, False, (2,))
    assert crs.text == "≥ grade 2 (day 1); day 2 undecided"
    assert course.icans_max.complete is False


def test_grade_four_is_a_complete_maximum_despite_undecided_days() -> None:
    course = grade_course(
        [_day(1, temperature=39, oxygen="mechanical_ventilation"), ToxicityObservation(day=2)],
        age_years=50,
    )
    assert (course.crs_max.grade, course.crs_max.complete) == (4, True)


def test_empty_course_proves_nothing() -> None:
    course = grade_course([])
    assert (course.crs_max.grade, course.crs_max.complete) == (None, False)
    assert course.crs_max.text == "unknown"


def test_record_age_chooses_capd_for_a_child() -> None:
    record = PatientRecord.model_validate(
        {
            "patient": {"id": "C1", "age": 9},
            "disease": {"diagnosis": "B-ALL"},
            "toxicity": [{**NEURO, "day": 4, "capd_score": 10, "ice_score": None}],
        }
    )
    course = grade_course(record)
    assert course.neuro_tool == "CAPD"
    assert course.days[0].icans.grade == 3
    # an older patient with only a CAPD (developmental delay, as ASTCT allows) keeps the CAPD
    adult = grade_course(record, age_years=30).days[0].icans
    assert adult.grade == 3
    assert "older than 12" in adult.rationale


def _validate(toxicity: list[dict[str, Any]]) -> PatientRecord:
    return validate_model(
        PatientRecord,
        {"patient": {"id": "V1"}, "disease": {"diagnosis": "DLBCL"}, "toxicity": toxicity},
        source="v.json",
    )


@pytest.mark.parametrize(
    ("entry", "where", "expected"),
    [
        (
            {"day": 1, "temperature": "38 kg"},
            "toxicity[0].temperature",
            "expected a unit like '°C'",
        ),
        ({"day": 1, "temperature": 52}, "toxicity[0].temperature", "30–45 °C"),
        ({"day": 1, "temperature": "120 °F"}, "toxicity[0].temperature", "(from 120 °F)"),
        ({"day": 1, "ice_score": 11}, "toxicity[0].ice_score", "less than or equal to 10"),
        ({"day": 1, "capd_score": 40}, "toxicity[0].capd_score", "less than or equal to 32"),
        ({"day": 1, "oxygen": "helmet"}, "toxicity[0].oxygen", "nasal_cannula"),
        ({"day": 1, "oxygen_flow": "3 kg"}, "toxicity[0].oxygen_flow", "L/min"),
        (
            {"day": 1, "oxygen": "high_flow_nasal_cannula", "oxygen_flow": 4},
            "toxicity[0]",
            "low flow",
        ),
        ({"temperature": 38}, "toxicity[0].day", "required"),
        ({"day": 1, "fever": True}, "toxicity[0].fever", "did you mean 'fever_treated'"),
    ],
)
def test_invalid_observations_name_field_value_and_range(
    entry: dict[str, Any], where: str, expected: str
) -> None:
    with pytest.raises(ValidationError) as info:
        _validate([entry])
    text = str(info.value)
    assert where in text
    assert expected in text


def test_one_observation_per_day() -> None:
    with pytest.raises(ValidationError, match="more than one observation for day 2"):
        _validate([{"day": 2}, {"day": 2, "temperature": 38}])


def test_observations_are_sorted_by_day() -> None:
    record = _validate([{"day": 3}, {"day": -1}, {"day": 0}])
    assert [o.day for o in record.toxicity] == [-1, 0, 3]
