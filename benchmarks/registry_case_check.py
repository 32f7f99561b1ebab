"""Benchmark: adding one new patient to a registry of many, and its check of ids in two cases.

Before a new patient is stored, the registry refuses an id that differs only in case from a
stored one (``syn-01`` beside ``SYN-01``). Two ways to run that check, in the same run, on the
same registry file:

* **baseline** (how the check ran before): read every stored patient id, fold each, compare;
* **indexed lookup** (the check now, ``Registry._refuse_ids_in_another_case``): ask only for the
  stored ids whose ``lower(pseudonym)`` equals a batch id's, through the index of migration 0007.

Both are checked to give the same answer (a new id passes; ``p0000042`` beside the stored
``P0000042`` is refused) before timing. Also timed: the whole ``Registry.add_record`` of a new
patient. Best of ``repeat`` runs.

Run: .venv/bin/python benchmarks/registry_case_check.py [patients] [repeat]
"""

from __future__ import annotations

import datetime as dt
import platform
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import sqlalchemy
from sqlalchemy import select
from sqlalchemy.orm import Session

import immunoprecise as ip
from immunoprecise.data import example_path
from immunoprecise.errors import RegistryError
from immunoprecise.records import PatientRecord
from immunoprecise.registry import Registry, upgrade
from immunoprecise.registry.schema import PatientRow
from immunoprecise.registry.store import _BatchItem


def fill(url: str, patients: int) -> None:
    """``patients`` stored patients ``P0000000``, ``P0000001``, … (no records: only ids count)."""
    now = dt.datetime.now(dt.UTC)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            for start in range(0, patients, 50_000):
                rows = [
                    {"pseudonym": f"P{i:07d}", "created_at": now}
                    for i in range(start, min(patients, start + 50_000))
                ]
                connection.execute(sqlalchemy.insert(PatientRow), rows)
    finally:
        engine.dispose()


def fold(text: str) -> str:
    """``text`` case-folded, as the check compared ids."""
    return unicodedata.normalize("NFC", text.casefold())


def baseline(session: Session, items: Sequence[_BatchItem]) -> None:
    """The check as it ran before: every stored id read and folded."""
    stored = set(session.scalars(select(PatientRow.pseudonym)).all())
    folded = {fold(pid): pid for pid in stored}
    for item in items:
        pid = item.record.patient_id
        other = folded.get(fold(pid))
        if pid not in stored and other is not None:
            raise RegistryError(f"{item.label}: patient id {pid!r} differs only in case")


def answer(
    check: Callable[[Session, Sequence[_BatchItem]], None],
    registry: Registry,
    record: PatientRecord,
) -> str:
    """``"refused"`` or ``"passed"``: what ``check`` says of adding ``record``."""
    with registry._sessions.begin() as session:
        try:
            check(session, [_BatchItem("the record", record, None)])
        except RegistryError:
            return "refused"
    return "passed"


def best_ms(repeat: int, call: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def with_id(record: PatientRecord, patient_id: str) -> PatientRecord:
    """``record`` for another patient id."""
    return record.model_copy(
        update={"patient": record.patient.model_copy(update={"id": patient_id})}
    )


def main(patients: int = 1_000_000, repeat: int = 5) -> None:
    """Print the comparison table (Markdown) for a registry of ``patients`` patients."""
    record = ip.read_patient(example_path("crc_msih.json"))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'registry.db'}"
        upgrade(url)
        fill(url, patients)
        registry = Registry.open(url)
        indexed = Registry._refuse_ids_in_another_case
        cases = {
            "new id `NEW-1`": with_id(record, "NEW-1"),
            "`p0000042` beside `P0000042`": with_id(record, "p0000042"),
        }
        print(
            f"Machine: {platform.machine()}, Python {platform.python_version()}, "
            f"SQLAlchemy {sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}"
        )
        print(f"Registry: {patients:,} stored patients; best of {repeat}\n")
        print("| batch | answer | baseline ms | indexed lookup ms | speed-up |")
        print("|---|---|---|---|---|")
        for name, candidate in cases.items():
            expected = answer(baseline, registry, candidate)
            assert answer(indexed, registry, candidate) == expected, name
            old = best_ms(repeat, partial(answer, baseline, registry, candidate))
            new = best_ms(repeat, partial(answer, indexed, registry, candidate))
            print(f"| {name} | {expected} | {old:,.1f} | {new:,.2f} | {old / new:,.0f}× |")
        added = iter(range(repeat))
        whole = best_ms(
            repeat,
            lambda: registry.add_record(with_id(record, f"ADDED-{next(added)}"), actor="bench"),
        )
        print(f"\nWhole `Registry.add_record` of a new patient: {whole:,.1f} ms")
        registry.close()


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
