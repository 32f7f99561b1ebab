"""The record model: conversion on read and every rejection path, with field-level messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, validate_model


def _validate(data: dict[str, Any]) -> PatientRecord:
    return validate_model(PatientRecord, data, source="test")


def test_minimal_record_is_frozen(minimal: dict[str, Any]) -> None:
    record = _validate(minimal)
    assert record.patient_id == "T-001"
    with pytest.raises(Exception, match="frozen"):
        record.patient.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("section", "field", "given", "expected_value", "expected_unit"),
    [
        ("host", "crp", {"value": 1.5, "unit": "mg/dL"}, 15.0, "mg/L"),
        ("host", "crp", "1.5 mg/dL", 15.0, "mg/L"),
        ("host", "crp", 15, 15.0, "mg/L"),
        ("host", "albumin", "3.1 g/dL", 31.0, "g/L"),
        ("host", "ferritin", "250 µg/L", 250.0, "ng/mL"),
        ("tumor", "tmb", "12 mut/Mb", 12.0, "mut/Mb"),
    ],
)
def test_quantities_are_converted_to_field_units(
    minimal: dict[str, Any],
    section: str,
    field: str,
    given: object,
    expected_value: float,
    expected_unit: str,
) -> None:
    minimal[section][field] = given
    quantity = getattr(getattr(_validate(minimal), section), field)
    assert quantity.value == pytest.approx(expected_value)
    assert quantity.unit == expected_unit


def test_blood_counts_in_si_units(minimal: dict[str, Any]) -> None:
    minimal["host"]["blood"] = {"lymphocytes": "0.8 x10^9/L", "hemoglobin": "118 g/L"}
    blood = _validate(minimal).host.blood
    assert blood.lymphocytes is not None
    assert blood.lymphocytes.value == pytest.approx(800)
    assert blood.hemoglobin is not None
    assert blood.hemoglobin.value == pytest.approx(11.8)


def _problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        _validate(data)
    return {p.field: p.message for p in info.value.problems}


def test_wrong_unit_names_field_and_expected_unit(minimal: dict[str, Any]) -> None:
    minimal["host"]["crp"] = {"value": 5, "unit": "cells/µL"}
    problems = _problems(minimal)
    assert "host.crp" in problems
    assert "mg/L" in problems["host.crp"]


def test_out_of_range_names_range_and_original_value(minimal: dict[str, Any]) -> None:
    minimal["host"]["crp"] = "150 mg/dL"  # = 1500 mg/L, implausible
    message = _problems(minimal)["host.crp"]
    assert "0–1000 mg/L" in message
    assert "150 mg/dL" in message


def test_negative_density_is_refused(minimal: dict[str, Any]) -> None:
    minimal["microenvironment"] = {
        "densities": [{"marker": "CD8", "region": "tumor_core", "density": -4}]
    }
    problems = _problems(minimal)
    assert "microenvironment.densities[0].density" in problems


def test_missing_required_field(minimal: dict[str, Any]) -> None:
    del minimal["disease"]["diagnosis"]
    assert _problems(minimal) == {"disease.diagnosis": "required field is missing"}


def test_unknown_field_suggests_the_right_name(minimal: dict[str, Any]) -> None:
    minimal["host"]["cprr"] = 3
    message = _problems(minimal)["host.cprr"]
    assert "did you mean 'crp'" in message


def test_every_bad_field_is_listed(minimal: dict[str, Any]) -> None:
    minimal["patient"]["age"] = 300
    minimal["patient"]["ecog"] = 7
    minimal["tumor"]["msi_status"] = "unstable"
    minimal["host"]["albumin"] = "abc"
    problems = _problems(minimal)
    assert set(problems) == {"patient.age", "patient.ecog", "tumor.msi_status", "host.albumin"}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, [1, 2], {"value": 1, "x": 2}])
def test_non_numbers_are_refused(minimal: dict[str, Any], bad: object) -> None:
    minimal["host"]["crp"] = bad
    assert "host.crp" in _problems(minimal)


@pytest.mark.parametrize("unit", [{}, [], 5, {"name": "pg/mL"}])
def test_a_unit_that_is_not_text_is_refused_not_defaulted(
    minimal: dict[str, Any], unit: object
) -> None:
    # the JSON Schema says the unit is text or null; a mapping or number must not silently
    # become the field's unit
    minimal["host"]["cytokines"] = {"IFNG": {"value": 0, "unit": unit}}
    message = _problems(minimal)["host.cytokines.IFNG"]
    assert "expected the unit as text, e.g. 'pg/mL'" in message


@pytest.mark.parametrize("flag", ["motor_weakness", "fever_treated", "capd_unable"])
def test_toxicity_flags_take_true_or_false_not_numbers(flag: str) -> None:
    # the JSON Schema says boolean: 0 or "1" is refused, not read as false or true
    document = json.loads(ip.data.example_path("ball_cd19.json").read_text(encoding="utf-8"))
    for bad in (0, "1"):
        document["toxicity"][0][flag] = bad
        with pytest.raises(ValidationError) as info:
            _validate(document)
        assert [p.field for p in info.value.problems] == [f"toxicity[0].{flag}"]


def test_error_message_lists_value_and_fix(minimal: dict[str, Any]) -> None:
    minimal["patient"]["age"] = {"value": 130, "unit": "years"}
    with pytest.raises(ValidationError) as info:
        _validate(minimal)
    text = str(info.value)
    assert text.startswith("test: 1 invalid field")
    assert "patient.age" in text
    assert "0–120 years" in text


def test_hla_alleles_are_normalised_and_checked(minimal: dict[str, Any]) -> None:
    minimal["patient"]["hla_type"] = ["HLA-A*02:01", "B*07:02"]
    assert _validate(minimal).patient.hla_type == ("A*02:01", "B*07:02")
    minimal["patient"]["hla_type"] = ["A2"]
    assert "patient.hla_type" in _problems(minimal)


def test_therapy_dates_must_be_ordered(minimal: dict[str, Any]) -> None:
    minimal["patient"]["prior_therapies"] = [
        {"name": "R-CHOP", "start": "2024-05-01", "end": "2024-01-01"}
    ]
    assert (
        "end 2024-01-01 is before start 2024-05-01"
        in _problems(minimal)["patient.prior_therapies[0]"]
    )


def test_duplicate_density_is_refused(minimal: dict[str, Any]) -> None:
    density = {"marker": "CD8", "region": "tumor_core", "density": 10}
    minimal["microenvironment"] = {"densities": [density, {**density, "marker": "cd8"}]}
    assert "two densities for CD8" in _problems(minimal)["microenvironment"]


def test_burden_needs_a_measure(minimal: dict[str, Any]) -> None:
    minimal["disease"]["burden"] = [{"date": "2025-01-01"}]
    assert "give at least one" in _problems(minimal)["disease.burden[0]"]


def test_patient_id_must_be_pseudonymous_token(minimal: dict[str, Any]) -> None:
    minimal["patient"]["id"] = "Jane Doe"
    assert "patient.id" in _problems(minimal)
