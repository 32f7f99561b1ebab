"""``GET /audit`` reads ``total`` and its page from one snapshot of the database: an entry that
another connection writes between the two reads is in neither. The other connection's write is
made, deterministically, right after the server's first read of the audit log (SQLite, and
PostgreSQL when configured)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

import immunoprecise as ip
from immunoprecise.registry import AuditQuery, Registry
from service.service_server import Server

API = "/api/v1"


@contextmanager
def _write_after_first_audit_read(registry: Registry, patient_id: str) -> Iterator[list[int]]:
    """While the block runs, the first SELECT from the audit log by any engine of this process
    is followed at once by a committed read of ``patient_id`` through ``registry`` (another
    connection), which adds an audit entry. Yields the list that the new entry's id is put in."""
    written: list[int] = []
    busy: list[bool] = []

    def write(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        is_audit_read = statement.lstrip().upper().startswith("SELECT") and "audit_log" in statement
        if busy or not is_audit_read:
            return
        busy.append(True)
        registry.record(patient_id, actor="writer")
        latest = registry.audit(AuditQuery(actor="writer", newest_first=True, limit=1))
        written.append(latest[0].id)

    event.listen(Engine, "after_cursor_execute", write)
    try:
        yield written
    finally:
        event.remove(Engine, "after_cursor_execute", write)


def test_total_counts_the_entries_of_the_page_it_comes_with(server: Server) -> None:
    record = json.loads(ip.data.example_path("crc_msih.json").read_text())
    pid = str(record["patient"]["id"])
    with server.client("clinician") as clinician:
        assert clinician.post(f"{API}/patients", json=record).status_code == 201
        for _ in range(3):
            assert clinician.get(f"{API}/patients/{pid}").status_code == 200
    with Registry.open(server.db_url) as writer, server.client("admin") as admin:
        with _write_after_first_audit_read(writer, pid) as written:
            during = admin.get(f"{API}/audit", params={"patient_id": pid}).json()
        after = admin.get(f"{API}/audit", params={"patient_id": pid}).json()
    assert len(written) == 1  # the other connection did write while the log was read
    ids = [e["id"] for e in during["entries"]]
    assert during["total"] == len(ids) >= 4
    assert written[0] not in ids
    assert after["total"] == during["total"] + 1
    assert [e["id"] for e in after["entries"]] == [*ids, written[0]]
