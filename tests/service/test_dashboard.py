"""The web dashboard over a real server: login and sessions, CSRF, roles, pages and reports."""

from __future__ import annotations

import html
import json
import re
from contextlib import closing
from pathlib import Path

import httpx
import pytest

import immunoprecise as ip
from immunoprecise.safety import car_hematotox, grade_course
from immunoprecise.service.dashboard import CSRF_HEADER, SESSION_COOKIE
from immunoprecise.service.pseudonymize import Pseudonymizer
from service.conftest import PSEUDONYM_KEY
from service.service_server import Server

CRC_ID = "SYN-CRC-001"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def _browser(server: Server, session_id: str | None = None) -> httpx.Client:
    cookies = {SESSION_COOKIE: session_id} if session_id else None
    return httpx.Client(base_url=server.url, timeout=60.0, follow_redirects=False, cookies=cookies)


def _csrf(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def _login(server: Server, role: str) -> tuple[httpx.Client, str]:
    """A client logged in with the token of ``role``, and its session's CSRF token."""
    client = _browser(server)
    form = client.get("/")
    done = client.post("/login", data={"token": server.tokens[role], "csrf_token": _csrf(form)})
    assert done.status_code == 303, done.text[:300]
    return client, _csrf(client.get("/patients"))


def _import_crc(client: httpx.Client, csrf: str) -> None:
    path = ip.data.example_path("crc_msih.json")
    stored = client.post(
        "/patients/import",
        data={"csrf_token": csrf},
        files={"file": (path.name, path.read_bytes(), "application/json")},
    )
    assert stored.status_code == 303, stored.text[:500]
    assert stored.headers["location"] == f"/patients/{CRC_ID}"


def test_pages_need_a_session(server: Server) -> None:
    with _browser(server) as client:
        for path in ("/patients", f"/patients/{CRC_ID}", f"/patients/{CRC_ID}/report.html"):
            answer = client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/"
        htmx = client.post(f"/patients/{CRC_ID}/evaluate", headers={"HX-Request": "true"})
        assert (htmx.status_code, htmx.headers["HX-Redirect"]) == (401, "/")
        with _browser(server, "made-up") as forged:
            assert forged.get("/patients").status_code == 303
        login = client.get("/")
        assert login.status_code == 200
        assert "Paste the API token" in login.text
        assert "not a medical device" in login.text


def test_bad_token_shows_an_error_and_sets_no_session(server: Server) -> None:
    with _browser(server) as client:
        form = client.get("/")
        answer = client.post("/login", data={"token": "guess", "csrf_token": _csrf(form)})
        assert answer.status_code == 401
        assert "invalid or revoked token" in answer.text
        assert SESSION_COOKIE not in answer.cookies
        assert client.get("/patients").status_code == 303
        # without the login form's own CSRF value the token is not even checked
        fresh = _browser(server)
        refused = fresh.post("/login", data={"token": server.tokens["admin"]})
        assert refused.status_code == 403
        assert SESSION_COOKIE not in refused.cookies
        fresh.close()


def test_login_sets_the_session_cookie_and_logout_ends_it(server: Server) -> None:
    with _browser(server) as client:
        form = client.get("/")
        done = client.post(
            "/login", data={"token": server.tokens["clinician"], "csrf_token": _csrf(form)}
        )
        assert (done.status_code, done.headers["location"]) == (303, "/patients")
        cookie = next(
            c for c in done.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
        )
        attributes = cookie.lower()
        assert "httponly" in attributes
        assert "samesite=strict" in attributes
        session_id = client.cookies[SESSION_COOKIE]
        assert session_id != server.tokens["clinician"]
        page = client.get("/patients")
        assert page.status_code == 200
        assert "cli-token" in page.text
        assert "clinician" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        client.post("/logout", data={"csrf_token": _csrf(page)})
        with _browser(server, session_id) as stale:
            assert stale.get("/patients").status_code == 303


def test_patient_list_search_and_import(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        _import_crc(client, csrf)
        example = client.post(
            "/patients/import", data={"csrf_token": csrf, "example": "fl_relapsed.json"}
        )
        assert example.status_code == 303
        page = client.get("/patients")
        assert CRC_ID in page.text
        found = client.get("/patients/list", params={"q": "crc"}, headers={"HX-Request": "true"})
        assert CRC_ID in found.text
        assert "<html" not in found.text  # a fragment for htmx
        assert "SYN-FL" not in found.text
        none = client.get("/patients/list", params={"q": "zzz"})
        assert "No patients" in none.text
        bad = client.post(
            "/patients/import",
            data={"csrf_token": csrf},
            files={"file": ("broken.json", b'{"patient": {"id": "X1"}}', "application/json")},
        )
        assert bad.status_code == 422
        assert "not valid" in bad.text
        yaml_text = b"patient: [unclosed"
        unreadable = client.post(
            "/patients/import",
            data={"csrf_token": csrf},
            files={"file": ("r.yaml", yaml_text, "application/yaml")},
        )
        assert unreadable.status_code == 422
        assert "YAML" in unreadable.text


def test_patient_page_shows_the_radar_and_values(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        _import_crc(client, csrf)
        page = client.get(f"/patients/{CRC_ID}")
    assert page.status_code == 200
    assert '<svg id="svg-immunogram"' in page.text
    assert 'id="values"' in page.text
    assert 'id="densities"' in page.text
    assert "CD8+ cell density, tumor core" in page.text
    assert "cells/mm²" in page.text
    assert "mg/L" in page.text  # CRP with its unit
    assert "doi.org/" in page.text
    assert "Record version 1" in page.text


def test_patient_page_shows_the_safety_card(server: Server) -> None:
    record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    course = grade_course(record)
    hematotox = car_hematotox(record)
    assert course.crs_max.grade is not None  # the example has a graded course
    assert hematotox.score is not None
    client, csrf = _login(server, "clinician")
    with closing(client):
        _import_crc(client, csrf)
        stored = client.post(
            "/patients/import", data={"csrf_token": csrf, "example": "ball_cd19.json"}
        )
        assert stored.status_code == 303, stored.text[:500]
        page = client.get(stored.headers["location"])
        solid = client.get(f"/patients/{CRC_ID}")
    assert page.status_code == 200, page.text[:500]
    crs = re.search(r'id="crs-max" data-grade="(\d+)" data-day="(\d+)">([^<]+)<', page.text)
    assert crs is not None, page.text
    assert (int(crs.group(1)), int(crs.group(2))) == (course.crs_max.grade, course.crs_max.day)
    assert html.unescape(crs.group(3)) == course.crs_max.text  # "grade 2 (day 2)"
    icans = re.search(r'id="icans-max" data-grade="(\d+)" data-day="(\d+)"', page.text)
    assert icans is not None
    assert (int(icans.group(1)), int(icans.group(2))) == (
        course.icans_max.grade,
        course.icans_max.day,
    )
    score = re.search(r'id="hematotox-score" data-score="(\d+)" data-risk="(\w+)"', page.text)
    assert score is not None
    assert (int(score.group(1)), score.group(2)) == (hematotox.score, hematotox.risk)
    # one row per observed day, each with its deciding criterion
    days = re.search(r'<table class="values" id="safety-days">(.*?)</table>', page.text, re.S)
    assert days is not None
    assert days.group(1).count("<tr>") == len(course.days) + 1  # the header row too
    for d in course.days:
        assert html.escape(d.crs.criterion, quote=False) in days.group(1)
        assert html.escape(d.icans.text, quote=False) in days.group(1)
    for c in hematotox.components:
        assert c.field in page.text
    assert "(age 22 years)" in page.text
    # researchers see the grades (relative days, not identifying) but not the exact age
    researcher, _ = _login(server, "researcher")
    with closing(researcher):
        pseudonym = Pseudonymizer(PSEUDONYM_KEY.encode()).pseudonym(record.patient.id)
        shown = researcher.get(f"/patients/{pseudonym}")
    assert shown.status_code == 200
    assert f'data-grade="{course.crs_max.grade}" data-day="{course.crs_max.day}"' in shown.text
    assert "(age 22 years)" not in shown.text
    assert record.patient.id not in shown.text
    assert solid.status_code == 200
    assert 'id="safety"' not in solid.text  # a solid tumour without toxicity: no safety card
    assert "CAR-HEMATOTOX" not in solid.text


def test_evaluate_lists_strategies_with_references_and_stores_them(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        _import_crc(client, csrf)
        plan = client.post(
            f"/patients/{CRC_ID}/evaluate", headers={CSRF_HEADER: csrf, "HX-Request": "true"}
        )
    assert plan.status_code == 200, plan.text[:500]
    assert "Pembrolizumab" in plan.text
    assert "indicated" in plan.text
    assert "OncoKB 1" in plan.text
    assert "CIViC A" in plan.text
    assert "Le DT et al., Science 2017" in plan.text
    assert "Stored as evaluation #" in plan.text
    with server.client("clinician") as api:
        stored = api.get(f"/api/v1/patients/{CRC_ID}/evaluations").json()["evaluations"]
    assert len(stored) == 1


def test_evaluate_names_a_disease_code_the_knowledge_base_does_not_list(server: Server) -> None:
    data = json.loads(ip.data.example_path("crc_msih.json").read_text(encoding="utf-8"))
    data["disease"]["oncotree_code"] = "COADD"  # COAD mistyped
    client, csrf = _login(server, "clinician")
    with closing(client):
        stored = client.post(
            "/patients/import",
            data={"csrf_token": csrf},
            files={"file": ("typo.json", json.dumps(data).encode(), "application/json")},
        )
        assert stored.status_code == 303, stored.text[:500]
        plan = client.post(
            f"/patients/{CRC_ID}/evaluate", headers={CSRF_HEADER: csrf, "HX-Request": "true"}
        )
    assert plan.status_code == 200, plan.text[:500]
    note = re.search(r'id="plan-disease-note">([^<]+)<', plan.text)
    assert note is not None, plan.text[:2000]
    assert "did you mean COAD" in html.unescape(note.group(1))
    assert "Pembrolizumab" not in plan.text  # the MSI-H rule is written for solid tumours


def test_simulate_returns_a_chart_per_candidate(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        _import_crc(client, csrf)
        answer = client.post(f"/patients/{CRC_ID}/simulate", headers={CSRF_HEADER: csrf})
    assert answer.status_code == 200, answer.text[:500]
    figure = re.search(r"data-plotly-figure='([^']+)'", answer.text)
    assert figure is not None
    data = json.loads(html.unescape(figure.group(1)))
    names = {trace.get("name") for trace in data["data"]} - {None}
    assert {"no treatment", "anti-PD-1 q3w x6"} <= names
    assert {t["yaxis"] for t in data["data"]} == {"y", "y2"}  # tumor and effector cells
    assert "anti-PD-1" in answer.text


def test_posts_without_the_csrf_token_are_refused(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        _import_crc(client, csrf)
        path = ip.data.example_path("fl_relapsed.json")
        for url, kwargs in (
            ("/patients/import", {"data": {"example": "fl_relapsed.json"}}),
            ("/patients/import", {"data": {"example": "x", "csrf_token": "wrong"}}),
            ("/patients/import", {"files": {"file": (path.name, path.read_bytes())}}),
            (f"/patients/{CRC_ID}/evaluate", {}),
            (f"/patients/{CRC_ID}/simulate", {"headers": {CSRF_HEADER: "wrong"}}),
        ):
            answer = client.post(url, **kwargs)
            assert answer.status_code == 403, url
            assert "security token" in answer.text
        assert "SYN-FL" not in client.get("/patients").text


def test_researchers_see_pseudonyms_only(server: Server) -> None:
    clinician, csrf = _login(server, "clinician")
    with closing(clinician):
        _import_crc(clinician, csrf)
    pseudonym = Pseudonymizer(PSEUDONYM_KEY.encode()).pseudonym(CRC_ID)
    client, csrf = _login(server, "researcher")
    with closing(client):
        listed = client.get("/patients")
        assert pseudonym in listed.text
        assert CRC_ID not in listed.text
        assert 'action="/patients/import"' not in listed.text
        refused = client.post(
            "/patients/import", data={"csrf_token": csrf, "example": "fl_relapsed.json"}
        )
        assert refused.status_code == 403
        assert client.get(f"/patients/{CRC_ID}").status_code == 404
        page = client.get(f"/patients/{pseudonym}")
        assert page.status_code == 200
        assert pseudonym in page.text
        assert CRC_ID not in page.text
        assert '<td class="num">65-69</td>' in page.text  # age band, not 67
        plan = client.post(f"/patients/{pseudonym}/evaluate", headers={CSRF_HEADER: csrf})
        assert plan.status_code == 200
        assert CRC_ID not in plan.text
        assert "Not stored" in plan.text
        report = client.get(f"/patients/{pseudonym}/report.html")
        assert report.status_code == 200
        assert pseudonym in report.text
        assert CRC_ID not in report.text
        assert client.get(f"/patients/{pseudonym}/report.pdf").status_code == 403
    with server.client("admin") as api:
        actors = {e["actor"] for e in api.get("/api/v1/audit").json()["entries"]}
    assert {"cli-token", "res-token"} <= actors


def test_report_downloads(server: Server, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    client, csrf = _login(server, "clinician")
    with closing(client):
        _import_crc(client, csrf)
        page = client.get(f"/patients/{CRC_ID}/report.html")
        pdf = client.get(f"/patients/{CRC_ID}/report.pdf")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-disposition"].startswith("attachment;")
    assert page.text.startswith("<!DOCTYPE html")
    assert CRC_ID in page.text
    assert "not a medical device" in page.text
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    (tmp_path / "report.pdf").write_bytes(pdf.content)
