"""Bad input to the REST API over a real server: a 422 (or 400) naming the field, the value and
what is expected — never a 500, never silently accepted, misread or dropped."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml

import immunoprecise as ip
from service.service_server import Server

Check = Callable[[httpx.Response], None]
CRC_ID = "SYN-CRC-001"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def crc() -> dict[str, Any]:
    """The shipped colorectal example record, as JSON."""
    data: dict[str, Any] = json.loads(ip.data.example_path("crc_msih.json").read_text())
    return data


def _problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text[:500]
    detail: list[dict[str, Any]] = response.json()["detail"]
    return detail


def test_non_finite_numbers_get_a_422_that_is_itself_json(
    server: Server, no_internals: Check
) -> None:
    # Python's JSON reader (FastAPI's) takes NaN and Infinity; the 422 naming them used to fail
    # to render (NaN is not JSON) and became a 500
    with server.client("admin") as admin:
        nan_days = admin.post(
            "/api/v1/simulate", content='{"model": "kuznetsov1994", "t_end": NaN}', headers=JSON
        )
        huge_days = admin.post(
            "/api/v1/simulate", content='{"model": "kuznetsov1994", "t_end": 1e400}', headers=JSON
        )
        nan_version = admin.post(
            "/api/v1/evaluate",
            content=f'{{"patient_id": "{CRC_ID}", "version": NaN}}',
            headers=JSON,
        )
        minus_infinity = admin.post(
            "/api/v1/trials",
            content='{"model": "cartmath2021", "regimens": {"a": "CAR-T 1e6 cells d0"}, '
            '"t_end": 60, "initial": {"T": -Infinity}}',
            headers=JSON,
        )
    (problem,) = _problems(nan_days)
    assert (problem["field"], problem["value"]) == ("body.t_end", "NaN")
    (problem,) = _problems(huge_days)
    assert (problem["field"], problem["value"]) == ("body.t_end", "Infinity")
    (problem,) = _problems(nan_version)
    assert (problem["field"], problem["value"]) == ("body.version", "NaN")
    (problem,) = _problems(minus_infinity)
    assert (problem["field"], problem["value"]) == ("body.initial.T", "-Infinity")
    for response in (nan_days, huge_days, nan_version, minus_infinity):
        json.loads(response.text)  # standard JSON: no NaN or Infinity in it
        no_internals(response)


def test_a_body_that_is_not_json_is_named_as_the_body(server: Server) -> None:
    with server.client("admin") as admin:
        broken = admin.post("/api/v1/simulate", content='{"model": "x",', headers=JSON)
        as_form = admin.post(  # what `curl -d '{...}'` sends
            "/api/v1/simulate",
            content='{"model": "kuznetsov1994", "t_end": 3}',
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    (problem,) = _problems(broken)
    assert problem["field"] == "body"  # not "body[13]", which reads as an item of a list
    assert problem["message"].startswith("the body is not valid JSON at character 14")
    (problem,) = _problems(as_form)
    assert problem["field"] == "body"
    assert "Content-Type: application/json" in problem["message"]
    assert "application/x-www-form-urlencoded" in problem["message"]


def test_record_versions_beyond_what_the_registry_holds_are_422_not_500(
    server: Server, crc: dict[str, Any], no_internals: Check
) -> None:
    huge = 10**22
    with server.client("clinician") as clinician:
        assert clinician.post("/api/v1/patients", json=crc).status_code == 201
        path = clinician.get(f"/api/v1/patients/{CRC_ID}/versions/{huge}")
        body = clinician.post("/api/v1/evaluate", json={"patient_id": CRC_ID, "version": huge})
        zero = clinician.get(f"/api/v1/patients/{CRC_ID}/versions/0")
        missing = clinician.get(f"/api/v1/patients/{CRC_ID}/versions/7")
        schema = clinician.get("/openapi.json").json()
    (problem,) = _problems(path)
    assert problem["field"] == "path.version"
    assert problem["value"] == str(huge)
    assert "2147483647" in problem["message"]
    (problem,) = _problems(body)
    assert (problem["field"], problem["value"]) == ("body.version", huge)
    assert _problems(zero)[0]["field"] == "path.version"
    assert missing.status_code == 404
    assert "versions are 1 to 1" in missing.json()["detail"]
    for response in (path, body, zero):
        no_internals(response)
    operation = schema["paths"]["/api/v1/patients/{patient_id}/versions/{version}"]["get"]
    (version,) = [p for p in operation["parameters"] if p["name"] == "version"]
    assert (version["schema"]["minimum"], version["schema"]["maximum"]) == (1, 2**31 - 1)


def test_a_researcher_asking_for_a_missing_version_sees_the_pseudonym_not_the_id(
    server: Server, crc: dict[str, Any]
) -> None:
    with server.client("clinician") as clinician:
        assert clinician.post("/api/v1/patients", json=crc).status_code == 201
    with server.client("researcher") as researcher:
        (pseudonym,) = researcher.get("/api/v1/patients").json()["patients"]
        by_path = researcher.get(f"/api/v1/patients/{pseudonym}/versions/9")
        by_body = researcher.post("/api/v1/evaluate", json={"patient_id": pseudonym, "version": 9})
    for response in (by_path, by_body):
        assert response.status_code == 404, response.text
        assert CRC_ID not in response.text
        assert response.json()["detail"] == (
            f"patient {pseudonym!r} has no record version 9; versions are 1 to 1"
        )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"t_end": True}, "body.t_end", "got true/false"),  # was read as 1 day
        ({"t_end": "30"}, "body.t_end", "without quotes"),
        ({"n_virtual": True}, "body.n_virtual", "got true/false"),  # was read as 1 patient
        ({"seed": "5"}, "body.seed", "without quotes"),
        ({"params": {"s": True}}, "body.params.s", "got true/false"),
        ({"initial": {"T": [1e6, "1e6"]}}, "body.initial.T", "item 2: expected a number"),
    ],
)
def test_simulate_refuses_flags_and_quoted_numbers(
    server: Server, change: dict[str, Any], field: str, words: str
) -> None:
    request = {"model": "kuznetsov1994", "t_end": 30, **change}
    with server.client("researcher") as researcher:
        refused = researcher.post("/api/v1/simulate", json=request)
    (problem,) = _problems(refused)
    assert problem["field"] == field
    assert words in problem["message"]


def test_trials_refuse_at_once_what_their_job_would_fail_on(
    server: Server, no_internals: Check
) -> None:
    base = {"model": "cartmath2021", "regimens": {"a": "CAR-T 1e6 cells d0"}, "t_end": 60}
    with server.client("researcher") as researcher:

        def start(**change: Any) -> httpx.Response:
            return researcher.post("/api/v1/trials", json={**base, "n_virtual": 2, **change})

        wrong_agent = start(regimens={"a": "rituximab 650 mg d0"})
        wrong_unit = start(regimens={"a": "CAR-T 1e6 mg d0"})
        no_state = start(initial={"nosuch": 1.0})
        no_set = start(parameter_set="nosuch")
        negative = start(initial={"T": -1.0})
        flag = start(initial={"T": True})
        untreated = start(regimens={"a": "  "})
        control_label = start(regimens={"no treatment": "CAR-T 1e6 cells d0"})
        own_control = start(regimens={"no treatment": "CAR-T 1e6 cells d0"}, control=False)
        jobs = researcher.get("/api/v1/trials").json()["trials"]
    assert wrong_agent.status_code == 400
    assert "cannot take agent 'rituximab'" in wrong_agent.json()["detail"]
    assert wrong_unit.status_code == 400
    assert "takes cells" in wrong_unit.json()["detail"]
    assert no_state.status_code == 400
    assert "no state 'nosuch'" in no_state.json()["detail"]
    assert no_set.status_code == 400
    assert "no parameter set 'nosuch'" in no_set.json()["detail"]
    (problem,) = _problems(negative)
    assert problem["field"] == "body.initial"
    assert "T = -1.0" in problem["message"]
    assert _problems(flag)[0]["field"] == "body.initial.T"
    (problem,) = _problems(untreated)
    assert problem["field"] == "body.regimens"
    assert "regimen 'a' has no text" in problem["message"]
    # the treated arm would have replaced the untreated control row under the same label
    (problem,) = _problems(control_label)
    assert problem["field"] == "body.regimens.no treatment"
    assert "control arm" in problem["message"]
    assert own_control.status_code == 202, own_control.text
    assert [job["id"] for job in jobs] == [own_control.json()["id"]]  # nothing else started
    for response in (wrong_agent, wrong_unit, no_state, no_set, negative, control_label):
        no_internals(response)


def test_trial_design_cohort_is_checked_before_the_job_starts(server: Server) -> None:
    path = ip.data.example_path("fl_gammadelta_trial.yaml")
    design: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    design.update(n_per_arm=20, chunk_size=100, keep_trajectories=5)
    with server.client("researcher") as researcher:
        empty = researcher.post("/api/v1/trials/designs", params={"cohort": ""}, json=design)
        long = researcher.post("/api/v1/trials/designs", params={"cohort": "c" * 129}, json=design)
        jobs = researcher.get("/api/v1/trials").json()["trials"]
    assert _problems(empty)[0]["field"] == "query.cohort"
    (problem,) = _problems(long)
    assert problem["field"] == "query.cohort"
    assert "at most 128 characters" in problem["message"]
    assert jobs == []


def test_unknown_and_repeated_query_parameters_are_refused(
    server: Server, crc: dict[str, Any]
) -> None:
    with server.client("admin") as admin:
        assert admin.post("/api/v1/patients", json=crc).status_code == 201
        misspelt = admin.get("/api/v1/patients", params={"serach": "crc"})
        repeated = admin.get("/api/v1/patients?limit=1&limit=50")
        audit = admin.get("/api/v1/audit", params={"patient": CRC_ID})
        fine = admin.get("/api/v1/patients", params={"search": "crc", "limit": 5})
    with server.client() as anonymous:
        unauthenticated = anonymous.get("/api/v1/patients", params={"serach": "crc"})
    (problem,) = _problems(misspelt)
    assert (problem["field"], problem["value"]) == ("query.serach", "crc")
    assert problem["message"] == (
        "unknown query parameter; this endpoint takes: limit, offset, search"
    )
    (problem,) = _problems(repeated)
    assert (problem["field"], problem["value"]) == ("query.limit", "50")
    assert "given 2 times (1, 50)" in problem["message"]
    (problem,) = _problems(audit)
    assert problem["field"] == "query.patient"
    assert "actor, limit, offset, patient_id" in problem["message"]
    assert fine.status_code == 200
    assert fine.json() == {"total": 1, "patients": [CRC_ID]}
    assert unauthenticated.status_code == 401  # the token is checked first


def test_a_researcher_sees_the_age_band_in_rationale_texts_too(server: Server) -> None:
    record = json.loads(ip.data.example_path("ball_cd19.json").read_text())
    age = record["patient"]["age"]["value"]
    assert age == 22  # the CAR-T rules quote it: "Age = 22 years (rule: ≤ 25 years)"
    with server.client("clinician") as clinician:
        assert clinician.post("/api/v1/patients", json=record).status_code == 201
        stored = clinician.post("/api/v1/evaluate", json={"patient_id": record["patient"]["id"]})
    assert "Age = 22 years" in stored.text  # identifiable data: the exact age
    with server.client("researcher") as researcher:
        (pseudonym,) = researcher.get("/api/v1/patients").json()["patients"]
        evaluated = researcher.post("/api/v1/evaluate", json={"patient_id": pseudonym})
        listed = researcher.get(f"/api/v1/patients/{pseudonym}/evaluations")
    for response in (evaluated, listed):
        assert response.status_code == 200, response.text[:300]
        text = json.dumps(response.json(), ensure_ascii=False)
        assert "Age = 22" not in text
        assert "Age = 20-24 years (rule: ≤ 25 years)" in text
