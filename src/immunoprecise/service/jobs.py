"""Background jobs (virtual trials): run in a thread pool, polled by id.

Jobs live in the server's memory: their status is lost when the server stops (their results,
once done, are in the registry). A job is visible to the token that started it and to admins.

Examples
--------
>>> jobs = JobManager(max_workers=1)
>>> job = jobs.submit("demo", owner="ann", work=lambda progress: 7)
>>> job.status
<JobStatus.queued: 'queued'>
>>> jobs.wait(job.id, timeout=5).result_id
7
>>> jobs.shutdown()
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.errors import ImmunopreciseError

__all__ = ["Job", "JobManager", "JobStatus", "Work"]

logger = logging.getLogger("immunoprecise.service")

Work = Callable[[Callable[[float], None]], int]
"""A job's work: called with a progress callback (fraction 0–1); returns the stored result id."""


class JobStatus(StrEnum):
    """Where a job is."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(BaseModel):
    """A snapshot of a job."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: str
    owner: str = Field(description="Name of the token that started the job.")
    status: JobStatus
    progress: float = Field(ge=0, le=1, description="Fraction of the work done.")
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    message: str | None = Field(default=None, description="Why the job failed.")
    label: str | None = Field(
        default=None, description="What the job runs, in a few words (a trial's name)."
    )
    n_per_arm: int | None = Field(default=None, description="Virtual patients per arm.")
    steps: int | None = Field(
        default=None, description="Steps the progress counts (a trial's chunks), if known."
    )
    result_id: int | None = Field(default=None, description="Registry result id once done.")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class JobManager:
    """Runs jobs in a thread pool and keeps the latest ``keep`` job snapshots.

    Parameters
    ----------
    max_workers
        Jobs run at the same time; others wait, ``queued``.
    keep
        How many jobs are remembered (the oldest finished ones are forgotten first).
    """

    def __init__(self, max_workers: int = 2, *, keep: int = 1000) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ip-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._jobs[job_id] = job.model_copy(update=changes)

    def _forget_old(self) -> None:
        finished = (JobStatus.done, JobStatus.failed)
        while len(self._jobs) > self._keep:
            old = next((k for k, j in self._jobs.items() if j.status in finished), None)
            if old is None:
                return
            del self._jobs[old]

    def submit(
        self,
        kind: str,
        *,
        owner: str,
        work: Work,
        label: str | None = None,
        n_per_arm: int | None = None,
        steps: int | None = None,
    ) -> Job:
        """Queue ``work``; returns the job (status ``queued``).

        Parameters
        ----------
        kind
            What the job is, e.g. ``"virtual_trial"``.
        owner
            Who started it (a token name).
        work
            The function to run (see :data:`Work`).
        label
            What it runs, in a few words (shown in job lists).
        n_per_arm
            Virtual patients per arm.
        steps
            Steps its progress counts (a trial's chunks).

        Returns
        -------
        Job
        """
        job = Job(
            id=uuid.uuid4().hex,
            kind=kind,
            owner=owner,
            status=JobStatus.queued,
            progress=0.0,
            created_at=_now(),
            label=label,
            n_per_arm=n_per_arm,
            steps=steps,
        )
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job.id, work)
        return job

    def _run(self, job_id: str, work: Work) -> None:
        self._update(job_id, status=JobStatus.running, started_at=_now())

        def progress(fraction: float) -> None:
            self._update(job_id, progress=min(1.0, max(0.0, float(fraction))))

        try:
            result_id = work(progress)
        except ImmunopreciseError as exc:
            self._update(job_id, status=JobStatus.failed, finished_at=_now(), message=str(exc))
        except Exception:
            error_id = uuid.uuid4().hex
            logger.exception("job %s failed (error id %s)", job_id, error_id)
            self._update(
                job_id,
                status=JobStatus.failed,
                finished_at=_now(),
                message=f"internal error (id {error_id}); the server log has the details",
            )
        else:
            self._update(
                job_id,
                status=JobStatus.done,
                progress=1.0,
                finished_at=_now(),
                result_id=result_id,
            )

    def get(self, job_id: str) -> Job | None:
        """Return the job with this id, or ``None``."""
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self, *, kind: str | None = None, owner: str | None = None) -> list[Job]:
        """The jobs kept in memory, newest first; optionally of one kind or one owner.

        Parameters
        ----------
        kind
            Only jobs of this kind.
        owner
            Only jobs started by this token name.

        Returns
        -------
        list of Job
        """
        with self._lock:
            found = list(self._jobs.values())
        return [
            j
            for j in reversed(found)
            if (kind is None or j.kind == kind) and (owner is None or j.owner == owner)
        ]

    def wait(self, job_id: str, *, timeout: float) -> Job | None:
        """Wait up to ``timeout`` seconds for a job to finish; returns its latest snapshot."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job is None or job.status in (JobStatus.done, JobStatus.failed):
                return job
            if time.monotonic() >= deadline:
                return job
            time.sleep(0.02)

    def shutdown(self) -> None:
        """Stop taking jobs and cancel those not started (running ones finish)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
