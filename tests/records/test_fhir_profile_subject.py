"""The profile Bundle's Observations refer to their patient with a valid FHIR reference: the
``Patient/<id>`` of the Patient that ``record_to_fhir`` writes for the same record, also for a
patient id with ``_`` (allowed in a record, not in a FHIR id)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.records.fhir import profile_to_fhir, record_to_fhir

# FHIR R4 literal reference (references.html#literal), relative form
_RELATIVE = r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$"


def _record(minimal: dict[str, Any], pid: str) -> ip.PatientRecord:
    minimal["patient"]["id"] = pid
    return ip.PatientRecord.model_validate(minimal)


def test_patient_reference_is_that_of_the_exported_patient(minimal: dict[str, Any]) -> None:
    from immunoprecise.records.fhir_export import patient_reference

    record = _record(minimal, "SYN_CRC_01")
    patient = record_to_fhir(record)["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient"
    assert patient_reference(record.patient.id) == f"Patient/{patient['id']}"
    assert patient_reference("SYN_CRC_01") == "Patient/SYN-CRC-01"
    assert patient_reference("SYN-CRC-001") == "Patient/SYN-CRC-001"


def test_evaluate_format_fhir_refers_to_a_valid_patient_id(
    minimal: dict[str, Any], tmp_path: Path
) -> None:
    minimal["patient"]["id"] = "SYN_CRC_01"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(minimal), encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(path), "-f", "fhir"])
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    subjects = {e["resource"]["subject"]["reference"] for e in bundle["entry"]}
    assert subjects == {"Patient/SYN-CRC-01"}
    for subject in subjects:
        assert re.fullmatch(_RELATIVE, subject)


def test_an_invalid_patient_reference_is_refused_by_name(minimal: dict[str, Any]) -> None:
    profile = ip.profile(_record(minimal, "SYN_CRC_01"))
    with pytest.raises(ip.ValidationError) as info:
        profile_to_fhir(profile, patient_reference="Patient/SYN_CRC_01")
    (problem,) = info.value.problems
    assert problem.field == "patient_reference"
    assert problem.value == "Patient/SYN_CRC_01"
    assert "Patient/SYN-CRC-01" in problem.message  # the reference to write instead


@pytest.mark.parametrize(
    "reference",
    [
        "Patient/SYN-CRC-001",
        "urn:uuid:6b1f0c1e-8f0a-4a53-9d7e-2f6c1c0d5a11",
        "https://ehr.example.org/fhir/Patient/123",
        "Patient/p1/_history/2",
    ],
)
def test_valid_patient_references_are_kept(minimal: dict[str, Any], reference: str) -> None:
    profile = ip.profile(_record(minimal, "P1"))
    bundle = profile_to_fhir(profile, patient_reference=reference)
    assert {e["resource"]["subject"]["reference"] for e in bundle["entry"]} == {reference}
