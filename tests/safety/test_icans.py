"""ASTCT ICANS grading of one day: ICE and CAPD bands, every domain, age 12/13, missing data."""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.records import ToxicityObservation
from immunoprecise.safety import grade_icans, uses_capd

NORMAL: dict[str, Any] = {
    "consciousness": "alert",
    "seizure": "none",
    "motor_weakness": False,
    "cerebral_edema": "none",
    "icp_signs": [],
}


def _obs(**fields: Any) -> ToxicityObservation:
    return ToxicityObservation(day=5, **{**NORMAL, **fields})


@pytest.mark.parametrize(
    ("ice", "grade"),
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)],
)
def test_ice_score_bands(ice: int, grade: int) -> None:
    g = grade_icans(_obs(ice_score=ice), age_years=40)
    assert g.grade == grade
    if grade:
        assert g.criterion == f"ICE score: ICE {ice}/10"


def test_ice_zero_unarousable_is_grade_four() -> None:
    g = grade_icans(_obs(ice_score=0, consciousness="unarousable"), age_years=40)
    assert (g.grade, g.criterion.split(":")[0]) == (4, "consciousness")


@pytest.mark.parametrize(
    ("consciousness", "grade"),
    [
        ("alert", 0),
        ("awakens_spontaneously", 1),
        ("awakens_to_voice", 2),
        ("awakens_to_tactile_stimulus", 3),
        ("unarousable", 4),
    ],
)
def test_each_level_of_consciousness(consciousness: str, grade: int) -> None:
    g = grade_icans(_obs(ice_score=10, consciousness=consciousness), age_years=40)
    assert g.grade == grade


@pytest.mark.parametrize(
    ("fields", "grade"),
    [
        ({"seizure": "none"}, 0),
        ({"seizure": "rapidly_resolving"}, 3),
        ({"seizure": "life_threatening"}, 4),
        ({"motor_weakness": True}, 4),
        ({"cerebral_edema": "focal"}, 3),
        ({"cerebral_edema": "diffuse"}, 4),
        ({"icp_signs": ["posturing"]}, 4),
        ({"icp_signs": ["cranial_nerve_vi_palsy"]}, 4),
        ({"icp_signs": ["papilledema"]}, 4),
        ({"icp_signs": ["cushings_triad"]}, 4),
    ],
)
def test_seizure_motor_and_raised_icp(fields: dict[str, Any], grade: int) -> None:
    assert grade_icans(_obs(ice_score=10, **fields), age_years=40).grade == grade


def test_worst_domain_decides() -> None:
    # ASTCT's example: ICE 3 (grade 2) with a generalized seizure is grade 3
    g = grade_icans(_obs(ice_score=3, seizure="rapidly_resolving"), age_years=40)
    assert g.grade == 3
    assert g.criterion.startswith("seizure")


@pytest.mark.parametrize(
    ("age", "capd"),
    [(5, True), (12, True), (12.9, True), (13, False), (40, False), (None, None)],
)
def test_capd_for_children_twelve_or_younger(age: float | None, capd: bool | None) -> None:
    assert uses_capd(age) is capd


@pytest.mark.parametrize(
    ("capd", "consciousness", "grade"),
    [
        (0, "alert", 0),
        (1, "alert", 1),
        (8, "awakens_spontaneously", 1),
        (8, "awakens_to_voice", 2),
        (9, "alert", 3),
        (20, "alert", 3),
    ],
)
def test_capd_bands_in_children(capd: int, consciousness: str, grade: int) -> None:
    g = grade_icans(_obs(capd_score=capd, consciousness=consciousness), age_years=12)
    assert g.grade == grade


def test_unable_to_perform_capd_is_grade_four() -> None:
    assert grade_icans(_obs(capd_unable=True), age_years=6).grade == 4


def test_age_twelve_reads_capd_and_age_thirteen_reads_ice() -> None:
    obs = _obs(ice_score=5, capd_score=0)
    assert grade_icans(obs, age_years=12).grade == 0  # CAPD 0
    assert grade_icans(obs, age_years=13).grade == 2  # ICE 5


def test_child_with_only_ice_recorded_is_unknown() -> None:
    g = grade_icans(_obs(ice_score=10), age_years=8)
    assert g.grade is None
    assert g.missing == ("capd_score",)


def test_unknown_age_uses_the_recorded_tool_or_asks_for_age() -> None:
    assert grade_icans(_obs(ice_score=8)).grade == 1
    assert grade_icans(_obs(capd_score=9)).grade == 3
    both = grade_icans(_obs(ice_score=8, capd_score=9))
    assert both.grade is None
    assert both.missing == ("patient.age",)


@pytest.mark.parametrize(
    ("drop", "fields", "at_least"),
    [
        ("consciousness", {"ice_score": 10}, 0),
        ("seizure", {"ice_score": 8}, 1),
        ("motor_weakness", {"ice_score": 5}, 2),
        ("cerebral_edema", {"ice_score": 10}, 0),
        ("icp_signs", {"ice_score": 10, "cerebral_edema": "focal"}, 3),
    ],
)
def test_missing_domain_gives_unknown_with_lower_bound(
    drop: str, fields: dict[str, Any], at_least: int
) -> None:
    data = {**NORMAL, **fields}
    data.pop(drop)
    g = grade_icans(ToxicityObservation(day=5, **data), age_years=40)
    assert g.grade is None
    assert g.at_least == at_least
    assert drop in g.missing
    assert g.text == (f"unknown (≥ grade {at_least})" if at_least else "unknown")


def test_missing_ice_score_is_named() -> None:
    g = grade_icans(_obs(), age_years=40)
    assert (g.grade, g.missing) == (None, ("ice_score",))


def test_grade_four_domain_decides_despite_missing_domains() -> None:
    g = grade_icans(ToxicityObservation(day=5, seizure="life_threatening"), age_years=40)
    assert (g.grade, g.missing) == (4, ())
