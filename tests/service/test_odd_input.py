"""Odd but plausible input a client may send is named in a 422, never a 500 nor a job that
fails later: a NUL character (``%00``) in an id, name or search (PostgreSQL refuses it in any
text), a lone UTF-16 surrogate escape in a JSON body (no character: it cannot be written out), and
a trial result stored under a cohort name no cohort can have. Over a real server
(SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from typing import Any

import httpx
import pytest

import immunoprecise as ip
from service.service_server import Server
from service.test_dashboard import _login

API = "/api/v1"
Check = Callable[[httpx.Response], None]

NUL_REQUESTS: list[tuple[str, str, str, dict[str, Any], str]] = [
    # role, method, path, request arguments, field named
    ("clinician", "GET", "/patients", {"params": {"search": "a\x00b"}}, "query.search"),
    ("clinician", "GET", "/patients/SYN%00", {}, "path.patient_id"),
    ("researcher", "GET", "/patients/PS-%00", {}, "path.patient_id"),
    ("clinician", "GET", "/patients/%00/versions", {}, "path.patient_id"),
    ("clinician", "GET", "/patients/%00/versions/1", {}, "path.patient_id"),
    ("clinician", "GET", "/patients/%00/evaluations", {}, "path.patient_id"),
    ("clinician", "GET", "/cohorts/a%00", {}, "path.name"),
    ("clinician", "GET", "/cohorts/a%00/survival", {}, "path.name"),
    ("clinician", "GET", "/kb/therapies/a%00", {}, "path.therapy_id"),
    ("admin", "GET", "/audit", {"params": {"patient_id": "\x00"}}, "query.patient_id"),
    ("admin", "GET", "/audit", {"params": {"actor": "ann\x00"}}, "query.actor"),
    ("admin", "POST", "/tokens/ann%00/revoke", {}, "path.name"),
    ("clinician", "POST", "/evaluate", {"json": {"patient_id": "SYN\x00"}}, "body.patient_id"),
]


@pytest.mark.parametrize(("role", "method", "path", "kwargs", "field"), NUL_REQUESTS)
def test_a_nul_character_in_an_id_name_or_search_is_named_in_a_422(
    server: Server,
    no_internals: Check,
    role: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    with server.client(role) as client:
        answer = client.request(method, f"{API}{path}", **kwargs)
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == field
    assert "\x00" in problem["value"]
    assert "NUL character" in problem["message"]
    no_internals(answer)


TRIAL = {
    "model": "cartmath2021",
    "regimens": {"a": "CAR-T 1e6 cells d0"},
    "t_end": 10,
    "n_virtual": 2,
}


@pytest.mark.parametrize("cohort", ["\x00", " ", "a/b", "-lead", "tab\there", "a%00"])
def test_a_trial_is_not_started_under_a_cohort_name_no_cohort_can_have(
    server: Server, cohort: str
) -> None:
    with server.client("researcher") as researcher:
        regimens = researcher.post(f"{API}/trials", json={**TRIAL, "cohort": cohort})
        design = researcher.post(
            f"{API}/trials/designs", params={"cohort": cohort}, json={"name": "x"}
        )
        jobs = researcher.get(f"{API}/trials").json()
    assert regimens.status_code == 422, regimens.text
    (problem,) = regimens.json()["detail"]
    assert problem["field"] == "body.cohort"
    assert problem["value"] == cohort
    assert "letters, digits, spaces" in problem["message"]
    assert design.status_code == 422, design.text
    assert design.json()["detail"][0]["field"] == "query.cohort"
    assert jobs["total"] == 0


def test_a_trial_is_stored_under_a_cohort_name_an_upload_may_have(server: Server) -> None:
    with server.client("researcher") as researcher:
        started = researcher.post(f"{API}/trials", json={**TRIAL, "cohort": "FL relapsed (2024)"})
    assert started.status_code == 202, started.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/patients/a%00b"),
        ("GET", "/patients/%00/report.html"),
        ("POST", "/patients/%00/evaluate"),
        ("POST", "/patients/%00/simulate"),
        ("GET", "/patients?q=%00"),
        ("GET", "/patients/list?q=a%00"),
    ],
)
def test_the_dashboard_answers_a_nul_character_in_a_patient_id_or_filter_without_a_500(
    server: Server, method: str, path: str
) -> None:
    browser, csrf = _login(server, "clinician")
    with closing(browser):
        answer = browser.request(method, path, headers={"X-CSRF-Token": csrf})
    assert answer.status_code in (200, 404), answer.text[-500:]
    assert "internal error" not in answer.text
    if answer.status_code == 404:
        assert "no patient" in answer.text


SURROGATE_BODIES: list[tuple[str, str, bytes, str]] = [
    # role, path, JSON text holding a lone surrogate escape, field named
    ("researcher", "/simulate", b'{"model": "\\ud800", "t_end": 5}', "body.model"),
    (
        "researcher",
        "/simulate",
        b'{"model": "kuznetsov1994", "t_end": 5, "regimen": "x\\udfff 1 mg d0"}',
        "body.regimen",
    ),
    ("researcher", "/simulate", b'{"\\udc00": 1, "model": "kuznetsov1994", "t_end": 5}', ""),
    (
        "researcher",
        "/trials",
        b'{"model": "cartmath2021", "t_end": 5, "regimens": {"\\ud800": "CAR-T 1e6 cells d0"}}',
        "",
    ),
    ("researcher", "/trials/designs", b'{"name": "\\ud800"}', "body.name"),
    ("admin", "/tokens", b'{"name": "\\ud800", "role": "admin"}', "body.name"),
    ("clinician", "/evaluate", b'{"patient_id": "\\ud800"}', "body.patient_id"),
]


@pytest.mark.parametrize(("role", "path", "body", "field"), SURROGATE_BODIES)
def test_a_lone_surrogate_escape_in_a_json_body_is_named_in_a_422(
    server: Server, no_internals: Check, role: str, path: str, body: bytes, field: str
) -> None:
    with server.client(role) as client:
        answer = client.post(
            f"{API}{path}", content=body, headers={"Content-Type": "application/json"}
        )
        jobs = client.get(f"{API}/trials").json()
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"].startswith(field or "body.")
    assert "\\u" in problem["field"] + str(problem["value"])
    assert "unpaired UTF-16 surrogate" in problem["message"]
    assert jobs["total"] == 0
    no_internals(answer)


def test_a_record_with_a_lone_surrogate_is_not_stored(server: Server) -> None:
    text = ip.data.example_path("crc_msih.json").read_text(encoding="utf-8")
    record = json.loads(text)
    record["disease"]["diagnosis"] = "__DIAGNOSIS__"
    body = json.dumps(record).replace("__DIAGNOSIS__", "adenocarcinoma \\ud800")
    with server.client("clinician") as clinician:
        answer = clinician.post(
            f"{API}/patients", content=body, headers={"Content-Type": "application/json"}
        )
        listed = clinician.get(f"{API}/patients").json()
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == "body.disease.diagnosis"
    assert problem["value"] == "adenocarcinoma \\ud800"
    assert listed["total"] == 0
