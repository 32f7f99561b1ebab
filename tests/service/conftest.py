"""Service fixtures: a real uvicorn server on a free port, on a SQLite file (and PostgreSQL).

Set ``IMMUNOPRECISE_TEST_POSTGRES_URL`` to run these tests on PostgreSQL too; that database is
reset (downgraded to base) per test.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from immunoprecise.registry import downgrade, upgrade
from immunoprecise.service import RateLimit, Role, TokenStore, create_app
from service.service_server import Server

POSTGRES_ENV = "IMMUNOPRECISE_TEST_POSTGRES_URL"
PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdef"
GENEROUS = RateLimit(rate=1000.0, burst=1000)
EXAMPLE_RECORDS = (
    "crc_msih.json",
    "fl_relapsed.json",
    "ball_cd19.json",
    "mm_post_asct.json",
    "nsclc_cold.json",
    "melanoma_braf.json",
)
"""The shipped example records the service tests store (file names, in this order)."""


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated registry database: a SQLite file in tmp_path, or the PostgreSQL test one."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
        upgrade(url)
        yield url
        return
    postgres = os.environ.get(POSTGRES_ENV)
    if not postgres:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} to a scratch database URL")
    downgrade(postgres, "base")
    upgrade(postgres)
    yield postgres
    downgrade(postgres, "base")


def _start(db_url: str, rate_limit: RateLimit | None) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(db_url, rate_limit=rate_limit, pseudonym_key=PSEUDONYM_KEY)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return server, thread


@pytest.fixture
def start_server(db_url: str) -> Iterator[Callable[..., Server]]:
    """Start a server on ``db_url`` (with tokens ``admin1``, ``clin1``, ``res1``)."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []
    with TokenStore.open(db_url) as store:
        tokens = {
            role.value: store.create(f"{role.value[:3]}-token", role, created_by="pytest")[1]
            for role in Role
        }

    def start(rate_limit: RateLimit | None = GENEROUS) -> Server:
        server, thread = _start(db_url, rate_limit)
        running.append((server, thread))
        port = server.servers[0].sockets[0].getsockname()[1]
        return Server(f"http://127.0.0.1:{port}", db_url, tokens)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    """A running server with a generous rate limit."""
    return start_server()


def _no_internals(response: httpx.Response) -> None:
    text = response.text
    for leak in ("Traceback", 'File "', "site-packages", "immunoprecise/", "sqlalchemy."):
        assert leak not in text, f"{leak!r} in {response.status_code} response: {text[:300]}"


@pytest.fixture
def no_internals() -> Callable[[httpx.Response], None]:
    """Check that an error response shows no traceback, source lines or library internals."""
    return _no_internals
