"""A record version stored by an older immunoprecise that no longer validates is listed by
``GET /patients/{id}/versions`` as stored, with its invalid fields; reading it (the record, one
version, an evaluation, the dashboard's page, a cohort analysis) answers 409 with its invalid
fields and how to store a corrected version, never 500; a corrected version stored with PUT is
read again (real server, SQLite and PostgreSQL when configured)."""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import closing
from typing import Any

import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.registry import canonical_json
from immunoprecise.registry.schema import PatientRow, RecordVersionRow
from immunoprecise.service.dashboard import CSRF_HEADER
from service.service_server import Server
from service.test_dashboard import _login

API = "/api/v1"


def _store_one_that_no_longer_validates(server: Server, *, sha256: bool = False) -> str:
    """Store the CRC example, then set its stored age to 131 years in SQL (and, with
    ``sha256``, its hash to that of the stored JSON, as a release that allowed it stored it)."""
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    with server.client("clinician") as clinician:
        assert clinician.post(f"{API}/patients", json=record).status_code == 201
    stored = ip.read_patient(ip.data.example_path("crc_msih.json")).model_dump(mode="json")
    stored["patient"]["age"] = 131
    values: dict[str, Any] = {"record": stored}
    if sha256:
        values["sha256"] = hashlib.sha256(canonical_json(stored).encode("utf-8")).hexdigest()
    engine = sa.create_engine(server.db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(RecordVersionRow).values(**values))
    finally:
        engine.dispose()
    return str(record["patient"]["id"])


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()


def test_versions_list_a_stored_record_that_no_longer_validates(server: Server) -> None:
    pid = _store_one_that_no_longer_validates(server)
    with server.client("clinician") as clinician:
        listed = clinician.get(f"{API}/patients/{pid}/versions")
    with server.client("researcher") as researcher:
        pseudonym = researcher.get(f"{API}/patients").json()["patients"][0]
        hidden = researcher.get(f"{API}/patients/{pseudonym}/versions")
    assert listed.status_code == 200, listed.text
    (version,) = listed.json()["versions"]
    assert version["invalid_fields"] == ["patient.age"]
    assert version["problems"][0].startswith("patient.age = 131: ")
    assert hidden.status_code == 200, hidden.text
    (shown,) = hidden.json()["versions"]
    assert shown["invalid_fields"] == ["patient.age"]
    assert shown["problems"] == []  # they quote stored values, which researchers do not see
    assert "131" not in hidden.text


def test_reading_it_is_a_409_naming_the_fields_and_how_to_correct_it(server: Server) -> None:
    pid = _store_one_that_no_longer_validates(server, sha256=True)
    with server.client("clinician") as clinician:
        answers = {
            "latest": clinician.get(f"{API}/patients/{pid}"),
            "version": clinician.get(f"{API}/patients/{pid}/versions/1"),
            "evaluate": clinician.post(f"{API}/evaluate", json={"patient_id": pid}),
        }
    for name, answer in answers.items():
        assert answer.status_code == 409, (name, answer.text)
        body = answer.json()
        assert body["patient_id"] == pid
        assert body["version"] == 1
        assert body["invalid_fields"] == ["patient.age"]
        (problem,) = body["problems"]
        assert problem.startswith("patient.age = 131: "), problem
        assert "no longer validates" in body["detail"]
        assert problem in body["detail"]
        assert f"PUT /api/v1/patients/{pid}" in body["detail"], body["detail"]
        assert "internal error" not in answer.text


def test_researchers_get_the_fields_only_under_the_pseudonym(server: Server) -> None:
    pid = _store_one_that_no_longer_validates(server, sha256=True)
    with server.client("researcher") as researcher:
        pseudonym = researcher.get(f"{API}/patients").json()["patients"][0]
        answers = {
            "latest": researcher.get(f"{API}/patients/{pseudonym}"),
            "version": researcher.get(f"{API}/patients/{pseudonym}/versions/1"),
            "evaluate": researcher.post(f"{API}/evaluate", json={"patient_id": pseudonym}),
        }
    for name, answer in answers.items():
        assert answer.status_code == 409, (name, answer.text)
        body = answer.json()
        assert body["patient_id"] == pseudonym
        assert body["invalid_fields"] == ["patient.age"]
        assert body["problems"] == []
        assert "patient.age" in body["detail"]
        assert "131" not in answer.text, name
        assert pid not in answer.text, name


def test_a_corrected_version_stored_with_put_is_read_again(server: Server) -> None:
    pid = _store_one_that_no_longer_validates(server, sha256=True)
    corrected = json.loads(ip.data.example_path("crc_msih.json").read_text())
    with server.client("clinician") as clinician:
        put = clinician.put(f"{API}/patients/{pid}", json=corrected)
        latest = clinician.get(f"{API}/patients/{pid}")
        first = clinician.get(f"{API}/patients/{pid}/versions/1")
        evaluated = clinician.post(f"{API}/evaluate", json={"patient_id": pid})
    assert put.status_code == 200, put.text
    assert (put.json()["action"], put.json()["version"]) == ("updated", 2)
    assert latest.status_code == 200, latest.text
    assert latest.json()["version"] == 2
    assert first.status_code == 409  # kept as stored
    assert evaluated.status_code == 200, evaluated.text
    assert evaluated.json()["record_version"] == 2


def test_the_dashboard_shows_what_to_correct(server: Server) -> None:
    pid = _store_one_that_no_longer_validates(server, sha256=True)
    client, csrf = _login(server, "clinician")
    with closing(client):
        page = client.get(f"/patients/{pid}")
        fragment = client.post(
            f"/patients/{pid}/evaluate", headers={CSRF_HEADER: csrf, "HX-Request": "true"}
        )
    assert page.status_code == 409, page.text[:500]
    assert page.text.startswith("<!DOCTYPE html")
    assert "Error 409" not in page.text  # not the generic error page
    assert "record version 1 needs correcting" in _text(page.text)
    assert "patient.age = 131: " in _text(page.text)
    assert "import the corrected record on the patients page" in _text(page.text)
    assert 'href="/patients"' in page.text
    assert f"PUT /api/v1/patients/{pid}" in _text(page.text)
    assert fragment.status_code == 409
    assert fragment.text.lstrip().startswith('<div class="error" role="alert"')
    assert "patient.age = 131: " in _text(fragment.text)
    researcher, _ = _login(server, "researcher")
    with closing(researcher):
        with server.client("researcher") as api:
            pseudonym = api.get(f"{API}/patients").json()["patients"][0]
        hidden = researcher.get(f"/patients/{pseudonym}")
    assert hidden.status_code == 409, hidden.text[:500]
    assert "patient.age" in hidden.text
    assert "131" not in hidden.text
    assert pid not in hidden.text


def test_a_cohort_with_such_a_record_answers_409(server: Server) -> None:
    with server.client("clinician") as clinician:
        imported = clinician.post(
            f"{API}/cohorts",
            data={"name": "FL"},
            files={"file": ("fl.csv", ip.data.example_path("fl_cohort.csv").read_bytes())},
        )
        assert imported.status_code in (200, 201), imported.text[:500]
        pid = clinician.get(f"{API}/cohorts/FL").json()["patients"][0]
        stored = clinician.get(f"{API}/patients/{pid}").json()["record"]
    broken = {**stored, "patient": {**stored["patient"], "age": 131}}
    engine = sa.create_engine(server.db_url)
    try:
        with engine.begin() as connection:
            patient = sa.select(PatientRow.id).where(PatientRow.pseudonym == pid)
            connection.execute(
                sa.update(RecordVersionRow)
                .where(RecordVersionRow.patient_id == patient.scalar_subquery())
                .values(record=broken)
            )
    finally:
        engine.dispose()
    with server.client("clinician") as clinician:
        survival = clinician.get(f"{API}/cohorts/FL/survival")
    with server.client("researcher") as researcher:
        hidden = researcher.get(f"{API}/cohorts/FL/survival")
    browser, _ = _login(server, "researcher")
    with closing(browser):
        page = browser.get("/cohorts/FL")
        fragment = browser.get("/cohorts/FL/survival", headers={"HX-Request": "true"})
    for shown in (page, fragment):
        assert shown.status_code == 409, shown.text[:500]
        assert "patient.age" in shown.text
        assert pid not in shown.text
        assert "131" not in shown.text
    assert survival.status_code == 409, survival.text[:500]
    assert survival.json()["invalid_fields"] == ["patient.age"]
    assert hidden.status_code == 409, hidden.text[:500]
    assert hidden.json()["problems"] == []
    assert pid not in hidden.text
    assert "131" not in hidden.text
