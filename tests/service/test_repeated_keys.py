"""A request body that gives a key twice in one object is refused (422 naming the key), not
read with the last value winning: over a real server, on every endpoint that takes a JSON body,
and on the dashboard's record import (JSON and YAML) and pasted trial designs (YAML)."""

from __future__ import annotations

import json
from contextlib import closing
from typing import Any

import httpx

import immunoprecise as ip
from service.service_server import Server
from service.test_dashboard import _csrf, _login

CRC_ID = "SYN-CRC-001"
JSON = {"Content-Type": "application/json"}
AGE_TWICE = '"patient": {"age": {"value": 50, "unit": "years"}, '
"""Put before the record's own ``patient`` fields: its age is then given twice (50, then 67)."""


def _crc_text() -> str:
    """The shipped colorectal record as JSON text whose ``patient.age`` is given twice."""
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    text = json.dumps(record)
    assert text.count('"patient": {') == 1
    return text.replace('"patient": {', AGE_TWICE)


def _only_problem(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, (response.status_code, response.text[:500])
    (problem,) = response.json()["detail"]
    return dict(problem)


def test_every_json_body_endpoint_refuses_a_repeated_key(server: Server) -> None:
    twice = _crc_text()
    with server.client("admin") as admin:
        stored = admin.post(
            "/api/v1/patients", content=ip.data.example_path("crc_msih.json").read_bytes(),
            headers=JSON,
        )  # fmt: skip
        assert stored.status_code == 201, stored.text
        answers = {
            ("POST", "/api/v1/patients"): admin.post(
                "/api/v1/patients", content=twice, headers=JSON
            ),
            ("PUT", "/api/v1/patients/{patient_id}"): admin.put(
                f"/api/v1/patients/{CRC_ID}", content=twice, headers=JSON
            ),
            ("POST", "/api/v1/evaluate"): admin.post(
                "/api/v1/evaluate", content=twice, headers=JSON
            ),
            ("POST", "/api/v1/simulate"): admin.post(
                "/api/v1/simulate",
                content='{"model": "kuznetsov1994", "t_end": 30, "t_end": 3000}',
                headers=JSON,
            ),
            ("POST", "/api/v1/trials"): admin.post(
                "/api/v1/trials",
                content='{"model": "cartmath2021", "t_end": 60, "n_virtual": 5, "regimens": '
                '{"a": "CAR-T 1e6 cells d0", "a": "CAR-T 1e8 cells d0"}}',
                headers=JSON,
            ),
            ("POST", "/api/v1/trials/designs"): admin.post(
                "/api/v1/trials/designs",
                content='{"name": "t", "model": "fl_adcc", "seed": 1, "n_per_arm": 10, '
                '"follow_up_days": 84, "arms": [{"id": "a", "regimen": '
                '"rituximab 650 mg d0", "regimen": "rituximab 375 mg d0"}]}',
                headers=JSON,
            ),
            ("POST", "/api/v1/tokens"): admin.post(
                "/api/v1/tokens",
                content='{"name": "rex", "role": "researcher", "role": "admin"}',
                headers=JSON,
            ),
        }
        versions = admin.get(f"/api/v1/patients/{CRC_ID}/versions").json()["versions"]
        tokens = [t["name"] for t in admin.get("/api/v1/tokens").json()["tokens"]]
        trials = admin.get("/api/v1/trials").json()["trials"]
        openapi = admin.get("/openapi.json").json()
    # every operation of the API that takes a JSON body is in the list above
    with_json_body = {
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    assert with_json_body == set(answers)
    expected = {
        ("POST", "/api/v1/patients"): ("body.patient.age", "50", "67"),
        ("PUT", "/api/v1/patients/{patient_id}"): ("body.patient.age", "50", "67"),
        ("POST", "/api/v1/evaluate"): ("body.patient.age", "50", "67"),
        ("POST", "/api/v1/simulate"): ("body.t_end", "30", "3000"),
        ("POST", "/api/v1/trials"): ("body.regimens.a", "1e6", "1e8"),
        ("POST", "/api/v1/trials/designs"): ("body.arms[0].regimen", "650 mg", "375 mg"),
        ("POST", "/api/v1/tokens"): ("body.role", "researcher", "admin"),
    }
    for operation, answer in answers.items():
        problem = _only_problem(answer)
        field, first, last = expected[operation]
        assert problem["field"] == field, (operation, problem)
        assert "given 2 times" in problem["message"], (operation, problem)
        assert first in problem["message"], (operation, problem)
        assert last in problem["message"], (operation, problem)
    # nothing was stored, started or made from the refused bodies
    assert len(versions) == 1
    assert "rex" not in tokens
    assert trials == []


def test_a_repeated_key_deep_in_a_list_is_named_by_its_path(server: Server) -> None:
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    record["microenvironment"]["densities"][1]["marker"] = "__MARKER__"
    twice = json.dumps(record).replace(
        '"marker": "__MARKER__"', '"marker": "CD8", "marker": "again"'
    )
    with server.client("clinician") as clinician:
        answer = clinician.post("/api/v1/evaluate", content=twice, headers=JSON)
    problem = _only_problem(answer)
    assert problem["field"] == "body.microenvironment.densities[1].marker"
    assert problem["value"] == "again"


def test_the_dashboard_refuses_repeated_keys_in_records_and_designs(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        as_json = client.post(
            "/patients/import",
            data={"csrf_token": csrf},
            files={"file": ("crc.json", _crc_text().encode(), "application/json")},
        )
        as_yaml = client.post(
            "/patients/import",
            data={"csrf_token": csrf},
            files={
                "file": (
                    "crc.yaml",
                    b"patient:\n  id: SYN-Y-1\n  age: {value: 50, unit: years}\n"
                    b"  age: {value: 70, unit: years}\n",
                    "application/yaml",
                )
            },
        )
        design = client.post(
            "/trials/design",
            data={
                "csrf_token": _csrf(client.get("/trials")),
                "design": "name: t\nmodel: fl_adcc\nseed: 1\nseed: 2\nn_per_arm: 10\n"
                "follow_up_days: 84\narms:\n  - {id: a, regimen: 'rituximab 650 mg d0'}\n",
            },
        )
        patients = client.get("/patients/list").text
    assert as_json.status_code == 422, as_json.text[:500]
    assert "patient.age" in as_json.text
    assert "given 2 times" in as_json.text
    assert as_yaml.status_code == 422, as_yaml.text[:500]
    assert "the key &#39;age&#39; is given twice" in as_yaml.text
    assert design.status_code == 422, design.text[:500]
    assert "the key &#39;seed&#39; is given twice" in design.text
    assert CRC_ID not in patients
    assert "SYN-Y-1" not in patients


def test_a_cohort_upload_with_two_files_or_two_names_is_refused(server: Server) -> None:
    table = ip.data.example_path("fl_cohort.csv").read_bytes()
    first_rows = b"\n".join(table.split(b"\n")[:3]) + b"\n"
    with server.client("clinician") as clinician:
        two_files = clinician.post(
            "/api/v1/cohorts",
            files=[
                ("file", ("all.csv", table, "text/csv")),
                ("file", ("two_rows.csv", first_rows, "text/csv")),
            ],
            data={"name": "fl"},
        )
        two_names = clinician.post(
            "/api/v1/cohorts",
            files={"file": ("all.csv", table, "text/csv")},
            data={"name": ["fl one", "fl two"]},
        )
        cohorts = clinician.get("/api/v1/cohorts").json()["cohorts"]
    problem = _only_problem(two_files)
    assert problem["field"] == "file"
    assert "given 2 times ('all.csv', 'two_rows.csv')" in problem["message"]
    problem = _only_problem(two_names)
    assert problem["field"] == "name"
    assert "given 2 times ('fl one', 'fl two')" in problem["message"]
    assert cohorts == []  # neither the second file nor the second name was imported
