"""Several server processes share dashboard sessions and trial jobs through the database.

The stores are checked as two processes see them (two engines on one database, SQLite and
PostgreSQL), then ``immunoprecise serve --workers 2`` is run for real: a browser's requests,
each on a new connection, are answered by both processes and none of them loses the login or
the trial.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from immunoprecise.registry.database import open_migrated_engine
from immunoprecise.registry.schema import DashboardSessionRow, ServiceJobRow
from immunoprecise.service import Role, TokenStore
from immunoprecise.service.dashboard import SESSION_COOKIE
from immunoprecise.service.jobs import STOPPED_MESSAGE, JobManager, JobStatus
from immunoprecise.service.sessions import SessionStore

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
ACCESS_LINE = re.compile(r"\[(\d+)\] 127\.0\.0\.1\S* - (GET|POST) (\S+) (\d{3})")


@contextmanager
def _sessions(db_url: str, **options: dt.timedelta) -> Iterator[SessionStore]:
    store = SessionStore(open_migrated_engine(db_url), **options)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _jobs(db_url: str, **options: float) -> Iterator[JobManager]:
    manager = JobManager(open_migrated_engine(db_url), max_workers=1, **options)
    try:
        yield manager
    finally:
        manager.shutdown()
        manager.close()


def _set_session_times(db_url: str, **times: dt.datetime) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(DashboardSessionRow).values(**times))
    finally:
        engine.dispose()


def _session_rows(db_url: str) -> list[sa.Row[tuple[str, str, dt.datetime]]]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            query = sa.select(
                DashboardSessionRow.session_sha256,
                DashboardSessionRow.csrf,
                DashboardSessionRow.last_seen,
            )
            return list(connection.execute(query).all())
    finally:
        engine.dispose()


def test_a_session_made_by_one_process_is_seen_and_ended_by_another(db_url: str) -> None:
    with _sessions(db_url) as first, _sessions(db_url) as second:
        made = first.create("ann", Role.clinician)
        seen = second.get(made.id)
        assert seen is not None
        assert (seen.name, seen.role, seen.csrf) == ("ann", Role.clinician, made.csrf)
        assert second.get(made.id + "x") is None
        assert second.get(None) is None
        second.drop(made.id)
        assert first.get(made.id) is None
    rows = _session_rows(db_url)
    assert rows == []


def test_only_the_session_ids_digest_is_stored(db_url: str) -> None:
    with _sessions(db_url) as store:
        made = store.create("ann", Role.researcher)
    [row] = _session_rows(db_url)
    assert made.id not in row.session_sha256
    assert len(row.session_sha256) == 64
    assert row.csrf == made.csrf


def test_sessions_end_when_idle_or_too_old(db_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with _sessions(db_url) as store:
        idle = store.create("ann", Role.clinician)
        _set_session_times(db_url, last_seen=now - store.idle - dt.timedelta(minutes=1))
        assert store.get(idle.id) is None
        assert _session_rows(db_url) == []

        old = store.create("ann", Role.clinician)
        _set_session_times(db_url, created_at=now - store.max_age - dt.timedelta(minutes=1))
        assert store.get(old.id) is None

        kept = store.create("bob", Role.admin)
        _set_session_times(db_url, last_seen=now - store.idle - dt.timedelta(minutes=1))
        store.create("eve", Role.researcher)  # a login forgets the expired sessions
        assert len(_session_rows(db_url)) == 1
        assert store.get(kept.id) is None


def test_last_seen_is_written_at_most_once_a_minute(db_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with _sessions(db_url) as store:
        made = store.create("ann", Role.clinician)
        recent = now - dt.timedelta(seconds=10)
        _set_session_times(db_url, last_seen=recent)
        assert store.get(made.id) is not None
        assert _session_rows(db_url)[0].last_seen == recent
        stale = now - dt.timedelta(minutes=5)
        _set_session_times(db_url, last_seen=stale)
        assert store.get(made.id) is not None
        assert _session_rows(db_url)[0].last_seen > now


def test_a_job_run_by_one_process_is_followed_by_another(db_url: str) -> None:
    release = threading.Event()
    halfway = threading.Event()

    def work(progress: Callable[[float], None]) -> int:
        progress(0.5)
        halfway.set()
        assert release.wait(30)
        return 42

    with _jobs(db_url) as running, _jobs(db_url) as other:
        job = running.submit("virtual_trial", owner="ann", work=work, label="FL", steps=2)
        assert halfway.wait(30)
        seen = other.get(job.id)
        assert seen is not None
        assert (seen.status, seen.progress, seen.label, seen.owner) == (
            JobStatus.running, 0.5, "FL", "ann"
        )  # fmt: skip
        assert [j.id for j in other.jobs(owner="ann")] == [job.id]
        assert other.jobs(owner="bob") == []
        release.set()
        done = other.wait(job.id, timeout=30)
    assert done is not None
    assert (done.status, done.result_id, done.progress) == (JobStatus.done, 42, 1.0)


def test_a_job_whose_process_stopped_is_reported_failed(db_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(ServiceJobRow).values(
                    id="0" * 32,
                    kind="virtual_trial",
                    owner="ann",
                    status="running",
                    progress=0.3,
                    created_at=now - dt.timedelta(minutes=10),
                    heartbeat_at=now - dt.timedelta(minutes=5),
                )
            )
    finally:
        engine.dispose()
    with _jobs(db_url) as manager:
        orphan = manager.get("0" * 32)
        assert orphan is not None
        assert orphan.status is JobStatus.failed
        assert orphan.message == STOPPED_MESSAGE


def test_the_heartbeat_keeps_a_long_job_running(db_url: str) -> None:
    release = threading.Event()
    with (
        _jobs(db_url, heartbeat_seconds=0.05, stale_seconds=1.0) as running,
        _jobs(db_url, stale_seconds=1.0) as other,
    ):
        job = running.submit("virtual_trial", owner="ann", work=lambda _: int(release.wait(30)))
        time.sleep(2.5)  # well past the stale limit, with no progress reported
        seen = other.get(job.id)
        release.set()
        assert running.wait(job.id, timeout=30) is not None
    assert seen is not None
    assert seen.status is JobStatus.running


def test_only_the_latest_jobs_are_kept(db_url: str) -> None:
    with _jobs(db_url, keep=3) as manager:
        ids = []
        for value in range(6):
            job = manager.submit("virtual_trial", owner="ann", work=lambda _, v=value: v)
            assert manager.wait(job.id, timeout=30) is not None
            ids.append(job.id)
        kept = [j.id for j in manager.jobs()]
    assert kept == ids[::-1][:3]


def test_jobs_not_started_when_the_server_stops_are_failed(db_url: str) -> None:
    release = threading.Event()
    with _jobs(db_url) as manager:
        first = manager.submit("virtual_trial", owner="ann", work=lambda _: int(release.wait(30)))
        queued = manager.submit("virtual_trial", owner="ann", work=lambda _: 2)
        manager.shutdown()
        release.set()
        finished = manager.wait(first.id, timeout=30)
        cancelled = manager.get(queued.id)
    assert finished is not None
    assert finished.status is JobStatus.done
    assert cancelled is not None
    assert cancelled.status is JobStatus.failed
    assert cancelled.message is not None
    assert "stopped before the job started" in cancelled.message


# --------------------------------------------------------------------------- a real server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str, cookies: dict[str, str]) -> httpx.Response:
    """One request on a connection of its own (so the server's processes share the load)."""
    with httpx.Client(base_url=url, cookies=cookies, timeout=60.0) as client:
        return client.get(url)


def test_two_server_processes_share_logins_and_trials(db_url: str, tmp_path: Path) -> None:
    with TokenStore.open(db_url) as store:
        _, secret = store.create("cli-token", Role.clinician, created_by="pytest")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "IMMUNOPRECISE_PSEUDONYM_KEY": "k" * 32, "XDG_DATA_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "immunoprecise", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--db", db_url, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60.0) as browser:
            form = browser.get("/")
            csrf = CSRF_FIELD.search(form.text)
            assert csrf is not None
            login = browser.post("/login", data={"token": secret, "csrf_token": csrf.group(1)})
            assert login.status_code == 303, login.text[:300]
            cookies = {SESSION_COOKIE: browser.cookies[SESSION_COOKIE]}
            trials = browser.get("/trials")
            csrf = CSRF_FIELD.search(trials.text)
            assert csrf is not None
            started = browser.post(
                "/trials/example", data={"csrf_token": csrf.group(1), "n_per_arm": "20"}
            )
            assert started.status_code == 303, started.text[:300]
            job_page = started.headers["location"]

        pages = [_get(f"{base}/patients", cookies) for _ in range(30)]
        polls = [_get(f"{base}{job_page}", cookies) for _ in range(30)]
        deadline = time.monotonic() + 120
        while 'id="trial-arm-table"' not in polls[-1].text:
            assert time.monotonic() < deadline, polls[-1].text[:500]
            time.sleep(0.2)
            polls.append(_get(f"{base}{job_page}", cookies))

        assert _get(f"{base}/logout", cookies).status_code == 303
        after_logout = [_get(f"{base}/patients", cookies) for _ in range(10)]
    finally:
        process.terminate()
        _, log = process.communicate(timeout=30)

    assert "2 server processes" in log
    assert [p.status_code for p in pages] == [200] * len(pages)
    assert all("Patients" in p.text for p in pages)
    assert [p.status_code for p in polls] == [200] * len(polls)
    assert all(p.headers["location"] == "/" for p in after_logout), after_logout[0].text[:200]
    # every request above (each on a new connection) was answered by one of the two processes
    answered_by = {int(m.group(1)) for m in ACCESS_LINE.finditer(log)}
    assert len(answered_by) == 2, log[-3000:]
    assert process.pid not in answered_by


@pytest.mark.parametrize("workers", ["0", "two"])
def test_workers_must_be_a_positive_whole_number(workers: str, tmp_path: Path) -> None:
    database = str(tmp_path / "r.db")
    done = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "serve", "--db", database, "--workers", workers],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers" in done.stderr
