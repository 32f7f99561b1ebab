"""``GET /audit`` reads only the page asked for (LIMIT/OFFSET in SQL, and a COUNT for
``total``), and answers exactly the slice of the whole log that it answered when it read every
entry. Over a real server (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

import immunoprecise as ip
from immunoprecise.registry import Registry
from service.service_server import Server

API = "/api/v1"
EXAMPLES = ("crc_msih.json", "fl_relapsed.json", "nsclc_cold.json")


def _fill(db_url: str) -> list[str]:
    """Store three patients and read them by three actors; the patient ids."""
    pids = []
    with Registry.open(db_url) as registry:
        for i, name in enumerate(EXAMPLES):
            record = ip.read_patient(ip.data.example_path(name))
            registry.add_record(record, actor=("ann", "bob")[i % 2])
            pids.append(record.patient_id)
        for round_ in range(4):
            for i, pid in enumerate(pids):
                registry.record(pid, actor=("bob", "cy", "ann")[(i + round_) % 3])
    return pids


def _expected(db_url: str, params: dict[str, Any]) -> dict[str, Any]:
    """The answer computed from the whole log: the ``offset`` newest skipped, then the latest
    ``limit`` entries, oldest first; ``total`` every matching entry."""
    limit, offset = params.get("limit", 1000), params.get("offset", 0)
    with Registry.open(db_url) as registry:
        whole = registry.audit(patient_id=params.get("patient_id"), actor=params.get("actor"))
    shown = whole[::-1][offset : offset + limit][::-1]
    return {"total": len(whole), "entries": [e.model_dump(mode="json") for e in shown]}


@contextmanager
def _audit_log_selects() -> Iterator[list[str]]:
    """The SELECT statements on the audit log that any engine in this process sends (the
    test server runs in this process) while the block runs."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "audit_log" in statement and statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


PAGES: list[dict[str, Any]] = [
    {},
    {"limit": 1},
    {"limit": 3, "offset": 2},
    {"limit": 4, "offset": 100},
    {"actor": "bob", "limit": 2},
    {"actor": "cy", "limit": 3, "offset": 1},
    {"actor": "nobody"},
]


def test_each_page_is_the_slice_of_the_whole_log(server: Server) -> None:
    pids = _fill(server.db_url)
    cases = [*PAGES]
    cases += [{"patient_id": pid, "limit": 2, "offset": 1} for pid in pids]
    cases += [{"patient_id": pids[0], "actor": "ann", "limit": 2}, {"patient_id": "NOBODY"}]
    with server.client("admin") as admin:
        for params in cases:
            answer = admin.get(f"{API}/audit", params=params)
            assert answer.status_code == 200, answer.text
            expected = _expected(server.db_url, params)
            assert answer.json() == expected, params
            assert list(answer.json()) == ["total", "entries"]
            assert json.loads(answer.content) == expected


@pytest.mark.parametrize("params", PAGES[1:3])
def test_a_page_is_read_with_limit_and_counted_without_reading_entries(
    server: Server, params: dict[str, Any]
) -> None:
    _fill(server.db_url)
    with server.client("admin") as admin, _audit_log_selects() as sent:
        answer = admin.get(f"{API}/audit", params=params)
    assert answer.status_code == 200, answer.text
    assert sent, "the audit log was not read"
    for statement in sent:
        text = statement.upper()
        counts = text.startswith("SELECT COUNT(*)")
        assert counts or "LIMIT" in text, statement
    assert len(answer.json()["entries"]) == params["limit"]
