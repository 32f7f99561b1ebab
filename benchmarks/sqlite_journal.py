"""Benchmark: SQLite registries in write-ahead logging (default) against the old ``delete`` mode.

Both modes run in the same run on fresh registry files, chosen with
``$IMMUNOPRECISE_SQLITE_JOURNAL_MODE``; ``delete`` (SQLite's own default, what registries used
before) is the baseline. Two measurements:

1. **One process**: ``Registry.add_record`` of ``n`` new records (the six examples under new ids),
   then an audited ``Registry.record`` read of each; milliseconds per call.
2. **Two processes at once** for ``seconds``: one stores new records in a loop, the other looks
   patients up (``latest_digest``, ``counts``: the reads the service makes on every posted
   evaluation); calls per second of each and the calls that failed (a lock not obtained within
   SQLite's 5 s busy timeout and the registry's retries).

Commits are fully durable in both modes (``synchronous=FULL``).

Run: .venv/bin/python benchmarks/sqlite_journal.py [n] [seconds]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import immunoprecise as ip
from immunoprecise.errors import RegistryError
from immunoprecise.records import PatientRecord
from immunoprecise.registry import Registry, upgrade
from immunoprecise.registry.connection import SQLITE_JOURNAL_ENV, sqlite_journal_of

EXAMPLES = ["ball_cd19", "crc_msih", "fl_relapsed", "melanoma_braf", "mm_post_asct", "nsclc_cold"]
MODES = ("delete", "wal")


def records(prefix: str, n: int) -> list[PatientRecord]:
    """``n`` records: the six examples in turn, each under a new patient id."""
    examples = [ip.read_patient(ip.data.example_path(f"{name}.json")) for name in EXAMPLES]
    made = []
    for i in range(n):
        record = examples[i % len(examples)]
        patient = record.patient.model_copy(update={"id": f"{prefix}-{i:06d}"})
        made.append(record.model_copy(update={"patient": patient}))
    return made


def fresh(mode: str) -> str:
    """A migrated registry file in ``mode``; its URL."""
    os.environ[SQLITE_JOURNAL_ENV] = mode
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'ip-journal-{mode}-')) / 'registry.db'}"
    upgrade(url)
    assert sqlite_journal_of(url) == mode
    return url


def one_process(mode: str, n: int) -> tuple[float, float]:
    """Milliseconds per stored record and per audited read."""
    url = fresh(mode)
    batch = records("ONE", n)
    with Registry.open(url) as registry:
        start = time.perf_counter()
        for record in batch:
            registry.add_record(record, actor="bench")
        write = time.perf_counter() - start
        start = time.perf_counter()
        for record in batch:
            registry.record(record.patient_id, actor="bench")
        read = time.perf_counter() - start
    return write / n * 1e3, read / n * 1e3


def _writer(url: str, mode: str, seconds: float, out: mp.Queue[tuple[str, int, int]]) -> None:
    os.environ[SQLITE_JOURNAL_ENV] = mode
    batch = records("W", 100_000)
    done = failed = 0
    with Registry.open(url) as registry:
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            try:
                registry.add_record(batch[done + failed], actor="writer")
                done += 1
            except RegistryError:
                failed += 1
    out.put(("writer", done, failed))


def _reader(url: str, mode: str, seconds: float, out: mp.Queue[tuple[str, int, int]]) -> None:
    os.environ[SQLITE_JOURNAL_ENV] = mode
    done = failed = 0
    with Registry.open(url) as registry:
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            try:
                registry.latest_digest(f"W-{done % 1000:06d}")
                registry.counts()
                done += 1
            except RegistryError:
                failed += 1
    out.put(("reader", done, failed))


def two_processes(mode: str, seconds: float) -> dict[str, tuple[float, int]]:
    """Calls per second and failed calls of a writer and a reader running at once."""
    url = fresh(mode)
    context = mp.get_context("spawn")
    out: mp.Queue[tuple[str, int, int]] = context.Queue()
    processes = [
        context.Process(target=work, args=(url, mode, seconds, out)) for work in (_writer, _reader)
    ]
    for process in processes:
        process.start()
    results = [out.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join()
    return {name: (done / seconds, failed) for name, done, failed in results}


def main(n: int = 500, seconds: float = 20.0) -> None:
    """Measure both modes; print the tables and the ratios to the ``delete`` baseline."""
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
    print(f"immunoprecise {ip.__version__}; {n} records; two processes for {seconds:.0f} s\n")
    single = {mode: one_process(mode, n) for mode in MODES}
    print("| journal mode | store a record | audited read |")
    print("|---|---|---|")
    for mode, (write, read) in single.items():
        print(f"| {mode} | {write:.2f} ms | {read:.2f} ms |")
    base_write, base_read = single["delete"]
    write, read = single["wal"]
    print(
        f"\nwal vs delete (baseline): stores {base_write / write:.1f}x faster, "
        f"audited reads {base_read / read:.1f}x faster\n"
    )
    both = {mode: two_processes(mode, seconds) for mode in MODES}
    print("| journal mode | writer stores/s | writer failed | reader look-ups/s | reader failed |")
    print("|---|---|---|---|---|")
    for mode, result in both.items():
        (w, wf), (r, rf) = result["writer"], result["reader"]
        print(f"| {mode} | {w:,.0f} | {wf} | {r:,.0f} | {rf} |")
    (w0, _), (r0, _) = both["delete"]["writer"], both["delete"]["reader"]
    (w1, _), (r1, _) = both["wal"]["writer"], both["wal"]["reader"]
    print(f"\nwal vs delete (baseline), at once: writer {w1 / w0:.1f}x, reader {r1 / r0:.1f}x")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 500, float(args[1]) if len(args) > 1 else 20.0)
