"""A service process holds one connection pool on the registry database, not one per store.

The registry, tokens, dashboard sessions and trial jobs share one engine, so a PostgreSQL server
sees one pool's connections from each service process. Counted on PostgreSQL itself
(``pg_stat_activity``), after requests that use every store, one after another (no trial
running alongside).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from service.service_server import Server

APPLICATION = "immunoprecise-pool-test"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def db_url(db_url: str) -> str:
    """The PostgreSQL test database, its connections named so that they can be counted."""
    return (
        make_url(db_url)
        .update_query_dict({"application_name": APPLICATION})
        .render_as_string(hide_password=False)
    )


def _service_connections(db_url: str) -> int:
    engine = sa.create_engine(make_url(db_url).update_query_dict({"application_name": "counter"}))
    try:
        with engine.connect() as connection:
            query = sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"
            )
            return int(connection.execute(query, {"name": APPLICATION}).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_stores_of_one_process_share_one_connection(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()
    with server.client("clinician") as api:
        assert api.get("/api/v1/patients").status_code == 200  # tokens, registry
        assert api.get("/api/v1/trials").status_code == 200  # jobs
    with httpx.Client(base_url=server.url, timeout=60.0) as browser:  # dashboard sessions
        form = CSRF_FIELD.search(browser.get("/").text)
        assert form is not None
        login = browser.post(
            "/login", data={"token": server.tokens["clinician"], "csrf_token": form.group(1)}
        )
        assert login.status_code == 303, login.text[:300]
        assert browser.get("/patients").status_code == 200

    # every request above was made after the one before had finished, so one pooled
    # connection could serve them all; one engine per store would hold four
    assert _service_connections(server.db_url) == 1
