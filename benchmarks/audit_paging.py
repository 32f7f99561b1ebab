"""Benchmark: one page of ``GET /api/v1/audit`` from a 200,000-entry audit log (SQLite).

Two ways to answer the same request, in the same run, on the same registry file:

* **baseline** (how the route answered before): read every matching entry with
  ``Registry.audit``, reverse, slice the page in Python, count with ``len``;
* **SQL paging** (the route now): ``Registry.audit(AuditQuery(newest_first=True, limit=...,
  offset=...))`` for the page and ``Registry.audit_count`` for ``total``, by calling the
  route's own function (``immunoprecise.service.routes.admin.read_audit``).

Both answers are checked to be equal before timing. Times are the route body (database read and
JSON-ready dicts), best of ``repeat`` runs, without HTTP.

Run: .venv/bin/python benchmarks/audit_paging.py [rows] [repeat]
"""

from __future__ import annotations

import datetime as dt
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy

from immunoprecise.registry import Registry
from immunoprecise.registry.schema import AuditRow
from immunoprecise.service.paging import page
from immunoprecise.service.routes.admin import read_audit

ACTORS = ("ann", "bob", "cy", "dan")
PATIENTS = 1000


def fill(registry: Registry, rows: int) -> None:
    """``rows`` audit entries: four actors in turn, 1,000 patients in turn, one per second."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    values = [
        {
            "at": start + dt.timedelta(seconds=i),
            "actor": ACTORS[i % len(ACTORS)],
            "action": "read",
            "patient": f"P{i % PATIENTS:05d}",
            "object": "record_version 1",
        }
        for i in range(rows)
    ]
    with registry._engine.begin() as connection:
        for i in range(0, rows, 20_000):
            connection.execute(sqlalchemy.insert(AuditRow), values[i : i + 20_000])


def baseline(
    registry: Registry, *, patient_id: str | None, actor: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """The route's answer as it was computed before: the whole log read, then sliced."""
    entries = registry.audit(patient_id=patient_id, actor=actor)
    shown = page(entries[::-1], limit=limit, offset=offset)[::-1]
    return {"total": len(entries), "entries": [e.model_dump(mode="json") for e in shown]}


def sql_paging(
    registry: Registry, *, patient_id: str | None, actor: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """The route's answer now (its own function)."""
    state: Any = SimpleNamespace(registry=registry)
    return read_audit(state, None, patient_id, actor, limit, offset)  # type: ignore[arg-type]


def best(repeat: int, call: Any, **kwargs: Any) -> float:
    """Best wall time of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call(**kwargs)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main(rows: int = 200_000, repeat: int = 5) -> None:
    """Fill a registry with ``rows`` entries and time each request both ways."""
    folder = tempfile.TemporaryDirectory(prefix="ip-audit-")
    url = f"sqlite:///{Path(folder.name) / 'registry.db'}"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("limit=50", {"patient_id": None, "actor": None, "limit": 50, "offset": 0}),
        (
            "limit=50&offset=100000",
            {"patient_id": None, "actor": None, "limit": 50, "offset": 100_000},
        ),
        ("actor=bob&limit=50", {"patient_id": None, "actor": "bob", "limit": 50, "offset": 0}),
        (
            "patient_id=P00042&limit=50",
            {"patient_id": "P00042", "actor": None, "limit": 50, "offset": 0},
        ),
    ]
    with folder, Registry.open(url, create=True) as registry:
        fill(registry, rows)
        print(
            f"{rows:,} audit entries; Python {platform.python_version()}, SQLAlchemy "
            f"{sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}; {platform.machine()}; "
            f"best of {repeat}"
        )
        print("| GET /audit?... | total | baseline ms | SQL paging ms | speed-up |")
        print("|---|---|---|---|---|")
        for label, kwargs in cases:
            old = baseline(registry, **kwargs)
            new = sql_paging(registry, **kwargs)
            if old != new:
                sys.exit(f"{label}: the answers differ")
            t_old = best(repeat, baseline, registry=registry, **kwargs)
            t_new = best(repeat, sql_paging, registry=registry, **kwargs)
            print(
                f"| `{label}` | {new['total']:,} | {t_old:,.1f} | {t_new:,.2f} | "
                f"{t_old / t_new:,.0f}× |"
            )


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    main(*arguments)
