"""Background jobs (virtual trials): run in a thread pool, their status kept in the registry.

A job runs in the server process that accepted it; its status and progress are written to the
registry database (table ``service_jobs``), so that any worker process of ``immunoprecise serve
--workers N`` answers a poll, and a job's status outlives a restart (its result, once done, is
in ``results``). A job is visible to the token that started it and to admins.

The process running a job renews its heartbeat every :data:`HEARTBEAT_SECONDS`. A queued or
running job whose heartbeat is older than :data:`STALE_SECONDS` belongs to a process that
stopped (a restart, a crash). A job submitted with its request and a kind this service knows
how to rebuild (:meth:`JobManager.resumable`) is then **taken over** by another live process (or
by the restarted one) and run again. Work made of steps (a trial's chunks of patients) saves
each finished step in the registry (:meth:`JobRun.save_step`, table ``service_job_steps``), and
the process taking it over continues from the last of them; trials are seeded, so the result
is the one the first run would have given. A job is started at most :data:`MAX_STARTS` times;
one whose process stopped every time, or one without a stored request, is reported ``failed``,
saying so, rather than ``running`` for ever.

Every write about a job — its status, progress, steps and finally its result (stored in the
same transaction as the job's ``done``, :meth:`JobRun.complete_in`) — is made only while this
process still runs it: a process that lost its job (stopped for longer than
:data:`STALE_SECONDS`, then woke up) changes nothing and stops at its next step.

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
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from immunoprecise.errors import ImmunopreciseError, RegistryError
from immunoprecise.registry.database import Database
from immunoprecise.registry.models import StoredResult
from immunoprecise.registry.schema import ServiceJobRow, ServiceJobStepRow

__all__ = [
    "HEARTBEAT_SECONDS",
    "MAX_STARTS",
    "STALE_SECONDS",
    "Job",
    "JobManager",
    "JobRun",
    "JobStatus",
    "Rebuild",
    "Work",
    "step_version",
]

HEARTBEAT_SECONDS = 10.0
"""How often the process running a job renews its heartbeat (seconds)."""
STALE_BEATS = 6
"""Heartbeats missed before a job's process counts as stopped."""
STALE_SECONDS = STALE_BEATS * HEARTBEAT_SECONDS
"""A queued or running job whose heartbeat is older than this (seconds) belongs to a process
that stopped: it is taken over by another process, or reported failed."""
MAX_STARTS = 2
"""Times a job is started at most: once, and once more by another process if the first one
stopped while running it (a job that stops its process every time is not retried for ever)."""
STOPPED_MESSAGE = (
    "the server process running this job stopped before it finished (a restart or a crash); "
    "start the trial again"
)
WAITING_MESSAGE = (
    "the server process running this job stopped; another server process will start it again"
)
RESUMED_MESSAGE = (
    "started again by another server process after the one running it stopped, continuing from "
    "its last finished step; the trial is seeded, so its result is the one the first run would "
    "have given"
)
_MESSAGE_CHARS = 2000
_LABEL_CHARS = 256

logger = logging.getLogger("immunoprecise.service")

Work = Callable[["JobRun"], int]
"""A job's work: called with its :class:`JobRun` (which, called with a fraction 0–1, reports
progress); returns the stored result id."""

Rebuild = Callable[[str, Mapping[str, Any]], Work]
"""Makes a job's work again from its owner and its stored request (to resume it elsewhere)."""


class _TakenOverError(Exception):
    """Raised in a job's thread when another process has taken the job over: stop working."""


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
    message: str | None = Field(
        default=None, description="Why the job failed, or why it was started again."
    )
    label: str | None = Field(
        default=None, description="What the job runs, in a few words (a trial's name)."
    )
    n_per_arm: int | None = Field(default=None, description="Virtual patients per arm.")
    steps: int | None = Field(
        default=None, description="Steps the progress counts (a trial's chunks), if known."
    )
    result_id: int | None = Field(default=None, description="Registry result id once done.")
    starts: int = Field(
        default=0,
        ge=0,
        description=f"Times the job was started (at most {MAX_STARTS}: once more by another "
        "server process if the one running it stopped).",
    )


def _database_failure(exc: ImmunopreciseError) -> bool:
    """Whether ``exc`` is the database failing (the registry words these ``registry <url>:
    <driver message and SQL>``), not a problem with the job's request."""
    return isinstance(exc, RegistryError) and str(exc).startswith("registry ")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_UNFINISHED = (JobStatus.queued.value, JobStatus.running.value)
_FINISHED = (JobStatus.done.value, JobStatus.failed.value)


_JOB_COLUMNS = [getattr(ServiceJobRow, name) for name in Job.model_fields]


def _resumable() -> ColumnElement[bool]:
    """SQL: the job has a stored request and may be started again."""
    return and_(ServiceJobRow.request.is_not(None), ServiceJobRow.starts < MAX_STARTS)


def _job(row: Any, stale_before: dt.datetime) -> Job:
    """The job of a :func:`_job_query` row; a stalled unfinished job is shown waiting to be
    taken over, or failed."""
    fields = {name: getattr(row, name) for name in Job.model_fields}
    if fields["status"] in _UNFINISHED and row.heartbeat_at < stale_before:
        if row.resumable:
            fields.update(status=JobStatus.queued, message=WAITING_MESSAGE)
        else:
            fields.update(status=JobStatus.failed, message=STOPPED_MESSAGE)
    return Job.model_validate(fields)


def _job_query() -> Any:
    return select(*_JOB_COLUMNS, ServiceJobRow.heartbeat_at, _resumable().label("resumable"))


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def step_version() -> str:
    """The version a saved step belongs to: immunoprecise's, and the trial patients' sampling
    scheme (chunks drawn by another scheme hold other patients)."""
    from immunoprecise import __version__
    from immunoprecise.dynamics.trials.patients import SAMPLING_SCHEME

    return f"{__version__}+sampling{SAMPLING_SCHEME}"


def _fenced(db: Session, job_id: str, runner: str, changes: dict[str, object]) -> bool:
    """Write a job's columns in ``db`` if ``runner`` still runs it (and renew its heartbeat)."""
    written = db.execute(
        update(ServiceJobRow)
        .where(ServiceJobRow.id == job_id, ServiceJobRow.runner == runner)
        .values({**changes, "heartbeat_at": _now()})
    )
    return bool(written.rowcount)  # type: ignore[attr-defined]


def _done(result_id: int) -> dict[str, object]:
    """A finished job's columns."""
    return {
        "status": JobStatus.done.value,
        "progress": 1.0,
        "finished_at": _now(),
        "result_id": result_id,
    }


def _forget_steps(db: Session, job_id: str) -> None:
    db.execute(delete(ServiceJobStepRow).where(ServiceJobStepRow.job_id == job_id))


class JobRun:
    """What a job's work is given: it reports progress and keeps the work's finished steps.

    Call it with the fraction of the work done (0–1). Work made of steps (a trial's chunks)
    saves each finished step's output with :meth:`save_step`; if the server process stops and
    another takes the job over, the new run finds them with :meth:`finished_steps` and
    :meth:`step` and computes only the rest. Work that stores a result stores it with
    :meth:`complete_in` in the same transaction, so a result is stored only by the process that
    still runs the job. Each of these stops the work (an internal exception) once another
    process has taken the job over.

    Parameters
    ----------
    manager
        The job manager running the job.
    job_id
        The job's id.

    Examples
    --------
    >>> def work(run: JobRun) -> int:
    ...     done = run.finished_steps()
    ...     for k in range(3):
    ...         if k not in done:
    ...             run.save_step(k, f"output of step {k}".encode())
    ...         run((k + 1) / 3)
    ...     return 7
    """

    def __init__(self, manager: JobManager, job_id: str) -> None:
        self._manager = manager
        self.job_id = job_id
        self.completed = False
        """Whether :meth:`complete_in` marked the job done."""

    def __call__(self, fraction: float) -> None:
        """Report the fraction of the work done (clipped to 0–1)."""
        if not self._manager._update(self.job_id, progress=min(1.0, max(0.0, float(fraction)))):
            raise _TakenOverError(self.job_id)

    def _saved_steps(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        """The criteria of this job's saved steps that this version of immunoprecise reuses
        (the output of another version's work is not)."""
        return (
            ServiceJobStepRow.job_id == self.job_id,
            ServiceJobStepRow.version == step_version(),
        )

    def finished_steps(self) -> set[int]:
        """The steps saved for this job (by this version of immunoprecise: the output of
        another version's work is not reused)."""
        query = select(ServiceJobStepRow.step).where(*self._saved_steps())
        with self._manager._reading() as connection:
            return set(connection.execute(query).scalars())

    def step(self, index: int) -> bytes:
        """The saved output of step ``index`` (one of :meth:`finished_steps`).

        Raises
        ------
        RegistryError
            If no such step is saved.
        """
        query = select(ServiceJobStepRow.data).where(
            *self._saved_steps(), ServiceJobStepRow.step == index
        )
        with self._manager._reading() as connection:
            data = connection.execute(query).scalar()
        if data is None:
            raise RegistryError(f"job {self.job_id}: step {index} is not saved")
        return bytes(data)

    def save_step(self, index: int, data: bytes) -> None:
        """Keep step ``index``'s output, while this process runs the job (a step that cannot
        be written is logged and only not kept).

        Parameters
        ----------
        index
            The step's number (0, 1, …).
        data
            Its output, as the work will read it back with :meth:`step`.
        """
        manager = self._manager
        try:
            with manager._transaction() as db:
                if not _fenced(db, self.job_id, manager.runner, {}):
                    raise _TakenOverError(self.job_id)
                db.execute(
                    delete(ServiceJobStepRow).where(
                        ServiceJobStepRow.job_id == self.job_id, ServiceJobStepRow.step == index
                    )
                )
                db.execute(
                    insert(ServiceJobStepRow).values(
                        job_id=self.job_id,
                        step=index,
                        version=step_version(),
                        data=data,
                        created_at=_now(),
                    )
                )
        except RegistryError:
            logger.exception("job %s: step %d could not be saved", self.job_id, index)

    def complete_in(self, session: Session, result: StoredResult) -> None:
        """Mark the job done with its result in ``session``'s transaction — the one that
        stores the result — and forget its steps: the ``before_commit`` hook of
        :meth:`~immunoprecise.registry.Registry.save_result`.

        Parameters
        ----------
        session
            The transaction storing the result.
        result
            The result being stored.

        Raises
        ------
        _TakenOverError
            If another process has taken the job over: the transaction is then rolled back,
            and the result is not stored twice.
        """
        if not _fenced(session, self.job_id, self._manager.runner, _done(result.id)):
            raise _TakenOverError(self.job_id)
        _forget_steps(session, self.job_id)
        self.completed = True


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
        How often this process renews the heartbeat of its unfinished jobs and looks for
        stalled jobs to take over.
    stale_seconds
        After how long without a heartbeat an unfinished job's process counts as stopped
        (default :data:`STALE_BEATS` heartbeats).
    """

    what = "jobs in"

    def __init__(
        self,
        engine: Engine,
        max_workers: int = 2,
        *,
        keep: int = 1000,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stale_seconds: float | None = None,
    ) -> None:
        super().__init__(engine)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ip-job")
        self._keep = keep
        stale = STALE_BEATS * heartbeat_seconds if stale_seconds is None else stale_seconds
        self._stale = dt.timedelta(seconds=stale)
        self.runner = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """Who runs this manager's jobs (host, process id, a random part), kept with each job."""
        self._rebuilders: dict[str, Rebuild] = {}
        self._mine: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._heartbeat_seconds = heartbeat_seconds
        self._heart = threading.Thread(target=self._beat, name="ip-job-heartbeat", daemon=True)
        self._heart.start()

    def resumable(self, kind: str, rebuild: Rebuild) -> None:
        """Let this process take over stalled jobs of ``kind``, rebuilding their work.

        Parameters
        ----------
        kind
            The job kind given to :meth:`submit`.
        rebuild
            Called with the job's owner and the ``request`` given to :meth:`submit`; returns
            the work to run (see :data:`Rebuild`).
        """
        with self._lock:
            self._rebuilders[kind] = rebuild

    def _update(self, job_id: str, *, finished: bool = False, **changes: object) -> bool:
        """Write a job's status if this process still runs it; ``False`` if another took it.
        A ``finished`` job's saved steps are forgotten in the same transaction."""
        try:
            with self._transaction() as db:
                written = _fenced(db, job_id, self.runner, changes)
                if written and finished:
                    _forget_steps(db, job_id)
        except RegistryError:
            logger.exception("job %s: its status could not be written", job_id)
            return True
        return written

    def _beat(self) -> None:
        """Renew the heartbeat of this process's unfinished jobs and look for stalled jobs to
        take over. Once the process stops taking jobs it beats on for those still running here
        until they finish: silent, they would look stalled, and another process would take them
        over and compute them again."""
        while True:
            if self._stopping.is_set():
                time.sleep(self._heartbeat_seconds)
            else:
                self._stopping.wait(self._heartbeat_seconds)
            with self._lock:
                mine = list(self._mine)
            if self._stopping.is_set() and not mine:
                return
            try:
                if mine:
                    with self._transaction() as db:
                        db.execute(
                            update(ServiceJobRow)
                            .where(ServiceJobRow.id.in_(mine), ServiceJobRow.runner == self.runner)
                            .values(heartbeat_at=_now())
                        )
                self._take_over()
            except RegistryError:
                logger.exception(
                    "the heartbeat of %d job(s), or a look for stalled jobs, failed", len(mine)
                )

    def _take_over(self) -> None:
        """Claim the stalled jobs this process can rebuild and queue them here."""
        with self._lock:
            kinds = list(self._rebuilders)
        if not kinds or self._stopping.is_set():
            return
        stale_before = _now() - self._stale
        stalled = and_(
            ServiceJobRow.status.in_(_UNFINISHED),
            ServiceJobRow.heartbeat_at < stale_before,
            ServiceJobRow.kind.in_(kinds),
            _resumable(),
        )
        query = select(
            ServiceJobRow.id, ServiceJobRow.kind, ServiceJobRow.owner, ServiceJobRow.request
        ).where(stalled)
        with self._reading() as connection:
            found = connection.execute(query).all()
        for job_id, kind, owner, request in found:  # a job's request never changes
            # one conditional update decides between processes claiming the same job
            with self._transaction() as db:
                claimed = db.execute(
                    update(ServiceJobRow)
                    .where(ServiceJobRow.id == job_id, stalled)
                    .values(
                        runner=self.runner,
                        heartbeat_at=_now(),
                        status=JobStatus.queued.value,
                        progress=0.0,
                        message=RESUMED_MESSAGE,
                    )
                ).rowcount  # type: ignore[attr-defined]
            if not claimed:
                continue
            logger.warning("job %s: taken over from a server process that stopped", job_id)
            try:
                work = self._rebuilders[kind](owner, request or {})
            except Exception as exc:  # a request this version cannot run again
                self._fail(job_id, f"could not be started again: {exc}")
                continue
            try:
                self._queue(job_id, work)
            except RuntimeError:  # this process began to stop meanwhile: leave it to another
                logger.warning("job %s: not started here, this server process is stopping", job_id)
                return

    def _queue(self, job_id: str, work: Work) -> None:
        with self._lock:
            self._mine[job_id] = self._pool.submit(self._run, job_id, work)

    def _forget_old(self, db: Session, now: dt.datetime) -> None:
        """Forget finished jobs beyond the newest ``keep`` and the saved steps of finished jobs;
        mark stalled jobs that cannot be taken over failed."""
        db.execute(
            update(ServiceJobRow)
            .where(
                ServiceJobRow.status.in_(_UNFINISHED),
                ServiceJobRow.heartbeat_at < now - self._stale,
                ~_resumable(),
            )
            .values(status=JobStatus.failed.value, message=STOPPED_MESSAGE, finished_at=now)
        )
        finished = select(ServiceJobRow.id).where(ServiceJobRow.status.in_(_FINISHED))
        db.execute(delete(ServiceJobStepRow).where(ServiceJobStepRow.job_id.in_(finished)))
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
        request: Mapping[str, Any] | None = None,
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
        request
            What the job was asked to do, as JSON: stored so that another process can rebuild
            the work (:meth:`resumable`) if this one stops. ``None``: the job is not resumed.

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
        stored = None if request is None else dict(request)
        with self._transaction() as db:
            db.add(
                ServiceJobRow(
                    **job.model_dump(), heartbeat_at=now, runner=self.runner, request=stored
                )
            )
            db.flush()
            self._forget_old(db, now)
        self._queue(job.id, work)
        return job

    def _run(self, job_id: str, work: Work) -> None:
        try:
            if not self._update(
                job_id,
                status=JobStatus.running.value,
                started_at=_now(),
                starts=ServiceJobRow.starts + 1,
            ):
                return
            run = JobRun(self, job_id)
            try:
                result_id = work(run)
            except _TakenOverError:
                logger.warning("job %s: stopped here, another server process took it", job_id)
            except ImmunopreciseError as exc:
                if _database_failure(exc):
                    # the database failing: its URL and SQL stay in the server log, as for a 500
                    self._fail_internal(job_id)
                else:
                    self._fail(job_id, str(exc))
            except Exception:
                self._fail_internal(job_id)
            else:
                if not run.completed:
                    self._update(job_id, finished=True, **_done(result_id))
        finally:
            with self._lock:
                self._mine.pop(job_id, None)

    def _fail_internal(self, job_id: str) -> None:
        """Fail the job on an unexpected error (the exception being handled): its details go to
        the server log under an error id, and the job's message names only the id."""
        error_id = uuid.uuid4().hex
        logger.exception("job %s failed (error id %s)", job_id, error_id)
        self._fail(job_id, f"internal error (id {error_id}); the server log has the details")

    def _fail(self, job_id: str, message: str) -> None:
        self._update(
            job_id,
            finished=True,
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
        row = self._first_row(_job_query().where(ServiceJobRow.id == job_id))
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
        query = _job_query().order_by(ServiceJobRow.created_at.desc(), ServiceJobRow.id.desc())
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
        """Stop taking jobs (running ones finish). Jobs queued here but not started are handed
        to the other server processes when they can be rebuilt, else marked failed."""
        self._stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            cancelled = [job_id for job_id, future in self._mine.items() if future.cancelled()]
            for job_id in cancelled:
                del self._mine[job_id]
        if not cancelled:
            return
        gone = _now() - self._stale - dt.timedelta(seconds=1)
        try:
            with self._transaction() as db:
                db.execute(  # stalled at once: the next process to look takes them over
                    update(ServiceJobRow)
                    .where(
                        ServiceJobRow.id.in_(cancelled),
                        ServiceJobRow.runner == self.runner,
                        ServiceJobRow.request.is_not(None),
                    )
                    .values(heartbeat_at=gone)
                )
                db.execute(
                    update(ServiceJobRow)
                    .where(
                        ServiceJobRow.id.in_(cancelled),
                        ServiceJobRow.runner == self.runner,
                        ServiceJobRow.request.is_(None),
                    )
                    .values(
                        status=JobStatus.failed.value,
                        finished_at=_now(),
                        message="the server stopped before the job started; start it again",
                    )
                )
        except RegistryError:
            logger.exception("%d queued job(s) could not be handed over", len(cancelled))
