"""Background jobs (virtual trials): run in a thread pool, their status kept in the registry.

A job runs in the server process that accepted it; its status and progress are written to the
registry database (table ``service_jobs``), so that any worker process of ``immunoprecise serve
--workers N`` answers a poll, and a job's status outlives a restart (its result, once done, is
in ``results``). A job is visible to the token that started it and to admins.

The process running a job renews its heartbeat every :data:`HEARTBEAT_SECONDS`. A queued or
running job whose heartbeat is older than :data:`STALE_SECONDS` belongs to a process that
stopped (a restart, a crash): it is reported ``failed``, saying so, rather than ``running``
for ever.

Examples
--------
>>> import tempfile, pathlib
>>> from immunoprecise.registry.database import open_migrated_engine
>>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
>>> jobs = JobManager(open_migrated_engine(url, create=True), max_workers=1)
>>> job = jobs.submit("demo", owner="ann", work=lambda progress: 7)
>>> job.status
<JobStatus.queued: 'queued'>
>>> jobs.wait(job.id, timeout=5).result_id
7
>>> jobs.shutdown(); jobs.close()
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from immunoprecise.errors import ImmunopreciseError, RegistryError
from immunoprecise.registry.database import Database
from immunoprecise.registry.schema import ServiceJobRow

__all__ = ["HEARTBEAT_SECONDS", "STALE_SECONDS", "Job", "JobManager", "JobStatus", "Work"]

HEARTBEAT_SECONDS = 10.0
"""How often the process running a job renews its heartbeat (seconds)."""
STALE_SECONDS = 60.0
"""A queued or running job whose heartbeat is older than this (seconds) is reported failed: the
process running it has stopped."""
STOPPED_MESSAGE = (
    "the server process running this job stopped before it finished (a restart or a crash); "
    "start the trial again"
)
_MESSAGE_CHARS = 2000
_LABEL_CHARS = 256

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


_UNFINISHED = (JobStatus.queued.value, JobStatus.running.value)
_FINISHED = (JobStatus.done.value, JobStatus.failed.value)


def _job(row: Any, stale_before: dt.datetime) -> Job:
    """The job of a ``service_jobs`` row; a stalled unfinished job is shown failed."""
    fields = {name: getattr(row, name) for name in Job.model_fields}
    if fields["status"] in _UNFINISHED and row.heartbeat_at < stale_before:
        fields.update(status=JobStatus.failed, message=STOPPED_MESSAGE)
    return Job.model_validate(fields)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class JobManager(Database):
    """Runs jobs in a thread pool; keeps their status in the registry, the latest ``keep`` of them.

    Parameters
    ----------
    engine
        The registry database's engine, at the latest schema
        (:func:`~immunoprecise.registry.database.open_migrated_engine`).
    max_workers
        Jobs this process runs at the same time; others wait, ``queued``.
    keep
        How many jobs are remembered (the oldest finished ones are forgotten first).
    heartbeat_seconds
        How often this process renews the heartbeat of its unfinished jobs.
    stale_seconds
        After how long without a heartbeat an unfinished job is reported failed.
    """

    what = "jobs in"

    def __init__(
        self,
        engine: Engine,
        max_workers: int = 2,
        *,
        keep: int = 1000,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stale_seconds: float = STALE_SECONDS,
    ) -> None:
        super().__init__(engine)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ip-job")
        self._keep = keep
        self._stale = dt.timedelta(seconds=stale_seconds)
        self._mine: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._heartbeat_seconds = heartbeat_seconds
        self._heart = threading.Thread(target=self._beat, name="ip-job-heartbeat", daemon=True)
        self._heart.start()

    def _update(self, job_id: str, **changes: object) -> None:
        changes["heartbeat_at"] = _now()
        try:
            with self._transaction() as db:
                db.execute(update(ServiceJobRow).where(ServiceJobRow.id == job_id).values(changes))
        except RegistryError:
            logger.exception("job %s: its status could not be written", job_id)

    def _beat(self) -> None:
        while not self._stopping.wait(self._heartbeat_seconds):
            with self._lock:
                mine = list(self._mine)
            if not mine:
                continue
            try:
                with self._transaction() as db:
                    db.execute(
                        update(ServiceJobRow)
                        .where(ServiceJobRow.id.in_(mine))
                        .values(heartbeat_at=_now())
                    )
            except RegistryError:
                logger.exception("the heartbeat of %d job(s) could not be written", len(mine))

    def _forget_old(self, db: Session, now: dt.datetime) -> None:
        """Forget finished jobs beyond the newest ``keep`` (and mark stalled ones failed)."""
        db.execute(
            update(ServiceJobRow)
            .where(
                ServiceJobRow.status.in_(_UNFINISHED),
                ServiceJobRow.heartbeat_at < now - self._stale,
            )
            .values(status=JobStatus.failed.value, message=STOPPED_MESSAGE, finished_at=now)
        )
        cutoff = db.execute(
            select(ServiceJobRow.created_at)
            .order_by(ServiceJobRow.created_at.desc())
            .offset(self._keep)
            .limit(1)
        ).scalar()
        if cutoff is not None:
            db.execute(
                delete(ServiceJobRow).where(
                    ServiceJobRow.status.in_(_FINISHED), ServiceJobRow.created_at <= cutoff
                )
            )

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

        Raises
        ------
        RegistryError
            If the job cannot be written to the database (it is then not started).
        """
        now = _now()
        job = Job(
            id=uuid.uuid4().hex,
            kind=kind,
            owner=owner,
            status=JobStatus.queued,
            progress=0.0,
            created_at=now,
            label=_clip(label, _LABEL_CHARS),
            n_per_arm=n_per_arm,
            steps=steps,
        )
        with self._transaction() as db:
            db.add(ServiceJobRow(**job.model_dump(), heartbeat_at=now))
            db.flush()
            self._forget_old(db, now)
        with self._lock:
            self._mine[job.id] = self._pool.submit(self._run, job.id, work)
        return job

    def _run(self, job_id: str, work: Work) -> None:
        try:
            self._update(job_id, status=JobStatus.running.value, started_at=_now())

            def progress(fraction: float) -> None:
                self._update(job_id, progress=min(1.0, max(0.0, float(fraction))))

            try:
                result_id = work(progress)
            except ImmunopreciseError as exc:
                self._fail(job_id, str(exc))
            except Exception:
                error_id = uuid.uuid4().hex
                logger.exception("job %s failed (error id %s)", job_id, error_id)
                self._fail(
                    job_id, f"internal error (id {error_id}); the server log has the details"
                )
            else:
                self._update(
                    job_id,
                    status=JobStatus.done.value,
                    progress=1.0,
                    finished_at=_now(),
                    result_id=result_id,
                )
        finally:
            with self._lock:
                self._mine.pop(job_id, None)

    def _fail(self, job_id: str, message: str) -> None:
        self._update(
            job_id,
            status=JobStatus.failed.value,
            finished_at=_now(),
            message=_clip(message, _MESSAGE_CHARS),
        )

    def get(self, job_id: str) -> Job | None:
        """Return the job with this id, or ``None``.

        Parameters
        ----------
        job_id
            The id :meth:`submit` gave.

        Returns
        -------
        Job or None
        """
        row = self._first_row(select(ServiceJobRow).where(ServiceJobRow.id == job_id))
        return None if row is None else _job(row, _now() - self._stale)

    def jobs(self, *, kind: str | None = None, owner: str | None = None) -> list[Job]:
        """The jobs remembered, newest first; optionally of one kind or one owner.

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
        query = select(ServiceJobRow).order_by(
            ServiceJobRow.created_at.desc(), ServiceJobRow.id.desc()
        )
        if kind is not None:
            query = query.where(ServiceJobRow.kind == kind)
        if owner is not None:
            query = query.where(ServiceJobRow.owner == owner)
        with self._reading() as connection:
            rows = connection.execute(query).all()
        stale_before = _now() - self._stale
        return [_job(row, stale_before) for row in rows]

    def wait(self, job_id: str, *, timeout: float) -> Job | None:
        """Wait up to ``timeout`` seconds for a job to finish; returns its latest snapshot."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job is None or job.status in (JobStatus.done, JobStatus.failed):
                return job
            if time.monotonic() >= deadline:
                return job
            time.sleep(0.05)

    def shutdown(self) -> None:
        """Stop taking jobs; those not started are marked failed (running ones finish)."""
        self._stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            cancelled = [job_id for job_id, future in self._mine.items() if future.cancelled()]
            for job_id in cancelled:
                del self._mine[job_id]
        for job_id in cancelled:
            self._fail(job_id, "the server stopped before the job started; start it again")
