"""A trial whose result the database fails to store is reported failed with an error id, as a
500 is: the job's message (shown to its owner, whatever the role) never holds the database URL
or SQL, and its result is answered 410 (Gone) with that message. Over a real server on SQLite,
the database made to fail by a trigger."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from service.service_server import Server

TRIAL = {
    "model": "cartmath2021",
    "regimens": {"day 0": "CAR-T 1e6 cells d0"},
    "t_end": 60,
    "n_virtual": 4,
    "seed": 1,
}


def test_a_database_failure_in_a_trial_is_an_error_id_not_the_database_url_or_sql(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()
    if make_url(server.db_url).get_backend_name() != "sqlite":
        pytest.skip("the database is made to fail with a SQLite trigger")
    path = make_url(server.db_url).database
    assert path
    with sqlite3.connect(path) as db:  # every insert of a result fails in the database itself
        db.execute(
            "CREATE TRIGGER refuse_results BEFORE INSERT ON results "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    with server.client("researcher") as researcher:
        started = researcher.post("/api/v1/trials", json=TRIAL)
        assert started.status_code == 202, started.text
        job: dict[str, Any] = started.json()
        deadline = time.monotonic() + 60
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
            job = researcher.get(f"/api/v1/trials/{job['id']}").json()
        result = researcher.get(f"/api/v1/trials/{job['id']}/result")
        listed = researcher.get("/api/v1/trials").json()
    assert job["status"] == "failed", job
    for shown in (job["message"], result.text, str(listed)):
        assert path not in shown
        assert "sqlite" not in shown.lower()
        assert "INSERT" not in shown
        assert "[SQL" not in shown
    assert job["message"].startswith("internal error (id ")
    assert result.status_code == 410
    assert result.json()["detail"].startswith(
        "the trial failed, so it has no result: internal error (id "
    )
