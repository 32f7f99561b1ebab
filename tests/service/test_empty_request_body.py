"""A request sent without a body (or with an empty one) where a JSON body is expected gets 422
on ``body`` saying the body is empty, what to send and where its schema is, in the answer
shape of every other 422 (real server, SQLite and PostgreSQL when configured)."""

from __future__ import annotations

from service.service_server import Server

API = "/api/v1"
JSON = {"Content-Type": "application/json"}


def test_an_empty_record_body_says_what_to_send(server: Server) -> None:
    with server.client("clinician") as clinician:
        answers = {
            "no body": clinician.post(f"{API}/patients"),
            "empty JSON body": clinician.post(f"{API}/patients", content=b"", headers=JSON),
            "PUT": clinician.put(f"{API}/patients/SYN-CRC-001", content=b"", headers=JSON),
        }
    for name, answer in answers.items():
        assert answer.status_code == 422, (name, answer.text)
        (problem,) = answer.json()["detail"]
        assert set(problem) == {"field", "value", "message"}
        assert (problem["field"], problem["value"]) == ("body", None), name
        message = problem["message"]
        assert message.startswith(
            "the request body is empty: send a patient record or a FHIR Bundle as a JSON "
            "object, with the header 'Content-Type: application/json'"
        ), message
        assert "components.schemas.PatientRecord in /openapi.json" in message
        assert 'example_path("crc_msih.json")' in message
        assert "Field required" not in answer.text


def test_a_null_body_says_what_to_send(server: Server) -> None:
    with server.client("clinician") as clinician:
        answer = clinician.post(f"{API}/patients", content=b"null", headers=JSON)
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert (problem["field"], problem["value"]) == ("body", None)
    assert problem["message"].startswith(
        "the request body is JSON null: send a patient record or a FHIR Bundle as a JSON object"
    ), problem["message"]


def test_other_routes_say_what_they_expect(server: Server) -> None:
    with server.client("researcher") as researcher:
        evaluate = researcher.post(f"{API}/evaluate")
        simulate = researcher.post(f"{API}/simulate", content=b"", headers=JSON)
    (problem,) = evaluate.json()["detail"]
    assert evaluate.status_code == 422
    assert problem["message"].startswith("the request body is empty: send a record, or ")
    assert "components.schemas.StoredPatient" in problem["message"]
    (problem,) = simulate.json()["detail"]
    assert simulate.status_code == 422
    assert problem["message"].startswith("the request body is empty: send a JSON object, ")
    assert "components.schemas.SimulateRequest in /openapi.json" in problem["message"]
