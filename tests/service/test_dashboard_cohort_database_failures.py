"""A database that fails under the dashboard's cohort pages is a 500 with an error id, as on
the patient pages: not "no cohort" (404), nor a 422 quoting the database URL and SQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing, contextmanager

import sqlalchemy as sa

from service.service_server import Server
from service.test_dashboard import _csrf, _login

HTMX = {"HX-Request": "true"}
ERROR_ID = re.compile(r'<code class="error-id">([0-9a-f-]{36})</code>')
INTERNALS = ("sqlite", "postgresql", "record_versions", "SELECT", "INSERT", "registry ")


@contextmanager
def _record_versions_away(db_url: str) -> Iterator[None]:
    """The registry's table of record versions renamed while the block runs (a database that
    fails on every record read or write), then put back."""
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE record_versions RENAME TO versions_away"))
        try:
            yield
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text("ALTER TABLE versions_away RENAME TO record_versions"))
    finally:
        engine.dispose()


def test_a_database_failure_on_cohort_pages_is_a_500_with_an_error_id(server: Server) -> None:
    clinician, csrf = _login(server, "clinician")
    with closing(clinician):
        done = clinician.post(
            "/cohorts/import",
            data={"csrf_token": csrf, "example": "fl_cohort.csv", "name": "FL example"},
        )
        assert done.status_code == 303, done.text[:300]
        researcher, _ = _login(server, "researcher")
        with closing(researcher), _record_versions_away(server.db_url):
            answers = {
                "page": researcher.get("/cohorts/FL example"),
                "survival": researcher.get(
                    "/cohorts/FL example/survival", params={"by": "ecog"}, headers=HTMX
                ),
                "cutpoint": researcher.get(
                    "/cohorts/FL example/cutpoint",
                    params={"biomarker": "crp", "n_boot": 0},
                    headers=HTMX,
                ),
                "import": clinician.post(
                    "/cohorts/import",
                    data={
                        "csrf_token": _csrf(clinician.get("/cohorts")),
                        "example": "fl_cohort.csv",
                        "name": "FL again",
                    },
                ),
            }
    for name, answer in answers.items():
        assert answer.status_code == 500, (name, answer.status_code, answer.text[:300])
        assert ERROR_ID.search(answer.text) is not None, (name, answer.text[:300])
        assert "no cohort" not in answer.text, name
        for internal in INTERNALS:
            assert internal not in answer.text, (name, internal)
