"""The registry's tables, declared with SQLAlchemy 2 (portable: SQLite and PostgreSQL).

Nothing in the patient-data tables is updated in place or deleted by immunoprecise: a changed
record is a new row in ``record_versions``, and every read or write of patient data adds a row to
``audit_log``. Three tables are the REST service's working state, shared by its worker processes
and updated in place: ``dashboard_sessions`` (logged-in browsers), ``service_jobs`` (virtual
trials running or recently run) and ``service_job_steps`` (the finished steps of unfinished
jobs); none of them holds patient data. The migrations in
``immunoprecise/registry/migrations`` create exactly these tables.

Examples
--------
>>> sorted(Base.metadata.tables)
['api_tokens', 'audit_log', 'dashboard_sessions', 'evaluations', 'patients', 'record_versions',
 'results', 'service_job_steps', 'service_jobs']
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "PATIENT_ID_FOLDED_INDEX",
    "ApiTokenRow",
    "AuditRow",
    "Base",
    "DashboardSessionRow",
    "EvaluationRow",
    "PatientRow",
    "RecordVersionRow",
    "ResultRow",
    "ServiceJobRow",
    "ServiceJobStepRow",
    "UTCDateTime",
]

PATIENT_ID_FOLDED_INDEX = "ix_patients_pseudonym_lower"
"""The index on ``lower(patients.pseudonym)`` (migration 0007)."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp stored in UTC, read back as an aware ``datetime`` in UTC.

    PostgreSQL keeps the zone (``timestamp with time zone``); SQLite keeps the UTC wall time, and
    the zone is restored on reading. Naive datetimes are refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone; use an aware one")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the registry tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PatientRow(Base):
    """One pseudonymous patient (the record's ``patient.id``, never a name)."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# Looks up patient ids differing only in case (``SYN-01`` beside ``syn-01``) without reading
# every stored id: ids are ASCII (``records.patient.PatientId``), where SQL ``lower`` is the
# case folding. Migration 0007.
Index(PATIENT_ID_FOLDED_INDEX, func.lower(PatientRow.pseudonym))


class RecordVersionRow(Base):
    """One version (1..n) of a patient's record, as its JSON, hash, source and author."""

    __tablename__ = "record_versions"
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict[str, Any]] = mapped_column(JSON())
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(512), nullable=True)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class EvaluationRow(Base):
    """One evaluation of one record version, with the software and knowledge base that made it."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_version_id: Mapped[int] = mapped_column(ForeignKey("record_versions.id"), index=True)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON())
    software_version: Mapped[str] = mapped_column(String(64))
    knowledge_base_sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ResultRow(Base):
    """A simulation or trial result (JSON payload and kind), linked to a patient or a cohort."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id"), nullable=True, index=True
    )
    cohort: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    payload: Mapped[Any] = mapped_column(JSON())
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """Who read or wrote which patient data, when (rows are only ever added)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "patient", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128), index=True)  # migration 0006
    action: Mapped[str] = mapped_column(String(32))
    patient: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object: Mapped[str] = mapped_column(String(256))


class ApiTokenRow(Base):
    """A bearer token of the REST service: only its SHA-256 is kept, never the token itself."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DashboardSessionRow(Base):
    """A logged-in dashboard browser: only the SHA-256 of its session cookie is kept."""

    __tablename__ = "dashboard_sessions"

    session_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class ServiceJobRow(Base):
    """A background job of the REST service (a virtual trial): its latest status and progress.

    ``heartbeat_at`` is renewed by the process running the job (``runner``: host, process id
    and a random part); a queued or running job whose heartbeat has stopped belongs to a process
    that is gone, and another process may take it over, rebuilding its work from ``request``
    (migration 0004), up to a limited number of ``starts``.
    """

    __tablename__ = "service_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    label: Mapped[str | None] = mapped_column(String(256), nullable=True)
    n_per_arm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    steps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    starts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    runner: Mapped[str | None] = mapped_column(String(128), nullable=True)


class ServiceJobStepRow(Base):
    """A finished step of an unfinished service job (a trial's chunk of patients), kept so that
    a process taking the job over continues from it instead of starting again (migration 0005).

    ``data`` is the step's output as the job's work wrote it; ``version`` is the immunoprecise
    version that wrote it (a step written by another version is not reused). A job's steps are
    deleted when it finishes, and with it.
    """

    __tablename__ = "service_job_steps"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("service_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
