"""Crash consistency of the registry: no data loss, no partial batch, no torn row, audit complete.

Proved on a SQLite file and, when ``IMMUNOPRECISE_TEST_POSTGRES_URL`` is set, on PostgreSQL:

1. **kill -9 of a bulk import.** A child process imports a batch file (a changed version of 24
   cohort patients plus 4 new patients), either as ``immunoprecise db import FILE --db URL`` or
   through ``Registry.add_records``, and is SIGKILLed after a random (seeded) delay. Afterwards
   the batch is stored entirely or not at all; every stored version has its JSON intact (its
   SHA-256 is that of its content) and exactly one ``create``/``update`` audit row; each
   patient's versions are 1..n; on SQLite ``PRAGMA integrity_check`` is ok, and some kills are
   shown to have landed inside the write transaction (the child had issued writes and no commit;
   see ``crash_forkserver.py``), which was rolled back.
   Importing the file again completes, and a second import stores nothing (every row
   ``unchanged``).
2. **kill -9 of the service.** ``immunoprecise serve`` runs as a child process while three
   clients post records (new patients, and new versions of one shared patient, concurrently);
   it is SIGKILLed after a random (seeded) delay. Every write the server acknowledged (201/200)
   is in the database as that version with exactly the acknowledged SHA-256, nothing stored is
   torn, unaudited or other than what a client sent, no request was refused before the kill
   (concurrent versions of one patient included), and a restarted server serves the
   acknowledged versions.
3. **Concurrent writers.** 8 threads storing 10 versions each of one (new) patient get versions
   exactly 1..80, each returned version stored with its own content, none lost or refused; and
   concurrent batches over the same patients in different orders all commit (no deadlock or
   unique-violation error reaches the caller).

The child processes are forked from a fork server (``crash_forkserver.py``) that has imported
immunoprecise once: a fresh interpreter costs 2-3 s of imports, too slow for ~100 children in
the CI budget. Each child is a real process running the real code, killed with a real SIGKILL.

Environment variables: ``IMMUNOPRECISE_CRASH_SEED`` (default 20240611),
``IMMUNOPRECISE_CRASH_IMPORT_KILLS`` (default 32) and ``IMMUNOPRECISE_CRASH_SERVICE_KILLS``
(default 18): 50 kills per database by default.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy import select as sql_select

import immunoprecise as ip
from immunoprecise.records import PatientRecord
from immunoprecise.registry import Registry, canonical_json, import_file, record_sha256
from immunoprecise.registry.connection import sqlite_path
from immunoprecise.registry.schema import AuditRow, PatientRow, RecordVersionRow
from immunoprecise.service import Role, TokenStore

# long: run by `make release-check` (CI, after `make test`), not by `make test`
pytestmark = pytest.mark.release

SEED = int(os.environ.get("IMMUNOPRECISE_CRASH_SEED", "20240611"))
IMPORT_KILLS = int(os.environ.get("IMMUNOPRECISE_CRASH_IMPORT_KILLS", "32"))
SERVICE_KILLS = int(os.environ.get("IMMUNOPRECISE_CRASH_SERVICE_KILLS", "18"))

FORKSERVER = Path(__file__).with_name("crash_forkserver.py")
COHORT = ip.data.example_path("fl_cohort.csv")
TEMPLATE = ip.read_patient(ip.data.example_path("crc_msih.json")).model_dump(mode="json")
UPDATED_PATIENTS = 24
NEW_PATIENTS = 4
BATCH_ROWS = UPDATED_PATIENTS + NEW_PATIENTS
SHARED_PATIENT = "CRASH-SVC-SHARED"
WRITE_ACTIONS = ("create", "update")


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


# -- the fork server ---------------------------------------------------------------------------


class ForkServer:
    """A running ``crash_forkserver.py``: forks children that run immunoprecise code."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._log = (log_dir / "forkserver.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, str(FORKSERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self._buffer = b""
        self._pending: list[dict[str, Any]] = []
        self._live: set[int] = set()
        self._expect(lambda m: "started" in m, timeout=120)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("the fork server did not answer in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"the fork server exited; see {self.log_dir}/forkserver.log")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def _expect(self, match: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        for message in self._pending:
            if match(message):
                self._pending.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if match(message):
                return message
            self._pending.append(message)

    def _send(self, request: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps(request) + "\n").encode())
        self._process.stdin.flush()

    def _fork(self, request: dict[str, Any]) -> int:
        self._send(request)
        pid = int(self._expect(lambda m: set(m) == {"pid"}, timeout=30)["pid"])
        self._live.add(pid)
        return pid

    def cli(self, argv: list[str], log: str) -> int:
        """Fork a child running ``immunoprecise ARGV...``; return its process id."""
        return self._fork({"op": "cli", "argv": argv, "log": str(self.log_dir / log)})

    def add(self, url: str, path: Path, actor: str, log: str) -> int:
        """Fork a child that stores the file's records with ``Registry.add_records``."""
        return self._fork(
            {
                "op": "add",
                "url": url,
                "file": str(path),
                "actor": actor,
                "log": str(self.log_dir / log),
            }
        )

    def wait_ready(self, pid: int, timeout: float = 60) -> None:
        """Wait until an ``add`` child has read its file and opened the registry."""
        self._expect(lambda m: m.get("ready") == pid, timeout=timeout)

    def wait(self, pid: int, timeout: float = 60) -> dict[str, Any]:
        """Reap a child: ``{"pid", "exit"}`` or ``{"pid", "signal"}``."""
        self._send({"op": "wait", "pid": pid})
        message = self._expect(lambda m: m.get("pid") == pid and len(m) == 2, timeout=timeout)
        self._live.discard(pid)
        return message

    def kill(self, pid: int) -> dict[str, Any]:
        """SIGKILL a child (a real ``kill -9``) and reap it."""
        os.kill(pid, signal.SIGKILL)
        return self.wait(pid)

    def close(self) -> None:
        for pid in list(self._live):
            self.kill(pid)
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)
        assert self._process.stdout is not None
        self._process.stdout.close()
        self._log.close()


@pytest.fixture(scope="module")
def forkserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    """One fork server for the module (it pays the imports once)."""
    server = ForkServer(tmp_path_factory.mktemp("crash-logs"))
    yield server
    server.close()


# -- consistency checks ------------------------------------------------------------------------


@dataclass
class Checker:
    """Checks a registry database directly (plain SQL, nothing audited) after a crash."""

    url: str
    engine: Engine = field(init=False)
    checked_up_to: int = 0

    def __post_init__(self) -> None:
        # one snapshot per check: on PostgreSQL a killed client's last COMMIT may still land
        # while the check runs, and under READ COMMITTED each query would see its own snapshot
        # (a patient committed between reading versions and patients would look orphaned)
        options = {} if self.url.startswith("sqlite") else {"isolation_level": "REPEATABLE READ"}
        self.engine = create_engine(self.url, **options)

    def check(self, where: str) -> dict[str, list[tuple[int, str]]]:
        """Assert the database is consistent; return each patient's ``[(version, sha256)]``.

        Consistent: each patient's versions are 1..n, every patient has a version, every version
        has exactly one ``create`` (version 1) or ``update`` audit row and no such row lacks its
        version, each version's stored JSON has the stored SHA-256 and is a valid record (torn
        rows), and on SQLite ``PRAGMA integrity_check`` is ok.
        """
        with self.engine.connect() as connection:
            if self.engine.dialect.name == "sqlite":
                integrity = connection.execute(text("PRAGMA integrity_check")).scalar()
                assert integrity == "ok", f"SQLite integrity check: {integrity}; {where}"
            rows = connection.execute(
                sql_select(
                    RecordVersionRow.id,
                    PatientRow.pseudonym,
                    RecordVersionRow.version,
                    RecordVersionRow.sha256,
                )
                .join(PatientRow, PatientRow.id == RecordVersionRow.patient_id)
                .order_by(RecordVersionRow.id)
            ).all()
            new_rows = connection.execute(
                sql_select(
                    RecordVersionRow.id, RecordVersionRow.record, RecordVersionRow.sha256
                ).where(RecordVersionRow.id > self.checked_up_to)
            ).all()
            audits = connection.execute(
                sql_select(AuditRow.patient, AuditRow.action, AuditRow.object).where(
                    AuditRow.action.in_(WRITE_ACTIONS)
                )
            ).all()
            patients = set(connection.execute(sql_select(PatientRow.pseudonym)).scalars())
        for row_id, record, sha in new_rows:
            assert hashlib.sha256(canonical_json(record).encode()).hexdigest() == sha, (
                f"record_versions row {row_id}: its JSON does not have its SHA-256 (torn); {where}"
            )
            PatientRecord.model_validate(record)
            self.checked_up_to = max(self.checked_up_to, row_id)
        versions: dict[str, list[tuple[int, str]]] = {}
        for _, pid, version, sha in rows:
            versions.setdefault(pid, []).append((version, sha))
        for pid, stored in versions.items():
            stored.sort()
            numbers = [v for v, _ in stored]
            assert numbers == list(range(1, len(numbers) + 1)), (
                f"patient {pid}: versions {numbers} are not 1..n; {where}"
            )
        assert patients == set(versions), (
            f"patients without any version: {sorted(patients - set(versions))}; {where}"
        )
        expected = Counter(
            (pid, "create" if version == 1 else "update", f"record_version {version}")
            for _, pid, version, _ in rows
        )
        found = Counter((str(p), str(a), str(o)) for p, a, o in audits)
        assert found == expected, (
            f"audit log incomplete: versions without a write audit row "
            f"{sorted((expected - found).elements())[:5]}, write audit rows without a version "
            f"{sorted((found - expected).elements())[:5]}; {where}"
        )
        return versions

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def checker(db_url: str) -> Iterator[Checker]:
    """A migrated registry at ``db_url`` and a checker on it."""
    with Registry.open(db_url, create=True):
        pass
    found = Checker(db_url)
    yield found
    found.close()


# -- 1. kill -9 of a bulk import ---------------------------------------------------------------


def _cohort_rows() -> list[dict[str, str]]:
    with COHORT.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write_batch(directory: Path, number: int) -> tuple[Path, dict[str, str]]:
    """Batch ``number``: 24 cohort patients, changed, and 4 new patients; and the SHA-256s."""
    rows = _cohort_rows()[:BATCH_ROWS]
    for i, row in enumerate(rows):
        row["diagnosis"] = f"{row['diagnosis']} [batch {number}]"
        if i >= UPDATED_PATIENTS:
            row["patient_id"] = f"CRASH-B{number:03d}-{i - UPDATED_PATIENTS}"
    path = directory / f"batch_{number:03d}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, {r.patient_id: record_sha256(r) for r in ip.read_patients(path)}


def _batch_state(
    versions: dict[str, list[tuple[int, str]]],
    batch: dict[str, str],
    previous: dict[str, str],
    committed_before: int,
) -> Counter[str]:
    """How many of the batch's patients show the batch (``new``), the state before (``old``), or
    something else (``torn``)."""
    states: Counter[str] = Counter()
    for pid, sha in batch.items():
        stored = versions.get(pid, [])
        if pid in previous:  # an updated patient: at the previous batch's version, or one more
            if stored == [*stored[:committed_before], (committed_before + 1, sha)]:
                states["new"] += 1
            elif len(stored) == committed_before and stored[-1][1] == previous[pid]:
                states["old"] += 1
            else:
                states["torn"] += 1
        else:  # a new patient: absent, or exactly one version with the batch's content
            states["new" if stored == [(1, sha)] else "old" if not stored else "torn"] += 1
    return states


def _timed_cli_import(forkserver: ForkServer, url: str, path: Path) -> float:
    started = time.monotonic()
    pid = forkserver.cli(["db", "import", str(path), "--db", url, "--actor", "crash"], "cli.log")
    status = forkserver.wait(pid)
    assert status.get("exit") == 0, f"calibration import failed: {status}"
    return time.monotonic() - started


def _timed_add(forkserver: ForkServer, url: str, path: Path) -> float:
    pid = forkserver.add(url, path, "crash", "add.log")
    forkserver.wait_ready(pid)
    started = time.monotonic()
    status = forkserver.wait(pid)
    assert status.get("exit") == 0, f"calibration import failed: {status}"
    return time.monotonic() - started


def _inside_write(log: str) -> bool:
    """Whether a child was killed inside a write transaction: its last transaction mark (see
    ``crash_forkserver.py``) is a write, not a commit or a rollback."""
    path = Path(f"{log}.tx")
    marks = path.read_text().split() if path.is_file() else []
    path.unlink(missing_ok=True)
    return bool(marks) and marks[-1] == "write"


def _hot_journal(url: str) -> bool:
    """Whether a SQLite database has a hot journal: a write transaction was cut off mid-way."""
    path = sqlite_path(url)
    journal = None if path is None else path.with_name(path.name + "-journal")
    return journal is not None and journal.is_file() and journal.stat().st_size > 0


def test_sigkilled_bulk_import_leaves_whole_batch_or_nothing_and_reimport_is_idempotent(
    db_url: str, checker: Checker, forkserver: ForkServer, tmp_path: Path
) -> None:
    backend = _backend(db_url)
    rng = random.Random(f"{SEED}-import-{backend}")
    # imports that are not killed: the registry's starting state (batch 0, cold) and how long a
    # warm child of each kind lives, which scales the random kill delays
    _timed_cli_import(forkserver, db_url, _write_batch(tmp_path, 0)[0])
    cli_seconds = _timed_cli_import(forkserver, db_url, _write_batch(tmp_path, 1)[0])
    path, previous = _write_batch(tmp_path, 2)
    add_seconds = _timed_add(forkserver, db_url, path)
    committed = 3  # versions of each updated patient so far
    checker.check(f"{backend}, after the unkilled imports")
    outcomes: Counter[str] = Counter()
    kills = 0
    number = committed
    with Registry.open(db_url) as registry:
        while kills < IMPORT_KILLS:
            assert number < 3 * IMPORT_KILLS, f"too few kills landed: {outcomes}; seed {SEED}"
            path, batch = _write_batch(tmp_path, number)
            if number % 3 == 0:  # the command line, killed anywhere in its life
                mode = "db import"
                argv = ["db", "import", str(path), "--db", db_url, "--actor", "crash"]
                log = "cli.log"
                pid = forkserver.cli(argv, log)
                delay = rng.uniform(0, cli_seconds)
            else:  # Registry.add_records, killed once the file is read and the registry open
                mode = "add_records"
                log = "add.log"
                pid = forkserver.add(db_url, path, "crash", log)
                forkserver.wait_ready(pid)
                delay = rng.uniform(0, 1.1 * add_seconds)
            time.sleep(delay)
            status = forkserver.kill(pid)
            killed = status.get("signal") == signal.SIGKILL
            hot = _hot_journal(db_url)
            inside = _inside_write(str(forkserver.log_dir / log))
            where = (
                f"{backend}, seed {SEED}, batch {number} ({mode}, SIGKILL after {delay:.3f} s, "
                f"child {status})"
            )
            assert killed or status.get("exit") == 0, f"the import failed; {where}"
            versions = checker.check(where)
            states = _batch_state(versions, batch, previous, committed)
            assert set(states) in ({"new"}, {"old"}), f"partial batch {states}; {where}"
            stored = states["new"] == BATCH_ROWS
            assert stored or killed, f"an import that exited 0 stored nothing; {where}"
            assert not (stored and hot), f"a committed batch left a hot journal; {where}"
            assert not (stored and inside), f"a batch stored before its commit; {where}"
            outcome = "killed" if killed else "finished"
            outcome += ", batch stored" if stored else ", nothing stored"
            outcome += ", inside a write transaction" if inside else ""
            outcomes[f"{mode}: {outcome}{', hot journal' if hot else ''}"] += 1
            kills += killed

            report = import_file(registry, path, actor="crash-rerun")
            summary = (report.created, report.updated, report.unchanged)
            expected = (0, 0, BATCH_ROWS) if stored else (NEW_PATIENTS, UPDATED_PATIENTS, 0)
            assert summary == expected, f"re-import after the kill: {summary}; {where}"
            counts = registry.counts()
            again = import_file(registry, path, actor="crash-rerun")
            assert (again.created, again.updated, again.unchanged) == (0, 0, BATCH_ROWS), where
            assert registry.counts() == {**counts, "audit_log": counts["audit_log"] + BATCH_ROWS}
            versions = checker.check(f"after the re-imports; {where}")
            assert _batch_state(versions, batch, previous, committed) == {"new": BATCH_ROWS}
            committed += 1
            previous = batch
            number += 1
    print(f"import kills ({backend}, seed {SEED}): {dict(outcomes)}")
    assert kills == IMPORT_KILLS
    cut_off = sum(n for k, n in outcomes.items() if "killed, nothing stored" in k)
    assert cut_off >= 1, f"no kill landed before a commit, which proves little: {outcomes}"
    # some kills landed inside write transactions, which were rolled back (on SQLite in WAL
    # mode nothing of them reached the file: a transaction's pages are written at its commit)
    inside_kills = sum(n for k, n in outcomes.items() if "inside a write transaction" in k)
    assert inside_kills >= 1, f"no kill landed inside a transaction: {outcomes}; seed {SEED}"


# -- 2. kill -9 of the service -----------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """A write the server acknowledged: the patient, its version and SHA-256."""

    patient_id: str
    version: int
    sha256: str
    status: int


@dataclass
class Writer:
    """One client thread posting records until the server goes away."""

    base_url: str
    token: str
    name: str
    acks: list[Ack] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sent: dict[str, set[str]] = field(default_factory=dict)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=20.0) as client:
            for i in range(1, 100_000):
                pid = SHARED_PATIENT if i % 2 else f"CRASH-{self.name}-{i:05d}"
                body = copy.deepcopy(TEMPLATE)
                body["patient"]["id"] = pid
                body["disease"]["diagnosis"] = (
                    f"{TEMPLATE['disease']['diagnosis']} [{self.name} {i}]"
                )
                sha = record_sha256(PatientRecord.model_validate(body))
                self.sent.setdefault(pid, set()).add(sha)
                try:
                    answer = client.post("/api/v1/patients", json=body)
                except httpx.TransportError:
                    return  # the server was killed
                if answer.status_code not in (200, 201):
                    self.problems.append(f"{pid}: {answer.status_code} {answer.text[:300]}")
                    continue
                data = answer.json()
                if data["sha256"] != sha or data["patient_id"] != pid:
                    self.problems.append(f"{pid}: acknowledged {data['sha256']}, sent {sha}")
                self.acks.append(Ack(pid, int(data["version"]), data["sha256"], answer.status_code))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(forkserver: ForkServer, url: str) -> tuple[int, str]:
    port = _free_port()
    argv = ["serve", "--db", url, "--port", str(port), "--rate", "100000", "--burst", "100000"]
    pid = forkserver.cli(argv, "serve.log")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1.0).status_code == 200:
                return pid, base
        except httpx.TransportError:
            time.sleep(0.02)
    status = forkserver.kill(pid)
    raise AssertionError(f"the server did not start ({status}); see {forkserver.log_dir}")


def test_sigkilled_server_keeps_every_acknowledged_write_with_its_exact_content(
    db_url: str, checker: Checker, forkserver: ForkServer
) -> None:
    backend = _backend(db_url)
    rng = random.Random(f"{SEED}-service-{backend}")
    with TokenStore.open(db_url) as store:
        token = store.create("crash-client", Role.clinician, created_by="pytest")[1]
    acked: list[Ack] = []
    sent: dict[str, set[str]] = {}
    for trial in range(SERVICE_KILLS):
        pid, base = _start_server(forkserver, db_url)
        writers = [Writer(base, token, f"T{trial:03d}-W{w}") for w in range(3)]
        threads = [threading.Thread(target=w.run) for w in writers]
        for thread in threads:
            thread.start()
        delay = rng.uniform(0.05, 0.45)
        time.sleep(delay)
        status = forkserver.kill(pid)
        for thread in threads:
            thread.join(timeout=60)
        where = f"{backend}, seed {SEED}, server kill {trial} after {delay:.3f} s ({status})"
        assert status.get("signal") == signal.SIGKILL, f"the server was not running; {where}"
        problems = [p for w in writers for p in w.problems]
        assert not problems, f"requests failed before the kill: {problems[:3]}; {where}"
        for writer in writers:
            acked.extend(writer.acks)
            for patient, shas in writer.sent.items():
                sent.setdefault(patient, set()).update(shas)
        versions = checker.check(where)
        stored = {(p, v, s) for p, vs in versions.items() for v, s in vs}
        lost = [a for a in acked if (a.patient_id, a.version, a.sha256) not in stored]
        assert not lost, f"{len(lost)} acknowledged writes missing, e.g. {lost[:3]}; {where}"
        foreign = [
            (p, v) for p, vs in versions.items() if p in sent for v, s in vs if s not in sent[p]
        ]
        assert not foreign, f"stored versions that no client sent: {foreign[:3]}; {where}"
    shared = sorted((a.version, a.sha256) for a in acked if a.patient_id == SHARED_PATIENT)
    assert len(acked) >= SERVICE_KILLS, f"too few writes acknowledged: {len(acked)}; seed {SEED}"
    assert shared, f"no write of the shared patient acknowledged; seed {SEED}"
    assert len({v for v, _ in shared}) == len(shared), f"a version was acknowledged twice: {shared}"
    # a restarted server serves every acknowledged version of the shared patient
    pid, base = _start_server(forkserver, db_url)
    try:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=20.0
        ) as client:
            answer = client.get(f"/api/v1/patients/{SHARED_PATIENT}/versions")
        assert answer.status_code == 200, answer.text
        served = {(v["version"], v["sha256"]) for v in answer.json()["versions"]}
    finally:
        forkserver.kill(pid)
    assert set(shared) <= served, f"acknowledged versions missing after a restart; seed {SEED}"
    print(f"service kills ({backend}, seed {SEED}): {SERVICE_KILLS}, {len(acked)} acknowledged")


# -- 3. concurrent writers ---------------------------------------------------------------------


def _version_of(pid: str, label: str) -> PatientRecord:
    body = copy.deepcopy(TEMPLATE)
    body["patient"]["id"] = pid
    body["disease"]["diagnosis"] = f"{TEMPLATE['disease']['diagnosis']} [{label}]"
    return PatientRecord.model_validate(body)


def test_concurrent_writers_of_one_patient_get_versions_1_to_n_with_no_lost_update(
    db_url: str, checker: Checker
) -> None:
    threads_n, updates = 8, 10
    pid = "CRASH-CONCURRENT"
    barrier = threading.Barrier(threads_n)
    returned: list[tuple[int, str, str]] = []  # version, returned sha, sent sha
    errors: list[str] = []

    def write(thread: int) -> None:
        with Registry.open(db_url) as registry:
            barrier.wait()
            for i in range(updates):
                record = _version_of(pid, f"writer {thread} update {i}")
                try:
                    stored = registry.add_record(record, actor=f"writer-{thread}")
                except Exception as exc:
                    errors.append(repr(exc))
                    continue
                returned.append((stored.version, stored.sha256, record_sha256(record)))

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    total = threads_n * updates
    assert not errors, f"{len(errors)} writes failed, e.g. {errors[:2]}"
    assert sorted(v for v, _, _ in returned) == list(range(1, total + 1))
    assert all(got == sent for _, got, sent in returned)
    versions = checker.check(f"{_backend(db_url)}, {threads_n} concurrent writers")
    assert versions[pid] == sorted((v, sent) for v, _, sent in returned)


def test_concurrent_batches_over_the_same_patients_all_commit_in_whole(
    db_url: str, checker: Checker
) -> None:
    rng = random.Random(f"{SEED}-batches-{_backend(db_url)}")
    pids = [f"CRASH-BATCH-{i}" for i in range(6)]
    threads_n, batches = 4, 3
    orders = [[rng.sample(pids, len(pids)) for _ in range(batches)] for _ in range(threads_n)]
    errors: list[str] = []
    stored: list[tuple[str, int, str]] = []

    def write(thread: int) -> None:
        with Registry.open(db_url) as registry:
            for b, order in enumerate(orders[thread]):
                records = [_version_of(p, f"thread {thread} batch {b}") for p in order]
                try:
                    done = registry.add_records(records, actor=f"batch-{thread}")
                except Exception as exc:
                    errors.append(repr(exc))
                    continue
                stored.extend((v.patient_id, v.version, v.sha256) for v in done)

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, f"{len(errors)} batches failed (seed {SEED}), e.g. {errors[:2]}"
    versions = checker.check(f"{_backend(db_url)}, concurrent batches, seed {SEED}")
    for pid in pids:
        assert [v for v, _ in versions[pid]] == list(range(1, threads_n * batches + 1))
    assert sorted(stored) == sorted((p, v, s) for p in pids for v, s in versions[p])
