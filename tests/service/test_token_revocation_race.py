"""A token revoked through the API is refused at once, even when a request with it was checked
while the revocation was being written (over a real server on SQLite; the database's write lock
is held by another connection for a moment, as a concurrent writer would)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.engine import make_url

from immunoprecise.service import Role, TokenStore
from service.service_server import Server


def test_a_token_checked_during_its_revocation_is_refused_once_it_is_revoked(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()
    if make_url(server.db_url).get_backend_name() != "sqlite":
        pytest.skip("holds a SQLite write lock")
    path = make_url(server.db_url).database
    assert path
    with TokenStore.open(server.db_url) as store:
        _, secret = store.create("leaving", Role.clinician, created_by="pytest")
    with server.client(token=secret) as leaving:
        assert leaving.get("/api/v1/kb/references").status_code == 200  # valid: kept for 5 s
        lock = sqlite3.connect(path, timeout=10)
        lock.execute("BEGIN IMMEDIATE")  # another writer: the revocation waits for it
        revoked: list[httpx.Response] = []

        def revoke() -> None:
            with server.client("admin") as admin:
                revoked.append(admin.post("/api/v1/tokens/leaving/revoke"))

        thread = threading.Thread(target=revoke)
        thread.start()
        time.sleep(0.5)  # the revocation is under way, not yet written
        during = leaving.get("/api/v1/kb/references")
        lock.rollback()
        lock.close()
        thread.join(timeout=30)
        (answer,) = revoked
        assert answer.status_code == 200, answer.text
        assert answer.json()["revoked_at"] is not None
        after = leaving.get("/api/v1/kb/references")
    assert during.status_code == 200  # before the revocation is written: still valid
    assert after.status_code == 401, after.text[:200]  # revoked: refused at once, not in 5 s
