"""``GET /trials/{id}/result`` tells "wait" from "it will never come": 409 while the trial is
queued or running, 410 with the reason once it has failed (the job's message, in which a
database failure is only an error id). Over a real server (SQLite, and PostgreSQL when
configured); the jobs run in a real job manager on the same database."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from immunoprecise.errors import ModelError
from immunoprecise.registry.database import open_migrated_engine
from immunoprecise.service.jobs import JobManager, JobRun
from service.service_server import Server

API = "/api/v1"
OWNER = "res-token"  # the researcher token's name (conftest)


def test_a_running_trial_is_409_and_a_failed_one_410_with_its_reason(
    server: Server, no_internals: Callable[[httpx.Response], None]
) -> None:
    release = threading.Event()

    def work(run: JobRun) -> int:
        run(0.5)
        release.wait(30)
        raise ModelError("the solver could not integrate patient 3 past day 12")

    jobs = JobManager(open_migrated_engine(server.db_url), max_workers=1)
    try:
        job_id = jobs.submit("virtual_trial", owner=OWNER, work=work).id
        with server.client("researcher") as researcher:
            while researcher.get(f"{API}/trials/{job_id}").json()["status"] == "queued":
                release.wait(0.02)
            running = researcher.get(f"{API}/trials/{job_id}/result")
            release.set()
            jobs.wait(job_id, timeout=30)
            failed = researcher.get(f"{API}/trials/{job_id}/result")
            status = researcher.get(f"{API}/trials/{job_id}").json()
    finally:
        release.set()
        jobs.shutdown()
        jobs.close()
    assert running.status_code == 409, running.text
    assert "running" in running.json()["detail"]
    assert status["status"] == "failed"
    assert failed.status_code == 410, failed.text
    detail = failed.json()["detail"]
    assert detail.startswith("the trial failed")
    assert "could not integrate patient 3 past day 12" in detail
    no_internals(failed)


def test_an_unexpected_failure_is_410_with_an_error_id_and_no_internals(
    server: Server, no_internals: Callable[[httpx.Response], None]
) -> None:
    def work(run: JobRun) -> int:
        raise RuntimeError(f"cannot write {server.db_url}: INSERT INTO results failed")

    jobs = JobManager(open_migrated_engine(server.db_url), max_workers=1)
    try:
        job_id = jobs.submit("virtual_trial_design", owner=OWNER, work=work).id
        jobs.wait(job_id, timeout=30)
    finally:
        jobs.shutdown()
        jobs.close()
    with server.client("researcher") as researcher:
        failed = researcher.get(f"{API}/trials/{job_id}/result")
    with server.client("admin") as admin:
        seen_by_admin = admin.get(f"{API}/trials/{job_id}/result")
    assert failed.status_code == seen_by_admin.status_code == 410
    detail = failed.json()["detail"]
    assert "internal error (id " in detail
    for internal in ("INSERT", "results", server.db_url, "sqlite", "postgresql"):
        assert internal not in detail
    no_internals(failed)


def test_the_schema_declares_the_410(server: Server) -> None:
    with server.client() as anyone:
        schema = anyone.get("/openapi.json").json()
    answers = schema["paths"][f"{API}/trials/{{job_id}}/result"]["get"]["responses"]
    assert {"404", "409", "410"} <= set(answers)
