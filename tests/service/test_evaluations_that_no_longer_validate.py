"""A stored evaluation that no longer validates against the evaluation model (stored by an
older immunoprecise, or changed in the database) makes ``GET /patients/{id}/evaluations``
answer 409 naming the evaluation (id, record version, time, offset) and its invalid fields,
never 500; pages that leave it out are answered (real server, SQLite and PostgreSQL when
configured)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.registry.schema import EvaluationRow
from service.service_server import Server

API = "/api/v1"


def _three_evaluations_the_second_changed(server: Server) -> tuple[str, int]:
    """Store the CRC example, evaluate it three times (each evaluation stored), then add an
    unknown key to the second one's ``software`` in SQL; the patient id and its id."""
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    pid = str(record["patient"]["id"])
    with server.client("clinician") as clinician:
        assert clinician.post(f"{API}/patients", json=record).status_code == 201
        ids = []
        for _ in range(3):
            answer = clinician.post(f"{API}/evaluate", json={"patient_id": pid})
            assert answer.status_code == 200, answer.text[:300]
            ids.append(answer.json()["stored_evaluation_id"])
        stored = answer.json()["evaluation"]
    changed: dict[str, Any] = {**stored, "software": {**stored["software"], "build": "site-42"}}
    engine = sa.create_engine(server.db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.update(EvaluationRow)
                .where(EvaluationRow.id == ids[1])
                .values(evaluation=changed)
            )
    finally:
        engine.dispose()
    return pid, ids[1]


def test_reading_it_is_a_409_naming_the_evaluation_and_fields(server: Server) -> None:
    pid, changed = _three_evaluations_the_second_changed(server)
    with server.client("clinician") as clinician:
        answer = clinician.get(f"{API}/patients/{pid}/evaluations")
        first = clinician.get(f"{API}/patients/{pid}/evaluations", params={"limit": 1})
        rest = clinician.get(f"{API}/patients/{pid}/evaluations", params={"offset": 2})
    assert answer.status_code == 409, answer.text[:500]
    body = answer.json()
    assert body["patient_id"] == pid
    assert (body["evaluation_id"], body["version"], body["offset"]) == (changed, 1, 1)
    assert body["created_at"].endswith("Z")
    assert body["invalid_fields"] == ["software.build"]
    (problem,) = body["problems"]
    assert problem.startswith("software.build = 'site-42': "), problem
    detail = body["detail"]
    assert detail.startswith(f"evaluation {changed} of patient {pid!r} (of record version 1, ")
    assert problem in detail
    assert f"{API}/patients/{pid}/evaluations?offset=2" in detail
    assert "?limit=1" in detail
    assert f"POST {API}/evaluate" in detail
    assert "internal error" not in answer.text
    assert first.status_code == 200, first.text[:300]
    assert (first.json()["total"], [e["id"] for e in first.json()["evaluations"]]) == (
        3,
        [changed - 1],
    )
    assert rest.status_code == 200, rest.text[:300]
    assert [e["id"] for e in rest.json()["evaluations"]] == [changed + 1]


def test_researchers_get_the_fields_only_under_the_pseudonym(server: Server) -> None:
    pid, changed = _three_evaluations_the_second_changed(server)
    with server.client("researcher") as researcher:
        pseudonym = researcher.get(f"{API}/patients").json()["patients"][0]
        answer = researcher.get(f"{API}/patients/{pseudonym}/evaluations")
    assert answer.status_code == 409, answer.text[:500]
    body = answer.json()
    assert (body["patient_id"], body["evaluation_id"]) == (pseudonym, changed)
    assert body["invalid_fields"] == ["software.build"]
    assert body["problems"] == []
    assert "software.build" in body["detail"]
    assert "site-42" not in answer.text
    assert pid not in answer.text


def test_the_openapi_schema_declares_the_409(server: Server) -> None:
    with server.client() as anyone:
        schema = anyone.get("/openapi.json").json()
    answers = schema["paths"][f"{API}/patients/{{patient_id}}/evaluations"]["get"]["responses"]
    assert answers["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConflictAnswer"
    }
    fields = schema["components"]["schemas"]["ConflictAnswer"]["properties"]
    assert {"evaluation_id", "created_at", "offset"} <= set(fields)
