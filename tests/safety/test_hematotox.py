"""CAR-HEMATOTOX: every band edge, CRP in mg/L vs mg/dL, missing labs and the risk group."""

from __future__ import annotations

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord
from immunoprecise.safety import car_hematotox, hematotox_score
from immunoprecise.safety.hematotox import COMPONENTS, MAX_SCORE, RISK_GROUPS

LOW = {"platelets": 250_000, "anc": 3_000, "hemoglobin": 13.0, "crp": 5.0, "ferritin": 200}


def _points(name: str, value: float) -> int | None:
    score = hematotox_score({**LOW, name: value})
    (component,) = [c for c in score.components if c.name == name]
    return component.points


@pytest.mark.parametrize(
    ("name", "value", "points"),
    [
        ("platelets", 175_001, 0),
        ("platelets", 175_000, 1),  # 75,000–175,000 includes both edges
        ("platelets", 75_000, 1),
        ("platelets", 74_999, 2),
        ("anc", 1_201, 0),
        ("anc", 1_200, 1),  # edge not scored by the paper: the risk point (conservative)
        ("anc", 1_199, 1),
        ("hemoglobin", 9.1, 0),
        ("hemoglobin", 9.0, 1),  # edge: the risk point
        ("hemoglobin", 8.9, 1),
        ("crp", 29.9, 0),  # mg/L; 3.0 mg/dL = 30 mg/L
        ("crp", 30.0, 1),
        ("ferritin", 649, 0),
        ("ferritin", 650, 1),
        ("ferritin", 2_000, 1),
        ("ferritin", 2_001, 2),
    ],
)
def test_band_edges(name: str, value: float, points: int) -> None:
    assert _points(name, value) == points


@pytest.mark.parametrize(
    ("labs", "score", "risk"),
    [
        (LOW, 0, "low"),
        ({**LOW, "ferritin": 700}, 1, "low"),
        ({**LOW, "ferritin": 700, "crp": 30}, 2, "high"),
        ({**LOW, "platelets": 50_000}, 2, "high"),
        (
            {"platelets": 10_000, "anc": 100, "hemoglobin": 7, "crp": 100, "ferritin": 5_000},
            7,
            "high",
        ),
    ],
)
def test_score_and_risk_group(labs: dict[str, float], score: int, risk: str) -> None:
    result = hematotox_score(labs)
    assert (result.score, result.risk) == (score, risk)
    assert result.missing == ()


@pytest.mark.parametrize(
    ("drop", "extra", "known", "possible", "risk"),
    [
        ("ferritin", {}, 0, 2, None),  # 0 known, ferritin could add 2
        ("anc", {}, 0, 1, "low"),  # the missing lab cannot reach 2
        ("ferritin", {"platelets": 60_000}, 2, 4, "high"),  # already high without it
        ("crp", {"hemoglobin": 8.0}, 1, 2, None),
    ],
)
def test_missing_lab_leaves_score_unknown_with_partial_points(
    drop: str, extra: dict[str, float], known: int, possible: int, risk: str | None
) -> None:
    labs: dict[str, float | None] = {**LOW, **extra, drop: None}
    result = hematotox_score(labs)
    assert result.score is None
    assert (result.points_known, result.points_possible, result.risk) == (known, possible, risk)
    assert len(result.missing) == 1
    assert drop in result.missing[0] or (drop == "anc" and "neutrophils" in result.missing[0])
    assert "missing" in result.text


@pytest.mark.parametrize("name", ["platelets", "anc", "hemoglobin", "crp", "ferritin"])
@pytest.mark.parametrize("missing", [float("nan"), float("inf"), None])
def test_a_non_finite_lab_is_missing_not_scored(name: str, missing: float | None) -> None:
    band = next(b for b in COMPONENTS if b.name == name)
    result = hematotox_score({**LOW, name: missing})
    (component,) = [c for c in result.components if c.name == name]
    assert component.points is None
    assert component.value is None
    assert result.missing == (band.field,)
    assert result.score is None
    assert result.points_known == 0
    assert result.points_possible == band.max_points


@pytest.mark.parametrize(
    ("labs", "field", "message"),
    [
        ({**LOW, "platelets": -1}, "labs.platelets", "≥ 0 cells/µL"),
        ({**LOW, "crp": -0.5}, "labs.crp", "≥ 0 mg/L"),
        ({**LOW, "platelets": "150k"}, "labs.platelets", "expected a number in cells/µL"),
        ({**LOW, "hemoglobin": True}, "labs.hemoglobin", "expected a number in g/dL"),
        ({**LOW, "neutrophils": 900}, "labs.neutrophils", "'anc'"),
        ({**LOW, "ferriten": 900}, "labs.ferriten", "did you mean 'ferritin'"),
        # a hemoglobin of 89 g/L given as g/dL scored 0 points instead of 1 (≤ 9.0 g/dL)
        (
            {**LOW, "hemoglobin": 89},
            "labs.hemoglobin",
            "expected 1–25 g/dL, the range a record holds; in g/L? divide by 10",
        ),
        ({**LOW, "ferritin": 250_000}, "labs.ferritin", "expected 0–100000 ng/mL"),
        ({**LOW, "crp": 2_000}, "labs.crp", "expected 0–1000 mg/L"),
    ],
)
def test_bad_labs_are_refused_naming_the_lab_and_unit(
    labs: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        hematotox_score(labs)  # type: ignore[arg-type]
    text = str(err.value)
    assert field in text
    assert message in text
    if "not a lab" in text:
        for known in ("platelets", "anc", "hemoglobin", "crp", "ferritin"):
            assert known in text


def _record(host: dict[str, object]) -> PatientRecord:
    return PatientRecord.model_validate(
        {
            "patient": {"id": "H1"},
            "disease": {"diagnosis": "DLBCL", "oncotree_code": "DLBCLNOS"},
            "host": host,
        }
    )


@pytest.mark.parametrize(("crp", "points"), [("2.9 mg/dL", 0), ("3.0 mg/dL", 1), ("30 mg/L", 1)])
def test_crp_units_are_converted_before_scoring(crp: str, points: int) -> None:
    record = _record(
        {
            "blood": {"platelets": "250 10^9/L", "neutrophils": "3.0 G/L", "hemoglobin": "130 g/L"},
            "crp": crp,
            "ferritin": "200 µg/L",
        }
    )
    result = car_hematotox(record)
    assert result.score == points
    assert [c.points for c in result.components if c.name == "crp"] == [points]


def test_record_without_labs_names_every_field() -> None:
    result = car_hematotox(_record({}))
    assert result.score is None
    assert result.missing == (
        "host.blood.platelets",
        "host.blood.neutrophils",
        "host.blood.hemoglobin",
        "host.crp",
        "host.ferritin",
    )
    assert (result.points_known, result.points_possible, result.risk) == (0, 7, None)


def test_the_published_constants_are_the_score_s() -> None:
    # MAX_SCORE and RISK_GROUPS are what the profile and kb validate check rules against
    assert sum(b.max_points for b in COMPONENTS) == MAX_SCORE
    worst = {"platelets": 10_000, "anc": 100, "hemoglobin": 7, "crp": 100, "ferritin": 5_000}
    assert hematotox_score(worst).score == MAX_SCORE
    assert {hematotox_score(LOW).risk, hematotox_score(worst).risk} == set(RISK_GROUPS)
