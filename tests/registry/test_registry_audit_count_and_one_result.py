"""Counting audit entries and paging them in SQL, and reading one stored result by id, on a
real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

import immunoprecise as ip
from immunoprecise.registry import AuditAction, AuditQuery, Registry, RegistryError

EXAMPLES = ("crc_msih.json", "fl_relapsed.json", "nsclc_cold.json")


def _fill(registry: Registry) -> list[str]:
    """Store three patients and read them by several actors: about 20 audit entries."""
    pids = []
    for i, name in enumerate(EXAMPLES):
        record = ip.read_patient(ip.data.example_path(name))
        registry.add_record(record, actor=("ann", "bob")[i % 2])
        pids.append(record.patient_id)
    for round_ in range(3):
        for i, pid in enumerate(pids):
            registry.record(pid, actor=("bob", "cy", "ann")[(i + round_) % 3])
    registry.save_result("simulation", {"n": 1}, actor="cy", patient_id=pids[0])
    return pids


@contextmanager
def _statements(registry: Registry) -> Iterator[list[str]]:
    """The SQL statements the registry's engine sends while the block runs."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    engine = registry._engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


CRITERIA: list[dict[str, Any]] = [
    {},
    {"actor": "bob"},
    {"actions": ("read",)},
    {"actor": "ann", "actions": ("read", "create")},
    {"since": dt.date(2000, 1, 1), "until": dt.date(9000, 1, 1)},
]


@pytest.mark.parametrize("criteria", CRITERIA)
@pytest.mark.parametrize("newest_first", [False, True])
@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (3, 0), (3, 2), (5, 7), (50, 0), (2, 99)])
def test_a_page_read_in_sql_is_the_slice_of_the_whole_log(
    registry: Registry,
    criteria: dict[str, Any],
    newest_first: bool,
    limit: int,
    offset: int,
) -> None:
    _fill(registry)
    whole = registry.audit(AuditQuery(**criteria))
    assert len(whole) >= 1
    ordered = whole[::-1] if newest_first else whole
    paged = AuditQuery(**criteria, newest_first=newest_first, limit=limit, offset=offset)
    assert registry.audit(paged) == ordered[offset : offset + limit]
    assert registry.audit_count(paged) == len(whole)


def test_the_count_takes_patient_and_actor_beside_the_query(registry: Registry) -> None:
    pids = _fill(registry)
    for pid in pids:
        for actor in (None, "ann", "bob", "cy", "nobody"):
            expected = len(registry.audit(patient_id=pid, actor=actor))
            assert registry.audit_count(patient_id=pid, actor=actor) == expected
            assert registry.audit_count(AuditQuery(patient_id=pid), actor=actor) == expected
    assert registry.audit_count() == len(registry.audit()) == registry.counts()["audit_log"]
    assert registry.audit_count(AuditQuery(actor="nobody")) == 0


def test_a_page_and_its_count_are_read_without_reading_the_whole_log(
    registry: Registry,
) -> None:
    _fill(registry)
    query = AuditQuery(actor="bob", newest_first=True, limit=2, offset=1)
    with _statements(registry) as sent:
        registry.audit(query)
        registry.audit_count(query)
    on_log = [s for s in sent if "audit_log" in s and s.lstrip().upper().startswith("SELECT")]
    assert len(on_log) == 2, sent
    page_sql, count_sql = on_log
    for clause in ("ORDER BY", "DESC", "LIMIT", "OFFSET"):
        assert clause in page_sql.upper(), page_sql
    assert count_sql.upper().startswith("SELECT COUNT(*)"), count_sql
    assert "LIMIT" not in count_sql.upper(), count_sql


def test_reading_the_count_is_not_audited(registry: Registry) -> None:
    _fill(registry)
    before = registry.counts()["audit_log"]
    registry.audit_count(AuditQuery(actor="bob"))
    assert registry.counts()["audit_log"] == before


def test_one_result_is_read_by_id_and_kind(registry: Registry) -> None:
    pids = _fill(registry)
    first = registry.save_result("virtual_trial", {"arms": [1]}, actor="ann", cohort="c1")
    second = registry.save_result("virtual_trial", {"arms": [2]}, actor="bob")
    linked = registry.save_result("simulation", {"n": 2}, actor="cy", patient_id=pids[1])
    everything = {r.id: r for r in registry.results(actor="dan")}
    for stored in (first, second, linked):
        assert registry.result(stored.id, actor="eve") == everything[stored.id]
        assert registry.result(stored.id, actor="eve", kind=stored.kind) == everything[stored.id]
    assert registry.result(linked.id, actor="eve").patient_id == pids[1]  # type: ignore[union-attr]


def test_a_missing_id_or_another_kind_reads_nothing(registry: Registry) -> None:
    _fill(registry)
    trial = registry.save_result("virtual_trial", {"arms": []}, actor="ann")
    assert registry.result(trial.id, actor="eve", kind="simulation") is None
    assert registry.result(trial.id + 1000, actor="eve") is None
    assert registry.result(trial.id + 1000, actor="eve", kind="virtual_trial") is None
    for impossible in (0, -1, 2**31, 2**63, 2**80):
        assert registry.result(impossible, actor="eve") is None


def test_reading_one_result_is_audited_with_its_id_and_patient(registry: Registry) -> None:
    pids = _fill(registry)
    linked = registry.save_result("simulation", {"n": 2}, actor="cy", patient_id=pids[2])
    registry.result(linked.id, actor="eve", kind="simulation")
    registry.result(linked.id, actor="fay", kind="virtual_trial")
    eve = registry.audit(actor="eve")
    fay = registry.audit(actor="fay")
    assert [(e.action, e.patient_id, e.object) for e in eve] == [
        (AuditAction.read_results, pids[2], f"results {linked.id}")
    ]
    assert [(e.action, e.patient_id, e.object) for e in fay] == [
        (AuditAction.read_results, None, "results none")
    ]


@pytest.mark.parametrize(
    ("result_id", "actor"), [("3", "eve"), (2.0, "eve"), (True, "eve"), (1, " ")]
)
def test_one_result_refuses_an_id_that_is_not_an_int_or_no_actor(
    registry: Registry, result_id: Any, actor: str
) -> None:
    with pytest.raises(RegistryError, match=r"result_id|actor"):
        registry.result(result_id, actor=actor)


def test_audit_page_gives_the_page_and_total_of_audit_and_audit_count(registry: Registry) -> None:
    _fill(registry)
    for query in (
        AuditQuery(),
        AuditQuery(actor="bob", newest_first=True, limit=2, offset=1),
        AuditQuery(actions=(AuditAction.read,), limit=3),
        AuditQuery(actor="nobody"),
        AuditQuery(offset=10_000),
    ):
        found = registry.audit_page(query)
        assert list(found.entries) == registry.audit(query), query
        assert found.total == registry.audit_count(query), query
    assert registry.audit_page(patient_id="nobody").model_dump() == {"total": 0, "entries": ()}


def test_audit_page_reads_the_count_and_the_page_in_one_transaction(registry: Registry) -> None:
    _fill(registry)
    with _statements(registry) as sent:
        registry.audit_page(AuditQuery(actor="ann", limit=2))
    begins = [s for s in sent if s.strip().upper().startswith("BEGIN")]
    reads = [s for s in sent if "audit_log" in s]
    assert len(reads) == 2
    if registry.url.startswith("sqlite"):
        assert len(begins) == 1  # an explicit transaction: both reads see one snapshot
