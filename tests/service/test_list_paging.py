"""Every list endpoint pages alike: ``limit`` (1 to 10,000, default 1,000) and ``offset`` (from
0), with ``total``; a bad value is a 422 naming the parameter, the value and the range. Over a
real server (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.registry.database import open_migrated_engine
from immunoprecise.service.jobs import JobManager
from service.service_server import Server

API = "/api/v1"


def _store_versions(server: Server, n: int) -> str:
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    pid = record["patient"]["id"]
    with server.client("clinician") as clinician:
        for i in range(n):
            record["patient"]["age"] = 50 + i
            stored = clinician.post(f"{API}/patients", json=record)
            assert stored.status_code in (200, 201), stored.text
    return str(pid)


def test_the_audit_log_pages_back_from_the_newest_entries(server: Server) -> None:
    pid = _store_versions(server, 5)
    with server.client("admin") as admin:
        everything = admin.get(f"{API}/audit", params={"patient_id": pid}).json()
        latest = admin.get(f"{API}/audit", params={"patient_id": pid, "limit": 2}).json()
        before = admin.get(
            f"{API}/audit", params={"patient_id": pid, "limit": 2, "offset": 2}
        ).json()
        past_the_end = admin.get(
            f"{API}/audit", params={"patient_id": pid, "offset": everything["total"]}
        ).json()
    ids = [e["id"] for e in everything["entries"]]
    assert everything["total"] == len(ids) >= 5
    assert ids == sorted(ids)  # oldest first
    assert latest["total"] == before["total"] == everything["total"]
    assert [e["id"] for e in latest["entries"]] == ids[-2:]
    assert [e["id"] for e in before["entries"]] == ids[-4:-2]
    assert past_the_end == {"total": everything["total"], "entries": []}


def test_trials_are_listed_with_a_total_and_paged(server: Server) -> None:
    engine = open_migrated_engine(server.db_url)
    jobs = JobManager(engine, max_workers=1)
    try:
        made = [
            jobs.submit("virtual_trial", owner="res-token", work=lambda run: 1).id for _ in range(3)
        ]
        for job_id in made:
            jobs.wait(job_id, timeout=30)
    finally:
        jobs.shutdown()
        jobs.close()
    with server.client("researcher") as researcher:
        listed = researcher.get(f"{API}/trials")
        first = researcher.get(f"{API}/trials", params={"limit": 2}).json()
        rest = researcher.get(f"{API}/trials", params={"limit": 2, "offset": 2}).json()
    with server.client("clinician") as clinician:
        none = clinician.get(f"{API}/trials").json()
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 3
    newest_first = [job["id"] for job in listed.json()["trials"]]
    assert sorted(newest_first) == sorted(made)
    assert [job["id"] for job in first["trials"]] == newest_first[:2]
    assert [job["id"] for job in rest["trials"]] == newest_first[2:]
    assert first["total"] == rest["total"] == 3
    assert none == {"total": 0, "trials": []}


def test_versions_evaluations_and_cohorts_page_alike(server: Server) -> None:
    pid = _store_versions(server, 3)
    with server.client("clinician") as clinician:
        for _ in range(2):
            clinician.post(f"{API}/evaluate", json={"patient_id": pid})
        versions = clinician.get(
            f"{API}/patients/{pid}/versions", params={"limit": 1, "offset": 1}
        ).json()
        evaluations = clinician.get(f"{API}/patients/{pid}/evaluations", params={"limit": 1}).json()
        cohorts = clinician.get(f"{API}/cohorts", params={"limit": 5, "offset": 0}).json()
    assert versions["total"] == 3
    assert [v["version"] for v in versions["versions"]] == [2]
    assert evaluations["total"] >= 1
    assert len(evaluations["evaluations"]) == 1
    assert cohorts == {"total": 0, "cohorts": []}


def test_tokens_are_listed_with_a_total_and_paged(server: Server) -> None:
    with server.client("admin") as admin:
        for name in ("ann", "bob", "cid"):
            made = admin.post(f"{API}/tokens", json={"name": name, "role": "researcher"})
            assert made.status_code == 201, made.text
        everything = admin.get(f"{API}/tokens").json()
        second = admin.get(f"{API}/tokens", params={"limit": 2, "offset": 2}).json()
        past_the_end = admin.get(f"{API}/tokens", params={"offset": 100}).json()
    names = [t["name"] for t in everything["tokens"]]
    assert everything["total"] == len(names) == 6  # the three of the fixture, then these
    assert names[3:] == ["ann", "bob", "cid"]  # oldest first
    assert second["total"] == 6
    assert [t["name"] for t in second["tokens"]] == names[2:4]
    assert past_the_end == {"total": 6, "tokens": []}


@pytest.mark.parametrize("kind", ["therapies", "strategies", "rules", "references"])
def test_knowledge_base_lists_are_paged(server: Server, kind: str) -> None:
    with server.client("clinician") as clinician:
        everything = clinician.get(f"{API}/kb/{kind}").json()
        first = clinician.get(f"{API}/kb/{kind}", params={"limit": 2}).json()
        rest = clinician.get(f"{API}/kb/{kind}", params={"limit": 10_000, "offset": 2}).json()
    items = everything[kind]
    assert everything["total"] == len(items) > 2
    assert first["total"] == rest["total"] == everything["total"]
    assert first[kind] == items[:2]
    assert rest[kind] == items[2:]
    assert first["knowledge_base"] == everything["knowledge_base"]


LISTS = (
    ("admin", "/audit"),
    ("admin", "/tokens"),
    ("clinician", "/kb/therapies"),
    ("clinician", "/kb/strategies"),
    ("clinician", "/kb/rules"),
    ("clinician", "/kb/references"),
    ("researcher", "/trials"),
    ("researcher", "/patients"),
    ("researcher", "/cohorts"),
)


@pytest.mark.parametrize(("role", "path"), LISTS)
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("limit", "0", "from 1 to 10,000"),
        ("limit", "10001", "from 1 to 10,000"),
        ("limit", "-5", "from 1 to 10,000"),
        ("limit", "ten", "from 1 to 10,000"),
        ("limit", "1e3", "from 1 to 10,000"),
        ("offset", "-1", "from 0 to 2,147,483,647"),
        ("offset", "1.5", "from 0 to 2,147,483,647"),
        ("offset", "99999999999999999999", "from 0 to 2,147,483,647"),
    ],
)
def test_a_bad_page_parameter_is_named_with_its_value_and_range(
    server: Server, role: str, path: str, name: str, value: str, expected: str
) -> None:
    with server.client(role) as client:
        answer = client.get(f"{API}{path}", params={name: value})
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == f"query.{name}"
    assert problem["value"] == value
    assert expected in problem["message"]
    assert value in problem["message"]


def test_the_schema_states_each_page_parameter_with_its_range(server: Server) -> None:
    with server.client() as anyone:
        schema: dict[str, Any] = anyone.get("/openapi.json").json()
    lists = [
        "/audit",
        "/trials",
        "/patients",
        "/cohorts",
        "/patients/{patient_id}/versions",
        "/patients/{patient_id}/evaluations",
        "/tokens",
        "/kb/therapies",
        "/kb/strategies",
        "/kb/rules",
        "/kb/references",
        "/kb/search",
    ]
    for path in lists:
        params = {p["name"]: p for p in schema["paths"][f"{API}{path}"]["get"]["parameters"]}
        assert params["limit"]["schema"]["minimum"] == 1, path
        assert params["limit"]["schema"]["maximum"] == 10_000, path
        assert params["limit"]["schema"]["default"] == 1000, path
        assert params["offset"]["schema"]["minimum"] == 0, path
        assert params["offset"]["schema"]["default"] == 0, path
