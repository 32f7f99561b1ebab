"""FHIR exchange with real-world Bundles: partial and implausible dates, panels, unit noise,
absolute fullUrls."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, Quantity
from immunoprecise.records.fhir import read_fhir_bundle, record_to_fhir
from records.test_fhir import _PATIENT_URL, _bundle

_UCUM = "http://unitsofmeasure.org"
EXAMPLES = sorted(Path(ip.data.example_path("crc_msih.json")).parent.glob("*.json"))


def _observation(obs_id: str, loinc: str, value: float, code: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "subject": {"reference": _PATIENT_URL},
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": code, "system": _UCUM, "code": code},
    }


def _v(quantity: Quantity | None) -> float:
    assert quantity is not None
    return quantity.value


# -- partial dates -------------------------------------------------------------------------------


@pytest.mark.parametrize("partial", ["2024-03", "2024"])
def test_a_partial_effective_date_orders_by_its_first_day_and_is_noted(partial: str) -> None:
    older = _observation("older", "1988-5", 4, "mg/L", "2023-11-20")
    newer = _observation("newer", "1988-5", 9, "mg/L", partial)
    albumin = _observation("alb", "1751-7", 38, "g/L", "2023-11-20")
    for order in ((older, newer), (newer, older)):
        result = read_fhir_bundle(_bundle(*order, albumin))
        assert _v(result.record.host.crp) == 9
        assert [s.resource for s in result.skipped] == ["Observation/older"]
        notes = " ".join(result.notes)
        assert f"effectiveDateTime '{partial}' is a partial date" in notes
        # collected_on is taken from full dates only, and the notes say the partial may be later
        assert result.record.collected_on == dt.date(2023, 11, 20)
        assert "may be later than collected_on (2023-11-20)" in notes


def test_a_partial_onset_or_therapy_date_is_left_empty_with_a_note() -> None:
    bundle = _bundle(
        {
            "resourceType": "MedicationAdministration",
            "id": "m1",
            "status": "completed",
            "subject": {"reference": _PATIENT_URL},
            "medicationCodeableConcept": {"text": "FOLFOX"},
            "effectivePeriod": {"start": "2023-02", "end": "2023-06-30"},
        }
    )
    bundle["entry"][1]["resource"]["onsetDateTime"] = "2022-11"
    result = read_fhir_bundle(bundle)
    assert result.record.disease.diagnosis_date is None
    therapies = result.record.patient.prior_therapies
    assert therapies is not None
    assert (therapies[0].start, therapies[0].end) == (None, dt.date(2023, 6, 30))
    notes = " ".join(result.notes)
    assert "onsetDateTime '2022-11' is a partial date" in notes
    assert "MedicationAdministration/m1: '2023-02' is a partial date" in notes


def test_a_partial_birth_date_leaves_the_age_unset_with_a_note() -> None:
    patient = {"resourceType": "Patient", "id": "P1", "birthDate": "1960"}
    result = read_fhir_bundle(
        _bundle(_observation("crp", "1988-5", 4, "mg/L", "2024-05-01"), patient=patient)
    )
    assert result.record.patient.age is None
    assert any("birthDate '1960' is a partial date" in n for n in result.notes)


# -- implausible dates ---------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["9999-12-31", "1800-01-01", "2999", "1850-06"])
def test_an_implausible_effective_date_is_refused_naming_the_observation(when: str) -> None:
    obs = _observation("crp", "1988-5", 4, "mg/L", when)
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(_bundle(obs))
    message = str(info.value)
    assert f"Observation/crp: effectiveDateTime = '{when}'" in message
    assert "outside the accepted range 1900-01-01" in message


def test_an_implausible_birth_date_is_refused() -> None:
    patient = {"resourceType": "Patient", "id": "P1", "birthDate": "1800-01-01"}
    obs = _observation("crp", "1988-5", 4, "mg/L", "2024-05-01")
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(_bundle(obs, patient=patient))
    assert "Patient/P1: birthDate = '1800-01-01'" in str(info.value)


# -- unit conversions without float noise --------------------------------------------------------


def test_converted_values_carry_no_float_noise() -> None:
    # each of these gave e.g. 5200.000000000001 or 1399.9999999999998 before
    obs = [
        _observation("lym", "731-0", 5.2, "10*3/mm3", "2024-05-01"),
        _observation("neu", "751-8", 1.4, "/nL", "2024-05-01"),
        _observation("il6", "26881-3", 0.45, "ng/mL", "2024-05-01"),
    ]
    variant = {
        "resourceType": "Observation",
        "id": "braf",
        "status": "final",
        "subject": {"reference": _PATIENT_URL},
        "code": {"coding": [{"system": "http://loinc.org", "code": "69548-6"}]},
        "valueCodeableConcept": {"text": "present"},
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
                "valueCodeableConcept": {"text": "BRAF"},
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "48005-3"}]},
                "valueCodeableConcept": {"text": "p.V600E"},
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "81258-6"}]},
                "valueQuantity": {"value": 0.29, "system": _UCUM, "code": "1"},
            },
        ],
    }
    record = read_fhir_bundle(_bundle(*obs, variant)).record
    assert _v(record.host.blood.lymphocytes) == 5200.0
    assert _v(record.host.blood.neutrophils) == 1400.0
    assert _v(record.host.il6) == 450.0
    assert _v(record.tumor.driver_mutations[0].vaf) == 29.0
    assert read_fhir_bundle(record_to_fhir(record)).record == record
    json_record = PatientRecord.model_validate(
        {
            "patient": {"id": "P1"},
            "disease": {"diagnosis": "x"},
            "host": {"blood": {"lymphocytes": "5.2 10^3/mm3"}},
        }
    )
    assert _v(json_record.host.blood.lymphocytes) == 5200.0


# -- panels --------------------------------------------------------------------------------------


def _component(loinc: str, value: float, code: str) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "valueQuantity": {"value": value, "unit": code, "system": _UCUM, "code": code},
    }


def _cbc_panel(**fields: Any) -> dict[str, Any]:
    """A CBC panel Observation (LOINC 58410-2) with ``fields`` (components, members, date)."""
    return {
        "resourceType": "Observation",
        "id": "cbc",
        "status": "final",
        "subject": {"reference": _PATIENT_URL},
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "58410-2"}],
            "text": "CBC panel - Blood by Automated count",
        },
        **fields,
    }


def test_a_cbc_panel_is_read_by_its_components() -> None:
    panel = _cbc_panel(
        effectiveDateTime="2024-05-01",
        component=[
            _component("731-0", 1.5, "10*3/uL"),
            _component("6690-2", 6.2, "10*3/uL"),
            _component("789-8", 4.5, "10*6/uL"),  # erythrocytes: no record field
        ],
    )
    result = read_fhir_bundle(_bundle(panel))
    blood = result.record.host.blood
    assert (_v(blood.lymphocytes), _v(blood.wbc)) == (1500, 6200)
    assert result.record.collected_on == dt.date(2024, 5, 1)
    (skipped,) = result.skipped
    assert skipped.resource == "Observation/cbc.component[2]"
    assert "789-8" in (skipped.code or "")
    assert any("Observation/cbc: panel" in n and "2 of 3" in n for n in result.notes)


def test_a_later_panel_component_wins_over_an_earlier_observation() -> None:
    earlier = _observation("lym", "731-0", 900, "/uL", "2024-04-01")
    panel = _cbc_panel(
        effectiveDateTime="2024-05-01", component=[_component("731-0", 1.5, "10*3/uL")]
    )
    result = read_fhir_bundle(_bundle(earlier, panel))
    assert _v(result.record.host.blood.lymphocytes) == 1500
    assert [s.resource for s in result.skipped] == ["Observation/lym"]


def test_a_panel_with_members_names_those_not_in_the_bundle() -> None:
    member = _observation("lym", "731-0", 1.5, "10*3/uL", "2024-05-01")
    panel = _cbc_panel(
        hasMember=[{"reference": "Observation/lym"}, {"reference": "Observation/neu"}]
    )
    result = read_fhir_bundle(_bundle(member, panel))
    assert _v(result.record.host.blood.lymphocytes) == 1500
    (skipped,) = result.skipped
    assert skipped.resource == "Observation/cbc"
    assert "members (hasMember) are read as Observations of their own" in skipped.reason
    assert "not in the Bundle, so not read: Observation/neu" in skipped.reason


# -- export: absolute fullUrls -------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_export_writes_urn_uuid_full_urls_that_references_use(path: Path) -> None:
    record = ip.read_patient(path)
    bundle = record_to_fhir(record)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert all(u.startswith("urn:uuid:") for u in urls)
    assert len(set(urls)) == len(urls)
    patient_url = urls[0]
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    subjects = {e["resource"]["subject"]["reference"] for e in bundle["entry"][1:]}
    assert subjects == {patient_url}
    assert record_to_fhir(record) == bundle  # the same record gives the same Bundle
    back = read_fhir_bundle(bundle).record
    assert back.patient == record.patient
    assert back.host == record.host


# -- values without a unit -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [{"valueInteger": 250}, {"valueString": "250"}])
def test_a_measured_value_without_a_unit_is_refused_not_read_in_the_field_unit(
    value: dict[str, Any],
) -> None:
    # platelets 250 is 250 × 10^3/µL on most reports; read as 250 cells/µL it would be 1000× off
    obs = _observation("plt", "777-3", 0, "/uL", "2024-05-01")
    del obs["valueQuantity"]
    obs |= value
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(_bundle(obs))
    message = str(info.value)
    assert "Observation/plt: host.blood.platelets = '250 (no unit)'" in message
    assert "expected a unit like 'cells/µL'" in message


def test_a_score_without_a_unit_is_still_read() -> None:
    obs = _observation("ecog", "89247-1", 0, "", "2024-05-01")
    del obs["valueQuantity"]
    obs["valueInteger"] = 1
    assert read_fhir_bundle(_bundle(obs)).record.patient.ecog == 1


def test_an_unread_observation_is_skipped_whatever_its_date() -> None:
    unknown = _observation("cea", "2039-6", 3, "ng/mL", "1800-01-01")  # no record field
    result = read_fhir_bundle(_bundle(unknown))
    assert [s.resource for s in result.skipped] == ["Observation/cea"]


def test_a_value_of_a_type_not_read_is_named_in_the_skip_reason() -> None:
    obs = _observation("crp", "1988-5", 0, "mg/L", "2024-05-01")
    del obs["valueQuantity"]
    obs["valueRange"] = {"low": {"value": 5, "unit": "mg/L"}, "high": {"value": 10, "unit": "mg/L"}}
    result = read_fhir_bundle(_bundle(obs))
    assert result.record.host.crp is None
    (skipped,) = result.skipped
    assert "its valueRange is not read" in skipped.reason


# -- unit and code -------------------------------------------------------------------------------


def test_a_quantity_whose_unit_and_code_disagree_is_refused() -> None:
    # read by its code the CRP would be 30 mg/L, by its unit 3 mg/L
    obs = _observation("crp", "1988-5", 3, "mg/dL", "2024-05-01")
    obs["valueQuantity"]["unit"] = "mg/L"
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(_bundle(obs))
    message = str(info.value)
    assert "Observation/crp: host.crp = \"3 (unit 'mg/L', code 'mg/dL')\"" in message
    assert "name different units" in message


@pytest.mark.parametrize("text", ["cells/µL", "10^3/uL", "thousand per microlitre"])
def test_a_unit_text_that_agrees_with_the_code_or_is_no_unit_is_read(text: str) -> None:
    obs = _observation("lym", "731-0", 1.2, "10*3/uL", "2024-05-01")
    obs["valueQuantity"]["unit"] = text
    if text == "cells/µL":
        obs["valueQuantity"] |= {"value": 1200, "code": "/uL"}
    assert _v(read_fhir_bundle(_bundle(obs)).record.host.blood.lymphocytes) == 1200
