"""Benchmark: one server process (baseline) against ``immunoprecise serve --workers N``.

The load is the CPU-bound case of ``benchmarks/service.py``: 50 clients in a closed loop on
``POST /api/v1/evaluate`` with the evaluation cache off, so every request is a full profile and
strategy plan (a few milliseconds of CPU each). Both servers run in the same run, on the same
fresh SQLite registry, with the same tokens and records; the clients are wrk (C) where it is
installed (its own CPU use is small), else the Python client. Reported: throughput, latency
percentiles and errors for each, and the ratio to the one-process baseline.

The speed-up is bounded by the cores left to the servers once the load generator has its share:
on a 2-core machine expect well under 2x.

Run: .venv/bin/python benchmarks/service_workers.py [workers] [clients] [seconds]
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

import immunoprecise as ip

sys.path.insert(0, str(Path(__file__).parent))
from service import (  # the sibling benchmark's server and client helpers
    Result,
    _httpx,
    _wrk,
    clinician_tokens,
    fresh_registry,
    print_table,
    start_server,
)


def _load(url: str, tokens: list[str], seconds: float, clients: int) -> tuple[str, Result]:
    made = _wrk(url, tokens, seconds, clients)
    if made is not None:
        return "wrk (C)", made
    return "httpx (Python)", _httpx(url, tokens, seconds)


def main(workers: int = 2, clients: int = 50, seconds: float = 60.0) -> None:
    """Load one process, then ``workers`` processes, the same way; print the comparison."""
    _, db = fresh_registry("ip-bench-workers-")
    tokens = clinician_tokens(db, clients)
    rows: list[tuple[str, str, Result]] = []
    for name, extra in (
        ("1 process (baseline)", ()),
        (f"{workers} processes (--workers {workers})", ("--workers", str(workers))),
    ):
        server, base = start_server(db, "--evaluation-cache", "0", *extra)
        url = f"{base}/api/v1/evaluate"
        try:
            _httpx(url, tokens[:2], 3.0)  # warm-up (every process imports and loads the KB)
            client, result = _load(url, tokens, seconds, clients)
            rows.append((name, client, result))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, immunoprecise {ip.__version__}"
    )
    print(
        f"{clients} clients, {seconds:g} s each, POST /api/v1/evaluate (six example records, "
        "evaluation cache off)"
    )
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt install wrk): the Python client made the load")
    print_table(rows)
    baseline, several = rows[0][2], rows[1][2]
    print(
        f"{rows[1][0]}: {several.throughput / baseline.throughput:.2f}x the baseline's "
        f"throughput, p95 {several.p95:.1f} ms vs {baseline.p95:.1f} ms, "
        f"{several.errors} errors"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 2,
        int(args[1]) if len(args) > 1 else 50,
        float(args[2]) if len(args) > 2 else 60.0,
    )
