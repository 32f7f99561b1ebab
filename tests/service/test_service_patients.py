"""Patients (versions, FHIR, pseudonymization), evaluation and error answers over a real server."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import immunoprecise as ip
from immunoprecise.records.fhir import record_to_fhir
from service.service_server import Server
from service.test_dashboard_errors import moved_table

Check = Callable[[httpx.Response], None]
CRC_ID = "SYN-CRC-001"


@pytest.fixture
def crc() -> dict[str, Any]:
    """The shipped colorectal example record, as JSON."""
    data: dict[str, Any] = json.loads(ip.data.example_path("crc_msih.json").read_text())
    return data


def test_create_update_and_read_versions(server: Server, crc: dict[str, Any]) -> None:
    changed = copy.deepcopy(crc)
    changed["host"]["crp"] = {"value": 40, "unit": "mg/L"}
    with server.client("clinician") as clinician:
        first = clinician.post("/api/v1/patients", json=crc)
        same = clinician.post("/api/v1/patients", json=crc)
        second = clinician.put(f"/api/v1/patients/{CRC_ID}", json=changed)
        unchanged = clinician.put(f"/api/v1/patients/{CRC_ID}", json=changed)
        versions = clinician.get(f"/api/v1/patients/{CRC_ID}/versions").json()
        v1 = clinician.get(f"/api/v1/patients/{CRC_ID}/versions/1").json()
        latest = clinician.get(f"/api/v1/patients/{CRC_ID}").json()
        listed = clinician.get("/api/v1/patients", params={"search": "crc"}).json()
        delete = clinician.delete(f"/api/v1/patients/{CRC_ID}")
    assert (first.status_code, first.json()["action"], first.json()["version"]) == (
        201,
        "created",
        1,
    )
    assert (same.status_code, same.json()["action"], same.json()["version"]) == (
        200,
        "unchanged",
        1,
    )
    assert (second.json()["action"], second.json()["version"]) == ("updated", 2)
    assert (unchanged.json()["action"], unchanged.json()["version"]) == ("unchanged", 2)
    assert [v["version"] for v in versions["versions"]] == [1, 2]
    assert all(v["actor"] == "cli-token" for v in versions["versions"])
    assert v1["record"]["host"]["crp"] == {"value": 9.0, "unit": "mg/L"}
    assert latest["version"] == 2
    assert latest["record"]["host"]["crp"] == {"value": 40.0, "unit": "mg/L"}
    assert listed == {"total": 1, "patients": [CRC_ID]}
    assert delete.status_code == 405  # records are never deleted


def test_update_checks_the_id_and_the_patient(
    server: Server, crc: dict[str, Any], no_internals: Check
) -> None:
    with server.client("clinician") as clinician:
        clinician.post("/api/v1/patients", json=crc)
        wrong = clinician.put("/api/v1/patients/OTHER-1", json=crc)
        other = copy.deepcopy(crc)
        other["patient"]["id"] = "NEW-1"
        unknown = clinician.put("/api/v1/patients/NEW-1", json=other)
        missing_version = clinician.get(f"/api/v1/patients/{CRC_ID}/versions/9")
        missing_patient = clinician.get("/api/v1/patients/NOBODY")
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["field"] == "body.patient.id"
    assert unknown.status_code == 404
    assert "no patient 'NEW-1'" in unknown.json()["detail"]
    assert missing_version.status_code == 404
    assert "versions are 1 to 1" in missing_version.json()["detail"]
    assert missing_patient.status_code == 404
    for response in (wrong, unknown, missing_version, missing_patient):
        no_internals(response)


def test_a_fhir_bundle_becomes_a_record(server: Server) -> None:
    record = ip.read_patient(ip.data.example_path("melanoma_braf.json"))
    with server.client("clinician") as clinician:
        made = clinician.post("/api/v1/patients", json=record_to_fhir(record))
        read = clinician.get(f"/api/v1/patients/{record.patient_id}")
    assert made.status_code == 201, made.text
    assert made.json()["patient_id"] == record.patient_id
    drivers = read.json()["record"]["tumor"]["driver_mutations"]
    assert drivers == record.model_dump(mode="json")["tumor"]["driver_mutations"]


def test_values_the_schema_forbids_are_refused_not_coerced(
    server: Server, crc: dict[str, Any], no_internals: Check
) -> None:
    crc["patient"]["ecog"] = True  # lax parsing would store ECOG 1
    crc["collected_on"] = 0  # ... and a date in 1970
    crc["tumor"]["tmb"] = {"value": "45", "unit": "mut/Mb"}
    with server.client("clinician") as clinician:
        stored = clinician.post("/api/v1/patients", json=crc)
        evaluated = clinician.post("/api/v1/evaluate", json=crc)
        listed = clinician.get("/api/v1/patients")
    for response in (stored, evaluated):
        assert response.status_code == 422
        fields = {p["field"]: p for p in response.json()["detail"]}
        assert set(fields) == {"body.patient.ecog", "body.collected_on", "body.tumor.tmb"}
        assert fields["body.patient.ecog"]["value"] is True
        assert "whole number" in fields["body.patient.ecog"]["message"]
        assert "YYYY-MM-DD" in fields["body.collected_on"]["message"]
        no_internals(response)
    assert listed.json()["patients"] == []


def test_invalid_record_gives_422_with_field_details(
    server: Server, crc: dict[str, Any], no_internals: Check
) -> None:
    crc["host"]["crp"] = "5 cells/uL"
    crc["patient"]["age"] = 300
    with server.client("clinician") as clinician:
        stored = clinician.post("/api/v1/patients", json=crc)
        evaluated = clinician.post("/api/v1/evaluate", json=crc)
        not_json = clinician.post(
            "/api/v1/patients", content=b"{nope", headers={"Content-Type": "application/json"}
        )
    for response in (stored, evaluated):
        assert response.status_code == 422
        fields = {p["field"]: p for p in response.json()["detail"]}
        assert fields["body.host.crp"]["value"] == "5 cells/uL"
        assert "mg/L" in fields["body.host.crp"]["message"]
        assert fields["body.patient.age"]["value"] == 300
        no_internals(response)
    assert not_json.status_code == 422
    assert not_json.json()["detail"][0]["field"].startswith("body")


def test_researchers_see_pseudonymized_data_only(
    server: Server, crc: dict[str, Any], no_internals: Check
) -> None:
    with server.client("clinician") as clinician:
        clinician.post("/api/v1/patients", json=crc)
        clinician.post("/api/v1/evaluate", json={"patient_id": CRC_ID})
    with server.client("researcher") as researcher:
        listed = researcher.get("/api/v1/patients").json()
        (pseudonym,) = listed["patients"]
        record = researcher.get(f"/api/v1/patients/{pseudonym}")
        versions = researcher.get(f"/api/v1/patients/{pseudonym}/versions")
        evaluations = researcher.get(f"/api/v1/patients/{pseudonym}/evaluations")
        evaluated = researcher.post("/api/v1/evaluate", json={"patient_id": pseudonym})
        by_real_id = researcher.get(f"/api/v1/patients/{CRC_ID}")
    assert pseudonym.startswith("PS-")
    assert len(pseudonym) == 23
    data = record.json()
    patient = data["record"]["patient"]
    assert data["patient_id"] == patient["id"] == pseudonym
    assert patient["age"] == "65-69"
    assert "comorbidities" not in patient
    assert patient["hla_type"][0] == "A*03"
    assert "name" not in patient["prior_therapies"][0]
    assert patient["prior_therapies"][0]["start"] == "2023"
    assert data["record"]["collected_on"] == "2026"
    assert "diagnosis" not in data["record"]["disease"]
    assert data["record"]["disease"]["oncotree_code"] == "COAD"
    assert "expression" not in data["record"]
    assert "source" not in data
    assert "sha256" not in data
    for response in (record, versions, evaluations, evaluated):
        assert response.status_code == 200
        text = response.text
        assert CRC_ID not in text
        assert "hemicolectomy" not in text
        assert "ascending colon" not in text
    ev = evaluated.json()
    assert ev["stored_evaluation_id"] is None  # researchers do not write patient data
    assert ev["evaluation"]["profile"]["values"]["age"]["value"] == "65-69"
    assert ev["evaluation"]["plan"]["options"]
    assert by_real_id.status_code == 404
    no_internals(by_real_id)


def test_evaluate_the_example_record(server: Server, crc: dict[str, Any]) -> None:
    with server.client("clinician") as clinician:
        unstored = clinician.post("/api/v1/evaluate", json=crc)
        clinician.post("/api/v1/patients", json=crc)
        by_id = clinician.post("/api/v1/evaluate", json={"patient_id": CRC_ID})
        by_body = clinician.post("/api/v1/evaluate", json=crc)
        stored = clinician.get(f"/api/v1/patients/{CRC_ID}/evaluations").json()
        unknown = clinician.post("/api/v1/evaluate", json={"patient_id": "NOBODY"})
    assert unstored.status_code == 200, unstored.text
    body = unstored.json()
    assert body["stored_evaluation_id"] is None
    assert any("expression" in note for note in body["notes"])
    options = body["evaluation"]["plan"]["options"]
    assert options
    assert options[0]["rank"] == 1
    assert {"profile", "plan", "software", "disclaimer"} <= set(body["evaluation"])
    assert by_id.json()["stored_evaluation_id"] is not None
    assert by_id.json()["record_version"] == 1
    assert by_body.json()["stored_evaluation_id"] is not None  # identical to the stored version
    assert [e["actor"] for e in stored["evaluations"]] == ["cli-token", "cli-token"]
    assert unknown.status_code == 404


def test_unexpected_errors_are_500_with_an_id_and_no_traceback(
    server: Server, no_internals: Check, caplog: pytest.LogCaptureFixture
) -> None:
    # a registry table gone from under the running server: a server fault, not a request error
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    with server.client("clinician") as clinician:
        assert clinician.post("/api/v1/patients", json=record).status_code == 201
    with (
        caplog.at_level("ERROR", logger="immunoprecise.service"),
        moved_table(server.db_url),
        server.client("clinician") as clinician,
    ):
        broken = clinician.get(f"/api/v1/patients/{record['patient']['id']}")
    assert broken.status_code == 500
    body = broken.json()
    assert body["detail"] == "internal error"
    uuid.UUID(body["id"])
    assert set(body) == {"detail", "id"}
    no_internals(broken)
    logged = [r for r in caplog.records if body["id"] in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
