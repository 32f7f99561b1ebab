"""Dashboard errors over a real server: pages and htmx fragments answer with the dashboard's
HTML error (same status as the REST API, each invalid field with its value, a 500's error id),
never with the REST API's JSON; researchers' messages name patients by pseudonym only."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest
import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.service.dashboard import CSRF_HEADER, SESSION_COOKIE
from immunoprecise.service.pseudonymize import Pseudonymizer
from service.conftest import PSEUDONYM_KEY
from service.service_server import Server
from service.test_dashboard import _browser, _login

HTMX = {"HX-Request": "true"}
ERROR_ID = re.compile(r'<code class="error-id">([0-9a-f-]{36})</code>')


def _text(page: str) -> str:
    """The page's text without tags and with entities read, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


@contextmanager
def moved_table(db_url: str, table: str = "record_versions") -> Iterator[None]:
    """Rename a registry table under the running server, and back on leaving: reading from it
    meanwhile is a database failure, an unexpected server fault (the server answers 500 with an
    error id), unlike a request naming what is not there or a stored record that no longer
    validates (409)."""
    moved = f"{table}_moved_aside"
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"ALTER TABLE {table} RENAME TO {moved}"))
        try:
            yield
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text(f"ALTER TABLE {moved} RENAME TO {table}"))
    finally:
        engine.dispose()


def test_request_validation_errors_are_html_with_the_field_and_value(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        imported = client.post(
            "/cohorts/import", data={"csrf_token": csrf, "example": "fl_cohort.csv"}
        )
        assert imported.status_code == 303, imported.text[:300]
        cohort = imported.headers["location"]
        fragment = client.get(f"{cohort}/cutpoint?biomarker=crp&n_boot=1e2", headers=HTMX)
        page = client.get("/trials/results/abc")
    assert fragment.status_code == 422
    assert fragment.headers["content-type"].startswith("text/html")
    assert fragment.text.lstrip().startswith('<div class="error" role="alert">')  # a fragment
    assert "detail" not in fragment.text
    assert _text(fragment.text) == (
        "the request is not valid query.n_boot = '1e2': Input should be a valid integer, "
        "unable to parse string as an integer"
    )
    assert page.status_code == 422
    assert page.text.startswith("<!DOCTYPE html")  # a whole page outside htmx
    assert "Error 422" in page.text
    assert "path.result_id = &#39;abc&#39;: Input should be a valid integer" in page.text
    # the REST API keeps its JSON answers
    with server.client("clinician") as api:
        rest = api.get("/api/v1/cohorts/FL%20example/cutpoint?biomarker=crp&n_boot=1e2")
    assert rest.status_code == 422
    assert rest.json() == {
        "detail": [
            {
                "field": "query.n_boot",
                "value": "1e2",
                "message": "Input should be a valid integer, unable to parse string as an integer",
            }
        ]
    }


def test_unexpected_errors_are_html_with_the_error_id(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    client, csrf = _login(server, "clinician")
    stored = client.post("/patients/import", data={"csrf_token": csrf, "example": "crc_msih.json"})
    assert stored.status_code == 303, stored.text[:300]
    patient = stored.headers["location"]
    session = client.cookies[SESSION_COOKIE]
    client.close()
    # a new connection a request: the server closes one on which an exception was raised
    with caplog.at_level("ERROR", logger="immunoprecise.service"), moved_table(server.db_url):
        with closing(_browser(server, session)) as browser:
            page = browser.get(patient)
        with closing(_browser(server, session)) as browser:
            fragment = browser.post(f"{patient}/evaluate", headers={CSRF_HEADER: csrf, **HTMX})
        with server.client("clinician") as api:
            rest = api.get(f"/api/v1{patient}")
    for answer in (page, fragment):
        assert answer.status_code == 500
        assert answer.headers["content-type"].startswith("text/html")
        assert "Traceback" not in answer.text
        assert "sqlalchemy" not in answer.text.lower()
        shown = ERROR_ID.search(answer.text)
        assert shown is not None, answer.text[:500]
        uuid.UUID(shown.group(1))
        logged = [r for r in caplog.records if shown.group(1) in r.getMessage()]
        assert len(logged) == 1
        assert logged[0].exc_info is not None
    assert fragment.text.lstrip().startswith('<div class="error" role="alert">')
    assert _text(fragment.text).startswith("internal error The server log has this error under")
    assert "Error 500" in page.text
    assert rest.status_code == 500
    assert set(rest.json()) == {"detail", "id"}
    assert "record_versions" not in rest.text + page.text + fragment.text  # SQL stays in the log


def test_a_database_failure_is_a_500_not_a_missing_patient(server: Server) -> None:
    if not server.db_url.startswith("sqlite"):
        pytest.skip("drops a table of the test database")
    client, csrf = _login(server, "clinician")
    with closing(client):
        stored = client.post(
            "/patients/import", data={"csrf_token": csrf, "example": "crc_msih.json"}
        )
        assert stored.status_code == 303
        engine = sa.create_engine(server.db_url)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("DROP TABLE evaluations"))
                connection.execute(sa.text("DROP TABLE record_versions"))
        finally:
            engine.dispose()
        page = client.get(stored.headers["location"])
    assert page.status_code == 500, page.text[:300]
    assert ERROR_ID.search(page.text) is not None
    assert "no patient" not in page.text
    assert "record_versions" not in page.text  # the SQL stays in the server log


def test_researchers_messages_and_reasons_name_no_id_and_no_exact_age(server: Server) -> None:
    record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    real = record.patient.id
    pseudonym = Pseudonymizer(PSEUDONYM_KEY.encode()).pseudonym(real)
    clinician, csrf = _login(server, "clinician")
    with closing(clinician):
        stored = clinician.post(
            "/patients/import", data={"csrf_token": csrf, "example": "ball_cd19.json"}
        )
        assert stored.status_code == 303
        clinical_plan = clinician.post(
            f"/patients/{real}/evaluate", headers={CSRF_HEADER: csrf, **HTMX}
        )
    assert "Age = 22 years (rule: ≤ 25 years)" in _text(clinical_plan.text)
    client, csrf = _login(server, "researcher")
    with closing(client):
        answers = {
            "page": client.get(f"/patients/{pseudonym}"),
            "plan": client.post(f"/patients/{pseudonym}/evaluate", headers={CSRF_HEADER: csrf}),
            "simulation": client.post(
                f"/patients/{pseudonym}/simulate", headers={CSRF_HEADER: csrf}
            ),
            "report": client.get(f"/patients/{pseudonym}/report.html"),
        }
        by_real_id = client.get(f"/patients/{real}")
        unknown = client.post(
            f"/patients/PS-{'0' * 20}/evaluate", headers={CSRF_HEADER: csrf, **HTMX}
        )
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.text[:300])
        assert real not in answer.text, name
        assert "Age = 22" not in _text(answer.text), name
    assert "Age = 20-24 years (rule: ≤ 25 years)" in _text(answers["plan"].text)
    assert "Age = 20-24 years (rule: ≤ 25 years)" in _text(answers["report"].text)
    assert by_real_id.status_code == 404
    assert unknown.status_code == 404
    assert _text(unknown.text) == f"no patient 'PS-{'0' * 20}' in the registry"


@pytest.mark.parametrize("path", ["/patient", "/cohorts/FL/x", "/trials/x/y/<b>z</b>"])
def test_an_address_no_page_answers_is_the_dashboards_404_page(server: Server, path: str) -> None:
    client, _ = _login(server, "clinician")
    with closing(client):
        page = client.get(path)
        fragment = client.get(path, headers=HTMX)
    for answer in (page, fragment):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert f"no page at {path}: check the address" in _text(answer.text)
        assert "<b>z</b>" not in answer.text  # the address is shown as text
    assert 'href="/patients"' in page.text  # the navigation, to find the way back
    with closing(_browser(server)) as anonymous:
        assert anonymous.get(path).status_code == 404
        assert "no page at" in _text(anonymous.get(path).text)
    with server.client("clinician") as api:
        answer = api.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not Found"}
