"""FHIR import: two results of one field at the same date or time. The same value is kept once;
different values are refused, since which is current cannot be told; a later one wins."""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records.fhir import read_fhir_bundle
from records.test_fhir import _PATIENT_URL, _bundle

_UCUM = "http://unitsofmeasure.org"


def _crp(obs_id: str, value: float, when: str, unit: str = "mg/L") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "subject": {"reference": _PATIENT_URL},
        "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": _UCUM, "code": unit},
    }


def _crp_mg_per_l(bundle: dict[str, Any]) -> float:
    crp = read_fhir_bundle(bundle).record.host.crp
    assert crp is not None
    assert crp.unit == "mg/L"
    return crp.value


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2026-01-02", "2026-01-02"),
        ("2026-01-02T08:30:00Z", "2026-01-02T08:30:00Z"),
        ("2026-01-02", "2026-01-02T08:30:00Z"),
    ],
    ids=["same date", "same time", "date and a time of that date"],
)
def test_different_values_at_the_same_time_are_refused_naming_both(first: str, second: str) -> None:
    bundle = _bundle(_crp("a", 6, first), _crp("b", 40, second))
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(bundle)
    (problem,) = info.value.problems
    assert problem.field == "Observation/b: host.crp"
    assert problem.value == f"40 mg/L ({second})"
    assert "Observation/a gives 6 mg/L for the same" in problem.message
    assert "which result is current cannot be told" in problem.message
    assert "later" not in problem.message.replace("tells which is later", "")


def test_different_values_on_the_same_date_without_time_say_to_give_the_time() -> None:
    bundle = _bundle(_crp("a", 6, "2026-01-02"), _crp("b", 40, "2026-01-02"))
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(bundle)
    message = info.value.problems[0].message
    assert "for the same date (2026-01-02) and no time of day tells which is later" in message
    assert "give each its time of day, or remove the one not to use" in message


@pytest.mark.parametrize(
    ("second_value", "second_unit"), [(6, "mg/L"), (0.6, "mg/dL")], ids=["same", "other unit"]
)
def test_the_same_value_on_the_same_date_is_kept_once_and_the_repeat_says_so(
    second_value: float, second_unit: str
) -> None:
    bundle = _bundle(_crp("a", 6, "2026-01-02"), _crp("b", second_value, "2026-01-02", second_unit))
    result = read_fhir_bundle(bundle)
    assert result.record.host.crp is not None
    assert result.record.host.crp.value == pytest.approx(6)
    (skipped,) = result.skipped
    assert skipped.resource == "Observation/b"
    assert skipped.reason == (
        "host.crp repeats the value of Observation/a, of the same date (2026-01-02); "
        "Observation/a is kept, the first of the two"
    )
    assert "later" not in skipped.reason


def test_a_later_result_settles_an_earlier_tie() -> None:
    bundle = _bundle(
        _crp("a", 6, "2026-01-02"), _crp("b", 40, "2026-01-02"), _crp("c", 12, "2026-01-05")
    )
    assert _crp_mg_per_l(bundle) == pytest.approx(12)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_on_the_same_date_the_later_time_of_day_wins(order: tuple[int, int]) -> None:
    results = [_crp("morning", 6, "2026-01-02T08:30:00Z"), _crp("noon", 40, "2026-01-02T12:00:00Z")]
    result = read_fhir_bundle(_bundle(*(results[i] for i in order)))
    assert result.record.host.crp is not None
    assert result.record.host.crp.value == pytest.approx(40)
    (skipped,) = result.skipped
    assert skipped.resource == "Observation/morning"
    assert "host.crp is taken from the later Observation/noon" in skipped.reason
