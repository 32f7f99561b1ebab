"""FHIR round trip of the record's list items written one Observation each: tumor antigens,
hypoxia markers, risk indices and daily toxicity (CRS/ICANS) findings; malformed ones are
listed as left out with the reason."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

import immunoprecise as ip
from immunoprecise.records import PatientRecord
from immunoprecise.records.fhir import read_fhir_bundle, record_to_fhir

LOCAL = "https://immunoprecise.org/fhir/CodeSystem/record-field"
Json = dict[str, Any]


def _full_record() -> PatientRecord:
    """The B-ALL example with every list item field filled at least once."""
    path = ip.data.example_path("ball_cd19.json")
    with open(path, encoding="utf-8") as file:
        data: Json = json.load(file)
    data["tumor"]["antigens"] = [
        {"name": "CD19", "kind": "lineage", "status": "dim", "percent_positive": 62.5},
        {"name": "NY-ESO-1", "kind": "TAA", "status": "positive", "hla_restriction": "A*02:01"},
        {"name": "HPV16 E7", "kind": "viral", "status": "negative"},
    ]
    data["tumor"]["hypoxia"] = [
        {"marker": "CA9", "percent_positive": 35, "h_score": 120},
        {"marker": "HIF1A", "h_score": 80.5},
        {"marker": "pimonidazole", "percent_positive": 12},
    ]
    data["disease"]["risk_indices"] = [
        {
            "name": "FLIPI",
            "score": 3,
            "category": "high",
            "components": {"age_over_60": True, "ldh_above_uln": False, "hb_below_12": True},
        },
        {"name": "R-ISS", "category": "II"},
        {"name": "IPI", "score": 0},
    ]
    data["toxicity"] = [
        {"day": -1, "temperature": 36.8, "icp_signs": []},  # undated
        {
            "day": 3,
            "date": "2026-10-30",
            "temperature": 39.4,
            "fever_treated": True,
            "hypotension": "one_vasopressor",
            "oxygen": "high_flow_nasal_cannula",
            "oxygen_flow": 30,
            "ice_score": 6,
            "consciousness": "awakens_to_voice",
            "seizure": "rapidly_resolving",
            "motor_weakness": False,
            "cerebral_edema": "focal",
            "icp_signs": ["papilledema", "cranial_nerve_vi_palsy"],
            "cytokines": {"IL6": 1500, "IFNG": 42.5},
        },
        {"day": 4, "date": "2026-10-31", "capd_unable": True, "oxygen": "nasal_cannula"},
        {"day": 5, "date": "2026-11-01", "capd_score": 12, "oxygen_flow": 2.5},
    ]
    return PatientRecord.model_validate(data)


def _items(bundle: Json, code: str) -> list[Json]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and any(c["system"] == LOCAL and c["code"] == code for c in e["resource"]["code"]["coding"])
    ]


def _component(obs: Json, code: str) -> Json:
    return next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == code)


def test_a_record_with_every_list_item_field_round_trips_exactly() -> None:
    record = _full_record()
    bundle = record_to_fhir(record)
    Bundle.model_validate(bundle)
    result = read_fhir_bundle(bundle)
    assert result.skipped == ()
    assert result.record == record
    assert result.record.tumor.antigens == record.tumor.antigens
    assert result.record.tumor.hypoxia == record.tumor.hypoxia
    assert result.record.disease.risk_indices == record.disease.risk_indices
    assert result.record.toxicity == record.toxicity
    assert result.record.toxicity[0].icp_signs == ()  # none found, not "not assessed"
    assert result.record.toxicity[2].icp_signs is None


def test_list_items_are_written_with_local_codes_and_ucum_units() -> None:
    bundle = record_to_fhir(_full_record())
    ca9 = _items(bundle, "tumor.hypoxia")[0]
    assert ca9["valueQuantity"] == {
        "value": 35.0,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert _component(ca9, "marker")["valueString"] == "CA9"
    assert _component(ca9, "h_score")["valueQuantity"] == {"value": 120.0}
    cd19 = _items(bundle, "tumor.antigens")[0]
    kind = _component(cd19, "kind")["valueCodeableConcept"]
    assert kind["coding"] == [{"system": LOCAL, "code": "lineage"}]
    flipi = _items(bundle, "disease.risk_indices")[0]
    assert flipi["valueInteger"] == 3
    criterion = _component(flipi, "components")
    assert (criterion["code"]["text"], criterion["valueBoolean"]) == ("age_over_60", True)
    undated, day3 = _items(bundle, "toxicity")[:2]
    assert "effectiveDateTime" not in undated  # not collected_on: the day had no date
    assert _component(undated, "icp_signs")["valueCodeableConcept"]["coding"][0]["code"] == "none"
    assert day3["effectiveDateTime"] == "2026-10-30"
    assert _component(day3, "day")["valueInteger"] == 3
    assert _component(day3, "temperature")["valueQuantity"]["code"] == "Cel"
    assert _component(day3, "oxygen_flow")["valueQuantity"]["code"] == "L/min"


def test_toxicity_dates_do_not_change_collected_on() -> None:
    record = _full_record()
    result = read_fhir_bundle(record_to_fhir(record))
    assert result.record.collected_on == record.collected_on


def test_a_temperature_in_fahrenheit_is_read_in_celsius() -> None:
    bundle = record_to_fhir(_full_record())
    day3 = _items(bundle, "toxicity")[1]
    _component(day3, "temperature")["valueQuantity"] = {
        "value": 101.3,
        "unit": "°F",
        "system": "http://unitsofmeasure.org",
        "code": "[degF]",
    }
    result = read_fhir_bundle(bundle)
    assert result.skipped == ()
    temperature = result.record.toxicity[1].temperature
    assert temperature is not None
    assert (temperature.value, temperature.unit) == (38.5, "°C")


def _drop(code: str) -> Callable[[Json], None]:
    def change(obs: Json) -> None:
        obs["component"] = [c for c in obs["component"] if c["code"]["coding"][0]["code"] != code]

    return change


def _set(code: str, value: Json) -> Callable[[Json], None]:
    def change(obs: Json) -> None:
        component = _component(obs, code)
        for key in [k for k in component if k.startswith("value")]:
            del component[key]
        component.update(value)

    return change


def _coded(value: str) -> Json:
    return {"valueCodeableConcept": {"coding": [{"system": LOCAL, "code": value}]}}


def _add_component(code: str, value: Json) -> Callable[[Json], None]:
    def change(obs: Json) -> None:
        obs["component"].append({"code": {"coding": [{"system": LOCAL, "code": code}]}, **value})

    return change


def _update(**values: Any) -> Callable[[Json], None]:
    def change(obs: Json) -> None:
        for key in [k for k in obs if k.startswith("value")]:
            del obs[key]
        obs.update(values)

    return change


def _risk_criterion_without_name(obs: Json) -> None:
    del _component(obs, "components")["code"]["text"]


MALFORMED: list[tuple[str, str, int, Callable[[Json], None], str]] = [
    ("antigen without kind", "tumor.antigens", 0, _drop("kind"), "kind"),
    ("antigen without name", "tumor.antigens", 0, _drop("name"), "name"),
    ("unknown antigen kind", "tumor.antigens", 0, _set("kind", _coded("superantigen")), "kind"),
    ("unknown antigen status", "tumor.antigens", 0, _set("status", _coded("weak")), "status"),
    (
        "antigen percent over 100",
        "tumor.antigens",
        0,
        _set("percent_positive", {"valueQuantity": {"value": 150, "unit": "%"}}),
        "percent_positive",
    ),
    (
        "unknown component",
        "tumor.antigens",
        1,
        _add_component("epitope", {"valueString": "SLLMWITQC"}),
        "'epitope'",
    ),
    (
        "component given twice",
        "tumor.antigens",
        1,
        _add_component("name", {"valueString": "MAGE-A4"}),
        "given twice",
    ),
    ("hypoxia without marker", "tumor.hypoxia", 0, _drop("marker"), "marker"),
    (
        "hypoxia without reading",
        "tumor.hypoxia",
        1,
        _drop("h_score"),
        "give percent_positive or h_score",
    ),
    (
        "hypoxia percent as text",
        "tumor.hypoxia",
        2,
        _update(valueString="many"),
        "percent_positive",
    ),
    (
        "hypoxia percent in another unit",
        "tumor.hypoxia",
        2,
        _update(valueQuantity={"value": 12, "unit": "mg/L"}),
        "percent_positive",
    ),
    (
        "hypoxia percent censored",
        "tumor.hypoxia",
        2,
        _update(valueQuantity={"value": 5, "comparator": "<", "unit": "%"}),
        "censored",
    ),
    (
        "percent without a value",
        "tumor.hypoxia",
        2,
        _update(valueQuantity={"unit": "%"}),
        "without a value",
    ),
    (
        "the value as a component",
        "disease.risk_indices",
        2,
        _add_component("score", {"valueInteger": 1}),
        "the Observation's value",
    ),
    (
        "no sign found and a sign",
        "toxicity",
        0,
        _add_component("icp_signs", _coded("papilledema")),
        "given with a sign",
    ),
    ("risk index without name", "disease.risk_indices", 1, _drop("name"), "name"),
    ("risk score above range", "disease.risk_indices", 2, _update(valueInteger=99), "score"),
    (
        "risk criterion without name",
        "disease.risk_indices",
        0,
        _risk_criterion_without_name,
        "code.text",
    ),
    ("toxicity without day", "toxicity", 1, _drop("day"), "day"),
    ("unknown hypotension", "toxicity", 1, _set("hypotension", _coded("severe")), "hypotension"),
    (
        "temperature in the wrong unit",
        "toxicity",
        1,
        _set("temperature", {"valueQuantity": {"value": 39, "unit": "mg/L"}}),
        "temperature",
    ),
    ("ice score as text", "toxicity", 1, _set("ice_score", {"valueString": "ok"}), "ice_score"),
    ("partial date", "toxicity", 1, _update(effectiveDateTime="2026-10"), "not a full date"),
    ("a value on a toxicity day", "toxicity", 1, _update(valueInteger=2), "components"),
    ("component without value", "toxicity", 1, _set("seizure", {}), "no value"),
]


@pytest.mark.parametrize(
    ("path", "index", "change", "expected"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_a_malformed_list_item_is_left_out_with_the_reason(
    path: str, index: int, change: Callable[[Json], None], expected: str
) -> None:
    record = _full_record()
    bundle = copy.deepcopy(record_to_fhir(record))
    obs = _items(bundle, path)[index]
    change(obs)
    result = read_fhir_bundle(bundle)
    (skipped,) = result.skipped
    assert skipped.resource == f"Observation/{obs['id']}"
    assert expected in skipped.reason
    if expected != "censored":  # a censored value is skipped as for every Observation
        assert path in skipped.reason or path in str(skipped.code)
    # the item is left out, the others are read
    node: Any = result.record
    original: Any = record
    for part in path.split("."):
        node, original = getattr(node, part), getattr(original, part)
    assert len(node) == len(original) - 1
    assert any(line.endswith(skipped.reason) for line in result.report)
