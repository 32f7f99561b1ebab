"""Every field of a JSON request body is named from ``body``, and a whole number too large to
read is refused with the range expected."""

from __future__ import annotations

from typing import Any

import pytest

from service.service_server import Server

CRC_ID = "SYN-CRC-001"


def _problems(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 422, response.text
    return {p["field"]: p for p in response.json()["detail"]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/simulate", {"model": "cartmath2021", "t_end": 5, "regimen": "???"}, "regimen"),
        ("/api/v1/evaluate", {"patient_id": CRC_ID, "version": "two"}, "version"),
        (
            "/api/v1/patients",
            {"patient": {"id": "P-1", "age": 300}, "disease": {"diagnosis": "FL"}},
            "patient.age",
        ),
        (
            "/api/v1/evaluate",
            {"patient": {"id": "P-1", "age": 300}, "disease": {"diagnosis": "FL"}},
            "patient.age",
        ),
    ],
)
def test_every_body_field_is_named_from_body(
    server: Server, path: str, body: dict[str, Any], field: str
) -> None:
    with server.client("clinician") as clinician:
        response = clinician.post(path, json=body)
    problems = _problems(response)
    assert list(problems) == [f"body.{field}"]


def test_a_record_for_another_id_is_named_from_body(server: Server) -> None:
    record = {"patient": {"id": "P-2"}, "disease": {"diagnosis": "FL"}}
    with server.client("clinician") as clinician:
        response = clinician.put("/api/v1/patients/P-1", json=record)
    problems = _problems(response)
    assert problems["body.patient.id"]["value"] == "P-2"


@pytest.mark.parametrize(
    ("path", "body", "field", "expected"),
    [
        (
            "/api/v1/simulate",
            b'{"model": "cartmath2021", "t_end": 5, "seed": 1e30}',
            "body.seed",
            "expected a whole number from 0 to 9223372036854775807",
        ),
        (
            "/api/v1/evaluate",
            b'{"patient_id": "SYN-CRC-001", "version": 1e30}',
            "body.version",
            "expected a whole number from 1 to 2147483647",
        ),
    ],
)
def test_a_whole_number_too_large_to_read_names_the_range(
    server: Server, path: str, body: bytes, field: str, expected: str
) -> None:
    with server.client("clinician") as clinician:
        response = clinician.post(path, content=body, headers={"Content-Type": "application/json"})
    problem = _problems(response)[field]
    assert problem["value"] == 1e30
    assert problem["message"] == f"1e+30 is too large: {expected}"
    assert "Unable to parse" not in response.text
