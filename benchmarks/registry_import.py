"""Benchmark: storing one N-record table in a fresh SQLite registry, batched against one by one.

The table is drawn with :func:`immunoprecise.data.synthetic.synthetic_table` (seed 7), written as
a CSV and read once (``importing.file_items``, the same reading ``db import`` does; its time is
printed but is the same for both paths). Then the records are stored, each path in its own
child process on its own fresh registry file:

* **one by one** (the baseline, what every import did before): ``Registry._add_batch`` with
  ``batch_size=1``: per record, a look-up of the patient and its latest version, a flush, and
  the stored record validated again;
* **batched** (the default): one look-up of every patient for the whole import, then one flush
  of multi-row INSERTs per 500 records, the records in hand given back.

Both store the same versions and audit rows in one transaction (checked after the runs). Printed
for each: seconds, records per second, and peak memory of the child process above what it held
when storing began (``resource.getrusage`` ``ru_maxrss``), and the ratios.

Run: .venv/bin/python benchmarks/registry_import.py [--n 10000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import cast

import sqlalchemy

from immunoprecise.data.synthetic import synthetic_table
from immunoprecise.registry import Registry
from immunoprecise.registry.importing import file_items
from immunoprecise.registry.store import _INSERT_BATCH, _BatchItem

PATHS = {"one by one (baseline)": 1, "batched": _INSERT_BATCH}


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _store(items: list[_BatchItem], batch_size: int, url: str, out: mp.Queue[object]) -> None:
    """Store ``items`` into the registry at ``url``; put (seconds, peak MiB above the start)."""
    with Registry.open(url, create=True) as registry:
        before = _max_rss_mib()
        start = time.perf_counter()
        registry._add_batch(items, actor="bench", batch_size=batch_size)
        seconds = time.perf_counter() - start
        out.put((seconds, _max_rss_mib() - before))


def main() -> None:
    """Run both paths on the same table and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="records in the table")
    n = parser.parse_args().n
    folder = Path(tempfile.mkdtemp(prefix="ip-import-bench-"))
    table = folder / "cohort.csv"
    synthetic_table(n, seed=7).to_csv(table, index=False)
    start = time.perf_counter()
    items = file_items(table)
    print(f"read {n:,} records from {table.name}: {time.perf_counter() - start:.1f} s (both paths)")
    print(
        f"python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.machine()}"
    )
    context = mp.get_context("fork")  # the children share the records read once
    results: dict[str, tuple[float, float]] = {}
    counts = []
    for name, size in PATHS.items():
        url = f"sqlite:///{folder / f'registry-{size}.db'}"
        queue: mp.Queue[object] = context.Queue()
        child = context.Process(target=_store, args=(items, size, url, queue))
        child.start()
        seconds, peak = cast(tuple[float, float], queue.get())
        child.join()
        results[name] = (seconds, peak)
        with Registry.open(url) as registry:
            counts.append(registry.counts())
        print(f"{name:>22}: {seconds:7.2f} s, {n / seconds:7.0f} records/s, peak +{peak:6.1f} MiB")
    if counts[0] != counts[1]:
        raise SystemExit(f"the two paths stored different rows: {counts}")
    (old_s, old_m), (new_s, new_m) = results.values()
    print(f"rows stored by each: {counts[0]}")
    print(f"batched: {old_s / new_s:.1f}x as fast, {old_m / max(new_m, 0.1):.1f}x less peak memory")


if __name__ == "__main__":
    main()
