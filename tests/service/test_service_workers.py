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
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from immunoprecise import __version__
from immunoprecise.dynamics.trials import run_trial
from immunoprecise.dynamics.trials.execution import SYNCHRONOUS
from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.registry import Registry
from immunoprecise.registry.database import open_migrated_engine
from immunoprecise.registry.schema import DashboardSessionRow, ServiceJobRow, ServiceJobStepRow
from immunoprecise.service import Role, TokenStore
from immunoprecise.service.dashboard import SESSION_COOKIE
from immunoprecise.service.jobs import (
    RESUMED_MESSAGE,
    STOPPED_MESSAGE,
    WAITING_MESSAGE,
    JobManager,
    JobRun,
    JobStatus,
    Work,
    step_version,
)
from immunoprecise.service.routes.simulate import finite
from immunoprecise.service.sessions import SessionStore
from service.test_service_dynamics import CHECKPOINT_DESIGN

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
ACCESS_LINE = re.compile(r"\[(\d+)\] 127\.0\.0\.1\S* - (GET|POST) (\S+) (\d{3})")


@contextmanager
def _sessions(db_url: str, **options: dt.timedelta) -> Iterator[SessionStore]:
    store = SessionStore(open_migrated_engine(db_url), **options)
    try:
        yield store
    finally:
        store.close()


# How long a heartbeat may be late before another process takes the job over (and a job that
# may not start again reads as failed). Far above the 0.05 s beat, so that a beat delayed on a
# loaded 2-core machine (a SQLite write lock, the GIL) is not taken for a stopped process.
_STALE = 2.0


@contextmanager
def _jobs(db_url: str, **options: Any) -> Iterator[JobManager]:
    manager = JobManager(open_migrated_engine(db_url), max_workers=1, **options)
    try:
        yield manager
    finally:
        manager.shutdown()
        manager.close()


@contextmanager
def _direct(db_url: str) -> Iterator[sa.Connection]:
    """A transaction on the database itself, outside the stores (as an inspecting admin)."""
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def _set_session_times(db_url: str, **times: dt.datetime) -> None:
    with _direct(db_url) as connection:
        connection.execute(sa.update(DashboardSessionRow).values(**times))


def _session_rows(db_url: str) -> list[Any]:
    query = sa.select(
        DashboardSessionRow.session_sha256, DashboardSessionRow.csrf, DashboardSessionRow.last_seen
    )
    with _direct(db_url) as connection:
        return list(connection.execute(query).all())


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
    _insert_job(db_url, "0" * 32)  # no stored request: it cannot be started again
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


def _constant(value: int) -> Work:
    return lambda run: value


def test_only_the_latest_jobs_are_kept(db_url: str) -> None:
    with _jobs(db_url, keep=3) as manager:
        ids = []
        for value in range(6):
            job = manager.submit("virtual_trial", owner="ann", work=_constant(value))
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


def _double(owner: str, request: Mapping[str, Any]) -> Work:
    """A rebuilt job's work: twice the request's value (and who asked, in the log)."""
    return lambda progress: int(request["value"]) * 2


def _insert_job(db_url: str, job_id: str, **values: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    row = {
        "id": job_id,
        "kind": "virtual_trial",
        "owner": "ann",
        "status": "running",
        "progress": 0.4,
        "created_at": now - dt.timedelta(minutes=10),
        "heartbeat_at": now - dt.timedelta(minutes=5),
        **values,
    }
    with _direct(db_url) as connection:
        connection.execute(sa.insert(ServiceJobRow).values(**row))


def _runner_of(db_url: str, job_id: str) -> str | None:
    query = sa.select(ServiceJobRow.runner).where(ServiceJobRow.id == job_id)
    with _direct(db_url) as connection:
        runner: str | None = connection.execute(query).scalar()
        return runner


def test_a_stalled_job_is_taken_over_by_another_process_and_finished_there(db_url: str) -> None:
    release = threading.Event()
    went_on = threading.Event()
    ended = threading.Event()

    def hung(progress: Callable[[float], None]) -> int:
        try:
            assert release.wait(30)
            progress(0.5)  # the job is no longer this process's: this stops the work
            went_on.set()
            return 1
        finally:
            ended.set()

    # the first process stops beating (as if it had died) with its job half done
    with (
        _jobs(db_url, heartbeat_seconds=3600, stale_seconds=_STALE) as stopped,
        _jobs(db_url, heartbeat_seconds=0.05, stale_seconds=_STALE) as alive,
    ):
        alive.resumable("virtual_trial", _double)
        job = stopped.submit("virtual_trial", owner="ann", work=hung, request={"value": 21})
        done = alive.wait(job.id, timeout=30)
        assert done is not None
        assert _runner_of(db_url, job.id) == alive.runner
        release.set()
        assert ended.wait(30)  # the stopped process's thread ends, writing nothing
        time.sleep(0.2)
        after = alive.get(job.id)
    assert (done.status, done.result_id, done.starts) == (JobStatus.done, 42, 2)
    assert done.message == RESUMED_MESSAGE
    assert after == done
    assert not went_on.is_set()


def test_a_job_is_started_at_most_twice(db_url: str) -> None:
    _insert_job(db_url, "1" * 32, starts=1, request={"value": 5})
    _insert_job(db_url, "2" * 32, starts=2, request={"value": 6})
    _insert_job(db_url, "3" * 32, starts=0, status="queued", request={"value": 7})
    with _jobs(db_url) as onlooker:  # takes nothing over: it rebuilds no kind of job
        waiting = onlooker.get("1" * 32)
        given_up = onlooker.get("2" * 32)
    assert waiting is not None
    assert (waiting.status, waiting.message) == (JobStatus.queued, WAITING_MESSAGE)
    assert given_up is not None
    assert (given_up.status, given_up.message) == (JobStatus.failed, STOPPED_MESSAGE)
    with _jobs(db_url, heartbeat_seconds=0.05) as alive:
        alive.resumable("virtual_trial", _double)
        second = alive.wait("1" * 32, timeout=30)
        never_started = alive.wait("3" * 32, timeout=30)
        third = alive.get("2" * 32)
    assert second is not None
    assert (second.status, second.result_id, second.starts) == (JobStatus.done, 10, 2)
    assert never_started is not None  # queued in a process that stopped: its first start
    assert (never_started.status, never_started.result_id, never_started.starts) == (
        JobStatus.done, 14, 1
    )  # fmt: skip
    assert third is not None
    assert (third.status, third.starts, third.result_id) == (JobStatus.failed, 2, None)


def test_a_job_that_cannot_be_rebuilt_fails_saying_why(db_url: str) -> None:
    def refuse(owner: str, request: Mapping[str, Any]) -> Work:
        raise ValueError(f"unknown model {request['model']!r}")

    _insert_job(db_url, "4" * 32, starts=1, request={"model": "retired"})
    with _jobs(db_url, heartbeat_seconds=0.05) as alive:
        alive.resumable("virtual_trial", refuse)
        failed = alive.wait("4" * 32, timeout=30)
    assert failed is not None
    assert failed.status is JobStatus.failed
    assert failed.message == "could not be started again: unknown model 'retired'"


def _running_until(release: threading.Event, started: threading.Event) -> Work:
    """Work that says when it has started, then runs until ``release`` (its result: 1)."""

    def work(run: JobRun) -> int:
        started.set()
        return int(release.wait(30))

    return work


def test_jobs_queued_when_a_server_stops_are_handed_to_another(db_url: str) -> None:
    release, started = threading.Event(), threading.Event()
    with _jobs(db_url, heartbeat_seconds=0.05, stale_seconds=_STALE) as other:
        other.resumable("virtual_trial", _double)
        with _jobs(db_url, heartbeat_seconds=0.05) as stopping:
            busy = stopping.submit(
                "virtual_trial", owner="ann", work=_running_until(release, started), request={}
            )
            queued = stopping.submit(
                "virtual_trial", owner="ann", work=lambda _: 0, request={"value": 4}
            )
            assert started.wait(30)  # running, not queued, when the process stops
            stopping.shutdown()
            handed = other.wait(queued.id, timeout=30)
            release.set()
            finished = stopping.wait(busy.id, timeout=30)
    assert handed is not None
    assert (handed.status, handed.result_id, handed.starts) == (JobStatus.done, 8, 1)
    assert finished is not None  # a running job finishes where it runs
    assert (finished.status, finished.result_id, finished.starts) == (JobStatus.done, 1, 1)


def test_a_stopping_process_beats_on_for_the_jobs_still_running_there(db_url: str) -> None:
    # silent after shutdown, a running job would look stalled: another process would take it
    # over and compute it a second time while it finishes here
    release, started = threading.Event(), threading.Event()
    with _jobs(db_url, heartbeat_seconds=0.05, stale_seconds=_STALE) as other:
        other.resumable("virtual_trial", _double)
        with _jobs(db_url, heartbeat_seconds=0.05) as stopping:
            busy = stopping.submit(
                "virtual_trial",
                owner="ann",
                work=_running_until(release, started),
                request={"value": 4},
            )
            assert started.wait(30)
            stopping.shutdown()
            time.sleep(1.5 * _STALE)  # longer than other's stale window
            still_here = _runner_of(db_url, busy.id)
            release.set()
            finished = stopping.wait(busy.id, timeout=30)
    assert still_here == stopping.runner
    assert finished is not None
    assert (finished.status, finished.result_id, finished.starts) == (JobStatus.done, 1, 1)


def _insert_step(db_url: str, job_id: str, step: int, data: bytes, version: str) -> None:
    with _direct(db_url) as connection:
        connection.execute(
            sa.insert(ServiceJobStepRow).values(
                job_id=job_id,
                step=step,
                version=version,
                data=data,
                created_at=dt.datetime.now(dt.UTC),
            )
        )


def _steps_of(db_url: str, job_id: str) -> dict[int, bytes]:
    query = sa.select(ServiceJobStepRow.step, ServiceJobStepRow.data).where(
        ServiceJobStepRow.job_id == job_id
    )
    with _direct(db_url) as connection:
        return {step: bytes(data) for step, data in connection.execute(query).all()}


def test_a_taken_over_job_continues_from_the_steps_saved_by_this_version(db_url: str) -> None:
    job_id = "5" * 32
    _insert_job(db_url, job_id, starts=1, request={"steps": 4})
    _insert_step(db_url, job_id, 0, b"step 0 of the first run", step_version())
    _insert_step(db_url, job_id, 1, b"step 1 of an older version", "0.0.1")
    # this version's number, but trial patients drawn by the earlier sampling scheme
    _insert_step(db_url, job_id, 2, b"step 2 of per-chunk sampling", __version__)
    seen: dict[str, Any] = {}

    def resume(owner: str, request: Mapping[str, Any]) -> Work:
        def work(run: JobRun) -> int:
            seen["found"] = run.finished_steps()
            seen["kept"] = {k: run.step(k) for k in seen["found"]}
            computed = [k for k in range(request["steps"]) if k not in seen["found"]]
            for k in computed:
                run.save_step(k, f"step {k} of the second run".encode())
                run((k + 1) / request["steps"])
            seen["saved"] = _steps_of(db_url, job_id)
            return len(computed)

        return work

    with _jobs(db_url, heartbeat_seconds=0.05) as alive:
        alive.resumable("virtual_trial", resume)
        done = alive.wait(job_id, timeout=30)
    assert done is not None
    assert (done.status, done.result_id, done.starts) == (JobStatus.done, 3, 2)
    assert seen["found"] == {0}  # the older version's steps 1 and 2 are computed again
    assert seen["kept"] == {0: b"step 0 of the first run"}
    assert seen["saved"] == {
        0: b"step 0 of the first run",
        **{k: f"step {k} of the second run".encode() for k in (1, 2, 3)},
    }
    assert _steps_of(db_url, job_id) == {}  # forgotten once the job is done


def test_a_failed_job_forgets_its_steps(db_url: str) -> None:
    def work(run: JobRun) -> int:
        run.save_step(0, b"half")
        raise ValidationError([FieldProblem("arms", "x", "no such regimen")])

    with _jobs(db_url) as manager:
        job = manager.submit("virtual_trial", owner="ann", work=work)
        failed = manager.wait(job.id, timeout=30)
    assert failed is not None
    assert failed.status is JobStatus.failed
    assert _steps_of(db_url, job.id) == {}


def test_only_the_process_running_a_job_saves_its_steps_and_its_result(db_url: str) -> None:
    release = threading.Event()
    ended = threading.Event()
    finishing = threading.Event()
    late: list[str] = []

    def store(run: JobRun, value: int) -> int:
        with Registry.open(db_url) as registry:
            stored = registry.save_result(
                "virtual_trial",
                {"value": value},
                actor="ann",
                before_commit=run.complete_in,
            )
        return stored.id

    def stalled(run: JobRun) -> int:
        try:
            assert release.wait(30)
            try:
                run.save_step(7, b"late step")
            except Exception as exc:  # the job is another process's now
                late.append(type(exc).__name__)
            return store(run, 1)  # stops here too: no second result
        finally:
            ended.set()

    def resume(owner: str, request: Mapping[str, Any]) -> Work:
        def work(run: JobRun) -> int:
            run.save_step(0, b"taken over")
            release.set()  # the stalled process wakes up and tries to go on
            assert ended.wait(30)
            finishing.set()
            assert run.finished_steps() == {0}
            return store(run, 2)

        return work

    with (
        _jobs(db_url, heartbeat_seconds=3600, stale_seconds=_STALE) as stopped,
        _jobs(db_url, heartbeat_seconds=0.05, stale_seconds=_STALE) as alive,
    ):
        alive.resumable("virtual_trial", resume)
        job = stopped.submit("virtual_trial", owner="ann", work=stalled, request={})
        done = alive.wait(job.id, timeout=30)
        assert ended.wait(30)
    assert finishing.is_set()
    assert late == ["_TakenOverError"]
    with Registry.open(db_url) as registry:
        results = registry.results(actor="pytest", kind="virtual_trial")
    assert [r.payload for r in results] == [{"value": 2}]
    assert done is not None
    assert (done.status, done.result_id) == (JobStatus.done, results[0].id)


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


@dataclass
class _Served:
    """A running ``immunoprecise serve`` process, its URL and (once stopped) its log."""

    process: subprocess.Popen[str]
    base: str
    log: str = ""


@contextmanager
def _serve(db_url: str, tmp_path: Path, *options: str) -> Iterator[_Served]:
    """``immunoprecise serve --db db_url *options`` on a free port, until the block ends."""
    port = _free_port()
    env = {**os.environ, "IMMUNOPRECISE_PSEUDONYM_KEY": "k" * 32, "XDG_DATA_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "immunoprecise", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--db", db_url, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    served = _Served(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{served.base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        _, served.log = process.communicate(timeout=30)


def test_two_server_processes_share_logins_and_trials(db_url: str, tmp_path: Path) -> None:
    with TokenStore.open(db_url) as store:
        _, secret = store.create("cli-token", Role.clinician, created_by="pytest")
    with _serve(db_url, tmp_path, "--workers", "2") as served:
        base = served.base
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
    log = served.log

    assert "2 server processes" in log
    assert [p.status_code for p in pages] == [200] * len(pages)
    assert all("Patients" in p.text for p in pages)
    assert [p.status_code for p in polls] == [200] * len(polls)
    assert all(p.headers["location"] == "/" for p in after_logout), after_logout[0].text[:200]
    # every request above (each on a new connection) was answered by one of the two processes
    answered_by = {int(m.group(1)) for m in ACCESS_LINE.finditer(log)}
    assert len(answered_by) == 2, log[-3000:]
    assert served.process.pid not in answered_by


TAKEN_OVER_DESIGN = {**CHECKPOINT_DESIGN, "n_per_arm": 2000}
"""A trial that runs for some seconds (20 chunks of 100 patients, two arms), long enough to stop
its process midway: the process is stopped as soon as its first chunk is reported."""


def test_a_trial_whose_server_process_is_killed_is_continued_by_another(
    db_url: str, tmp_path: Path
) -> None:
    with TokenStore.open(db_url) as store:
        _, secret = store.create("res-token", Role.researcher, created_by="pytest")
    headers = {"Authorization": f"Bearer {secret}"}

    def call(base: str, method: str, path: str, **options: Any) -> httpx.Response:
        # a connection of its own each time: the one process being killed drops its own
        with httpx.Client(base_url=base, headers=headers, timeout=60.0) as client:
            return client.request(method, path, **options)

    with _serve(db_url, tmp_path, "--workers", "2", "--job-heartbeat", "0.5") as served:
        started = call(served.base, "POST", "/api/v1/trials/designs", json=TAKEN_OVER_DESIGN)
        assert started.status_code == 202, started.text[:300]
        job_path = f"/api/v1/trials/{started.json()['id']}"
        deadline = time.monotonic() + 120
        while (job := call(served.base, "GET", job_path).json())["progress"] == 0:
            assert job["status"] in ("queued", "running"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        runner = _runner_of(db_url, job["id"])
        assert runner is not None
        killed = int(runner.split(":")[1])
        assert killed != served.process.pid
        os.kill(killed, signal.SIGKILL)  # the worker process running the trial dies midway

        deadline = time.monotonic() + 180
        while (job := call(served.base, "GET", job_path).json())["status"] != "done":
            assert job["status"] != "failed", job
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        result = call(served.base, "GET", f"{job_path}/result")
        taken_by = _runner_of(db_url, job["id"])
    assert (job["starts"], job["message"]) == (2, RESUMED_MESSAGE)
    assert taken_by is not None
    assert int(taken_by.split(":")[1]) not in (killed, served.process.pid)
    assert result.status_code == 200, result.text[:300]
    arms = {row["arm"]: row for row in result.json()["payload"]["arm_table"]}
    assert set(arms) == {"none", "pd1"}
    assert "taken over from a server process that stopped" in served.log
    execution = result.json()["payload"]["execution"]
    assert execution["chunks_reused"] >= 1  # the chunks finished before the kill
    assert execution["chunks_reused"] + execution["chunks_computed"] == 20
    assert _steps_of(db_url, job["id"]) == {}
    whole = run_trial(TAKEN_OVER_DESIGN, scheduler=SYNCHRONOUS)  # never stopped
    assert result.json()["payload"]["arm_table"] == finite(
        whole.arm_table().to_dict(orient="records")
    )


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
