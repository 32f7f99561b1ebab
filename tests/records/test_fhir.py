"""FHIR R4 / mCODE exchange: import of mCODE-style bundles, export, and the round trip."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, Quantity
from immunoprecise.records.fhir import (
    fhir_codes,
    profile_to_fhir,
    read_fhir_bundle,
    read_fhir_bundles,
    record_to_fhir,
    ucum_to_unit,
)

DATA = Path(__file__).parent / "data"
EXAMPLES = sorted(Path(ip.data.example_path("crc_msih.json")).parent.glob("*.json"))

# Record fields the mapping does not carry (docs/fhir.md lists them); collected_on is derived.
UNCOVERED = {"expression"}


def _v(quantity: Quantity | None) -> float:
    assert quantity is not None
    return quantity.value


def _iso(date: dt.date | None) -> str:
    assert date is not None
    return date.isoformat()


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def _covered(record: PatientRecord) -> dict[str, Any]:
    data: dict[str, Any] = record.model_dump(mode="json", exclude=UNCOVERED)
    return data


def test_crc_bundle_values_hand_checked() -> None:
    result = read_fhir_bundle(DATA / "fhir_crc_msih.json")
    r = result.record
    assert r.patient.id == "crc-0001"
    assert r.patient.sex == "female"
    # born 1959-03-02, latest observation 2026-10-29 → 67 years
    assert _iso(r.collected_on) == "2026-10-29"
    assert _v(r.patient.age) == 67
    assert r.patient.ecog == 1  # LA9623-5
    assert r.disease.diagnosis == "Adenocarcinoma of the ascending colon, MSI-H"
    assert r.disease.oncotree_code == "COAD"  # SNOMED 363406005
    assert r.disease.icd_o3_morphology == "8140/3"
    assert r.disease.icd_o3_topography == "C18.2"
    assert r.disease.stage == "IVC"  # the Condition's stage wins over the 21908-9 Observation
    assert r.disease.status == "relapsed"  # clinicalStatus recurrence
    assert r.tumor.msi_status == "MSI-H"
    assert _v(r.tumor.tmb) == 45  # 1/1000000{Base}
    (braf,) = r.tumor.driver_mutations
    assert (braf.gene, braf.alteration) == ("BRAF", "V600E")
    assert _v(braf.vaf) == pytest.approx(27)  # 0.27 (UCUM "1")
    assert _v(r.host.crp) == pytest.approx(9)  # 0.9 mg/dL, latest
    assert _v(r.host.albumin) == pytest.approx(37)  # 3.7 g/dL
    assert _v(r.host.ldh) == 232
    assert _v(r.host.ldh_uln) == 250  # referenceRange.high
    assert r.host.blood.lymphocytes is not None
    assert r.host.blood.lymphocytes.value == pytest.approx(1500)  # 1.5 10*3/uL
    assert r.host.blood.platelets is not None
    assert r.host.blood.platelets.value == pytest.approx(301000)
    assert r.host.blood.hemoglobin is not None
    assert r.host.blood.hemoglobin.unit == "g/dL"
    (capox,) = r.patient.prior_therapies  # four administrations, one line
    assert _iso(capox.start) == "2023-05-02"
    assert _iso(capox.end) == "2023-07-25"
    assert r.patient.comorbidities == ("Atrial fibrillation (anticoagulated)",)


def test_crc_bundle_lists_what_it_skips() -> None:
    result = read_fhir_bundle(DATA / "fhir_crc_msih.json")
    skipped = {s.resource: s.reason for s in result.skipped}
    assert "unknown code" in skipped["Observation/crc-cea"]  # CEA: no record field
    assert "secondary" in skipped["Condition/crc-liver-met"]
    assert "crc-crp" in skipped["Observation/crc-crp-old"]  # superseded by the later CRP
    assert "worsened" in skipped["Observation/crc-status"]  # a trend, not a record status
    assert "Encounter/crc-visit" in skipped
    assert "Observation/crc-stage" in skipped
    assert any("birthDate" in n for n in result.notes)


def test_melanoma_bundle_values_hand_checked() -> None:
    result = read_fhir_bundle(_load("fhir_melanoma.json"))
    r = result.record
    assert r.disease.oncotree_code == "SKCM"  # ICD-10 C43.5
    assert _v(r.patient.age) == 54  # 1972-01-15 → 2026-09-22
    assert r.patient.ecog == 0
    assert _v(r.tumor.tmb) == 12  # {mutations}/[Mb]
    assert r.tumor.msi_status == "MSS"  # LA14122-8 Stable
    assert _v(r.tumor.pdl1_tps) == 5
    assert _v(r.host.ldh) == 410  # [IU]/L
    assert _v(r.host.ferritin) == pytest.approx(210)  # ug/L
    assert r.host.blood.neutrophils is not None
    assert r.host.blood.neutrophils.value == pytest.approx(4800)  # 4.8 10*9/L
    assert r.patient.comorbidities == ("Hypercholesterolemia",)
    assert [s.resource for s in result.skipped] == ["Observation/mel-s100"]


def _with_crp(value: dict[str, Any]) -> dict[str, Any]:
    bundle = copy.deepcopy(_load("fhir_crc_msih.json"))
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "crc-crp":
            entry["resource"]["valueQuantity"] = value
    return bundle


def test_crp_in_cells_is_refused_naming_the_observation() -> None:
    bundle = _with_crp(
        {"value": 5, "unit": "cells/uL", "system": "http://unitsofmeasure.org", "code": "/uL"}
    )
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(bundle)
    (problem,) = info.value.problems
    assert problem.field == "Observation/crc-crp: host.crp"
    assert problem.value == "5 1/uL"
    assert "mg/L" in problem.message


_UCUM = "http://unitsofmeasure.org"


def test_a_censored_latest_value_leaves_the_field_empty_and_says_why() -> None:
    # "<0.5 mg/dL" read as 0.5 mg/dL would be a CRP never measured; the older 2.4 mg/dL is outdated
    bundle = _with_crp(
        {"value": 0.5, "comparator": "<", "unit": "mg/dL", "system": _UCUM, "code": "mg/dL"}
    )
    result = read_fhir_bundle(bundle)
    assert result.record.host.crp is None
    reasons = [(s.resource, s.reason) for s in result.skipped]
    censored = "censored value <0.5 mg/dL: a detection limit, not a measured value"
    assert ("Observation/crc-crp", f"{censored}; host.crp is left empty") in reasons
    assert ("Observation/crc-crp-old", "host.crp is taken from the later Observation/crc-crp") in (
        reasons
    )


def test_a_censored_older_value_gives_way_to_the_later_measurement() -> None:
    bundle = copy.deepcopy(_load("fhir_crc_msih.json"))
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "crc-crp-old":
            entry["resource"]["valueQuantity"]["comparator"] = ">"
    result = read_fhir_bundle(bundle)
    assert _v(result.record.host.crp) == pytest.approx(9.0)  # crc-crp: 0.9 mg/dL
    old = [s.reason for s in result.skipped if s.resource == "Observation/crc-crp-old"]
    assert any(r.startswith("censored value >2.4 mg/dL") for r in old)


def test_a_censored_allele_fraction_is_refused_naming_the_observation() -> None:
    bundle = copy.deepcopy(_load("fhir_crc_msih.json"))
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "crc-braf":
            for component in entry["resource"]["component"]:
                if "valueQuantity" in component:
                    component["valueQuantity"]["comparator"] = "<"
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(bundle)
    (problem,) = info.value.problems
    assert problem.field.startswith("Observation/crc-braf: tumor.driver_mutations[0].vaf")
    assert "is a detection limit, not a measured value" in problem.message


def test_out_of_range_value_names_observation_and_range() -> None:
    bundle = _with_crp({"value": 5000, "unit": "mg/L"})
    with pytest.raises(ValidationError, match=r"Observation/crc-crp: host\.crp.*0–1000 mg/L"):
        read_fhir_bundle(bundle)


def test_quantity_without_unit_is_refused() -> None:
    bundle = _with_crp({"value": 5})
    with pytest.raises(ValidationError, match="crc-crp"):
        read_fhir_bundle(bundle)


def test_invalid_fhir_is_refused() -> None:
    bundle = _load("fhir_melanoma.json")
    del bundle["entry"][3]["resource"]["status"]  # Observation.status is required
    with pytest.raises(ValidationError, match=r"entry\[3\]\.resource\.status"):
        read_fhir_bundle(bundle)


def test_a_resource_id_written_as_a_json_number_is_refused_naming_resource_and_value() -> None:
    bundle = _load("fhir_melanoma.json")
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["resource"]["id"] = 12345
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(bundle)
    (problem,) = info.value.problems
    assert problem.value == 12345
    assert "the Patient's id is the JSON number 12345" in problem.message
    assert "FHIR ids are strings" in problem.message
    assert '"id": "12345"' in problem.message
    assert "Input should be a valid string" not in str(info.value)


@pytest.mark.parametrize(
    ("written", "example"), [("1,2", '"value": 1.2'), ("12 mg/L", '"value": 12.5')]
)
def test_a_decimal_written_as_text_is_refused_saying_how_fhir_writes_it(
    written: str, example: str
) -> None:
    bundle = _with_crp(
        {"value": written, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}
    )
    with pytest.raises(ValidationError) as info:
        read_fhir_bundle(bundle)
    (problem,) = info.value.problems
    assert problem.field.endswith(".resource.valueQuantity.value")
    assert problem.value == written
    assert f'the Observation\'s value is the text "{written}", not a number' in problem.message
    assert example in problem.message
    assert "spec regex" not in str(info.value)


def test_bundle_without_cancer_condition_is_refused() -> None:
    bundle = _load("fhir_melanoma.json")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != "mel-primary"]
    with pytest.raises(ValidationError, match=r"disease\.diagnosis"):
        read_fhir_bundle(bundle)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_round_trip_every_example(path: Path) -> None:
    record = ip.read_patient(path)
    bundle = record_to_fhir(record)
    Bundle.model_validate(bundle)
    result = read_fhir_bundle(bundle)
    assert result.skipped == ()
    assert _covered(result.record) == _covered(record)
    assert result.record.patient == record.patient
    assert result.record.host == record.host
    assert result.record.microenvironment == record.microenvironment
    assert result.record.tumor.driver_mutations == record.tumor.driver_mutations
    assert result.record.disease.burden == record.disease.burden
    assert result.record.disease.risk_indices == record.disease.risk_indices
    assert result.record.tumor.antigens == record.tumor.antigens
    assert result.record.tumor.hypoxia == record.tumor.hypoxia
    assert result.record.toxicity == record.toxicity


def test_several_patients_in_one_bundle() -> None:
    records = [ip.read_patient(p) for p in EXAMPLES[:2]]
    entries = [e for r in records for e in record_to_fhir(r)["entry"]]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    results = read_fhir_bundles(bundle)
    assert [_covered(r.record) for r in results] == [_covered(r) for r in records]
    with pytest.raises(ValidationError, match="2 patients"):
        read_fhir_bundle(bundle)


def test_two_patients_with_one_id_are_refused_by_that_id() -> None:
    record = ip.read_patient(EXAMPLES[0])
    entries = record_to_fhir(record)["entry"]
    patient = next(e for e in entries if e["resource"]["resourceType"] == "Patient")
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [*entries, patient]}
    with pytest.raises(ValidationError) as info:
        read_fhir_bundles(bundle)
    (problem,) = info.value.problems
    assert problem.field == "Patient.id"
    assert problem.value == patient["resource"]["id"]
    assert "on more than one Patient of the Bundle" in problem.message


def test_profile_bundle_validates_and_codes_tmb_with_loinc() -> None:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    profile = ip.profile(record)
    bundle = profile_to_fhir(profile, patient_reference="Patient/SYN-CRC-001")
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    assessed = [v for v in profile.values.values() if v.status == "assessed"]
    assert len(resources) == len(assessed)
    tmb = next(r for r in resources if r["code"]["coding"][0]["code"] == "tmb")
    codings = {(c["system"], c["code"]) for c in tmb["code"]["coding"]}
    assert ("http://loinc.org", "94076-7") in codings
    assert tmb["valueQuantity"]["value"] == 45
    assert tmb["valueQuantity"]["code"] == "{mutations}/[Mb]"
    assert tmb["subject"]["reference"] == "Patient/SYN-CRC-001"
    assert any(n["text"].startswith("Method:") for n in tmb["note"])
    assert json.loads(json.dumps(bundle)) == bundle  # JSON-ready


def test_every_loinc_code_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "fhir.md").read_text(encoding="utf-8")
    codes = fhir_codes()
    loinc = codes.system("loinc")
    for system, code in codes.by_code:
        if system == loinc:
            assert code in docs


@pytest.mark.parametrize(
    ("ucum", "expected"),
    [
        ("10*3/uL", "10^3/uL"),
        ("/uL", "1/uL"),
        ("{cells}/uL", "cells/uL"),
        ("[IU]/L", "IU/L"),
        ("mg/dL", "mg/dL"),
    ],
)
def test_ucum_spellings(ucum: str, expected: str) -> None:
    assert ucum_to_unit(ucum) == expected


# -- real-world Bundles: times of day, references, Medication resources, UCUM time units --------

_PATIENT_URL = "urn:uuid:6b1f0c1e-8f0a-4a53-9d7e-2f6c1c0d5a11"


def _bundle(*resources: dict[str, Any], patient: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Bundle with one Patient (fullUrl urn:uuid; ``patient`` replaces the default one), a
    colon cancer Condition and ``resources``."""
    patient = patient or {"resourceType": "Patient", "id": "P1", "gender": "female"}
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": _PATIENT_URL},
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "363406005"}],
            "text": "Colon adenocarcinoma",
        },
    }
    entries = [{"fullUrl": _PATIENT_URL, "resource": patient}, {"resource": condition}]
    entries += [{"resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _crp(obs_id: str, mg_per_l: float, when: str, subject: str = _PATIENT_URL) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "subject": {"reference": subject},
        "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": mg_per_l,
            "unit": "mg/L",
            "system": "http://unitsofmeasure.org",
            "code": "mg/L",
        },
    }


def test_the_later_time_of_day_wins_whatever_the_bundle_order() -> None:
    morning = _crp("morning", 6, "2026-01-02T08:30:00Z")
    evening = _crp("evening", 9, "2026-01-02T18:00:00Z")
    for order in ((morning, evening), (evening, morning)):
        result = read_fhir_bundle(_bundle(*order))
        assert _v(result.record.host.crp) == 9
        (skipped,) = result.skipped
        assert skipped.resource == "Observation/morning"
        assert "later Observation/evening" in skipped.reason


def test_times_in_different_zones_are_compared_as_moments() -> None:
    # 23:30 in New York on 2 Jan is 04:30 UTC on 3 Jan, after 01:00 in Athens on 3 Jan
    # (23:00 UTC on 2 Jan), although its own calendar date is earlier
    new_york = _crp("new-york", 9, "2026-01-02T23:30:00-05:00")
    athens = _crp("athens", 6, "2026-01-03T01:00:00+02:00")
    result = read_fhir_bundle(_bundle(athens, new_york))
    assert _v(result.record.host.crp) == 9
    assert [s.resource for s in result.skipped] == ["Observation/athens"]


@pytest.mark.parametrize(
    "reference",
    [
        "Patient/P1/_history/3",
        "https://ehr.example.org/fhir/Patient/P1",
        "https://ehr.example.org/fhir/Patient/P1/_history/2",
    ],
)
def test_versioned_and_absolute_patient_references_are_followed(reference: str) -> None:
    result = read_fhir_bundle(_bundle(_crp("crp", 5, "2026-01-01", subject=reference)))
    assert _v(result.record.host.crp) == 5
    assert result.skipped == ()


def test_a_reference_to_another_patient_is_still_skipped() -> None:
    result = read_fhir_bundle(_bundle(_crp("crp", 5, "2026-01-01", subject="Patient/P2")))
    assert result.record.host.crp is None
    assert [str(s) for s in result.skipped] == [
        "Observation/crp: refers to no Patient in the Bundle"
    ]


def _administration(reference: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": "m1",
        "status": "completed",
        "medicationReference": {"reference": reference},
        "subject": {"reference": _PATIENT_URL},
        "effectivePeriod": {"start": "2025-01-07", "end": "2025-06-30"},
        **extra,
    }


def test_a_contained_medication_names_the_therapy() -> None:
    contained = [{"resourceType": "Medication", "id": "med", "code": {"text": "pembrolizumab"}}]
    result = read_fhir_bundle(_bundle(_administration("#med", contained=contained)))
    (therapy,) = result.record.patient.prior_therapies
    assert therapy.name == "pembrolizumab"
    assert (_iso(therapy.start), _iso(therapy.end)) == ("2025-01-07", "2025-06-30")
    assert result.skipped == ()


def test_a_medication_entry_of_the_bundle_names_the_therapy() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "nivo",
        "code": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "1597876",
                    "display": "nivolumab",
                }
            ]
        },
    }
    result = read_fhir_bundle(_bundle(_administration("Medication/nivo"), medication))
    (therapy,) = result.record.patient.prior_therapies
    assert therapy.name == "nivolumab"
    assert result.skipped == ()


def test_an_unresolvable_medication_reference_is_skipped_naming_it() -> None:
    result = read_fhir_bundle(_bundle(_administration("Medication/missing")))
    assert result.record.patient.prior_therapies is None  # not recorded
    (skipped,) = result.skipped
    assert "'Medication/missing'" in skipped.reason


def test_an_age_in_ucum_months_is_converted_to_years() -> None:
    age = {
        "resourceType": "Observation",
        "id": "age",
        "status": "final",
        "subject": {"reference": _PATIENT_URL},
        "code": {"coding": [{"system": "http://loinc.org", "code": "30525-0"}]},
        "valueQuantity": {
            "value": 18,
            "unit": "months",
            "system": "http://unitsofmeasure.org",
            "code": "mo",
        },
    }
    assert _v(read_fhir_bundle(_bundle(age)).record.patient.age) == pytest.approx(1.5)
    assert ucum_to_unit("wk") == "week"
    assert ucum_to_unit("mmol/L") == "mmol/L"  # "mo" only as a whole unit
