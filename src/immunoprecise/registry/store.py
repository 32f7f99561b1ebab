"""The registry: store patient records (versioned), evaluations and results, with an audit log."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Select, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from immunoprecise.errors import FieldProblem, RegistryError
from immunoprecise.evaluation import Evaluation
from immunoprecise.records import PatientRecord
from immunoprecise.records.digest import canonical_json, record_json_and_sha256, record_sha256
from immunoprecise.records.validation import field_problems
from immunoprecise.registry.connection import sqlite_path
from immunoprecise.registry.database import Database, open_migrated_engine
from immunoprecise.registry.models import (
    AuditAction,
    AuditEntry,
    AuditPage,
    AuditQuery,
    EvaluationPage,
    RecordVersion,
    StoredEvaluation,
    StoredEvaluationError,
    StoredRecordError,
    StoredResult,
    VersionSummary,
)
from immunoprecise.registry.schema import (
    AuditRow,
    EvaluationRow,
    PatientRow,
    RecordVersionRow,
    ResultRow,
)

__all__ = ["Registry", "canonical_json", "record_sha256"]


_WRITE_ATTEMPTS = 8
"""How often a batch of records is tried when it collides with a concurrent writer."""

# SQLSTATEs (PostgreSQL) and result codes (SQLite) of a collision with a concurrent transaction,
# after which the whole transaction is rolled back and may simply run again:
# 23505 unique_violation (two writers adding the same new patient), 40001 serialization_failure,
# 40P01 deadlock_detected (two batches locking the same patients in different orders);
# SQLITE_BUSY / SQLITE_LOCKED (another writer held the lock longer than the busy timeout) and
# SQLITE_CONSTRAINT_UNIQUE. https://www.postgresql.org/docs/current/errcodes-appendix.html,
# https://www.sqlite.org/rescode.html
_RETRY_SQLSTATES = frozenset({"23505", "40001", "40P01"})
_RETRY_SQLITE_CODES = frozenset(
    {"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED", "SQLITE_CONSTRAINT_UNIQUE"}
)


_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database file (write-ahead log, its index, rollback journal)."""

_LOCK_IDS_IN_ANY_CASE = sql_text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(id, 0))) FROM "
    '(SELECT id FROM unnest(CAST(:ids AS text[])) AS ids (id) ORDER BY id COLLATE "C") AS sorted'
)
"""PostgreSQL: lock each of ``:ids`` (lower-case patient ids) until the transaction ends, in
code point order (see :meth:`Registry._refuse_ids_in_another_case`)."""

_LOCK_CHUNK = 1000
"""Patients locked or looked up per statement by :meth:`Registry._lock_patients` and the check of
ids differing only in case (bounds the IN list)."""

_INSERT_BATCH = 500
"""Records inserted per flush by :meth:`Registry._add_batch` (one multi-row INSERT per table)."""


def _is_write_conflict(exc: SQLAlchemyError) -> bool:
    """Whether ``exc`` is a collision with a concurrent writer (worth running the batch again)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg
    if sqlstate is not None:
        return str(sqlstate) in _RETRY_SQLSTATES
    name = getattr(orig, "sqlite_errorname", None)  # sqlite3 (Python 3.11+)
    return name in _RETRY_SQLITE_CODES or "database is locked" in str(orig)


def _is_database_failure(exc: SQLAlchemyError) -> bool:
    """Whether ``exc`` is the database failing rather than the record: any driver error but a
    refused value (``IntegrityError``, ``DataError``), so an unreachable server, a lock held
    too long or a missing table (``OperationalError`` in SQLite, ``ProgrammingError`` in
    PostgreSQL) read alike. A value the driver cannot send (not a ``DBAPIError``) is the
    record's."""
    if _is_write_conflict(exc):
        return True
    return isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError | DataError)


def _folded(text: str) -> str:
    """``text`` for caseless comparison: Unicode case folding of its NFC form, composed again
    (``"Straße"`` and ``"STRASSE"`` both give ``"strasse"``, the Kelvin sign ``"K"`` gives
    ``"k"``), the same in every locale."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def latest_versions_query(patients: Sequence[int] | None = None) -> Select[RecordVersionRow, str]:
    """The latest version of every patient's record, with the patient id: what an export writes
    (:meth:`Registry.export`, :func:`~immunoprecise.registry.exporting.export_fhir`); of the
    patients whose row ids are ``patients`` only, when given (an import's look-up)."""
    newest = select(RecordVersionRow.patient_id, func.max(RecordVersionRow.version).label("v"))
    if patients is not None:
        newest = newest.where(RecordVersionRow.patient_id.in_(patients))
    latest = newest.group_by(RecordVersionRow.patient_id).subquery()
    return (
        select(RecordVersionRow, PatientRow.pseudonym)
        .join(
            latest,
            (RecordVersionRow.patient_id == latest.c.patient_id)
            & (RecordVersionRow.version == latest.c.v),
        )
        .join(PatientRow, RecordVersionRow.patient_id == PatientRow.id)
    )


def storable_text(text: str) -> str:
    r"""``text`` with undecodable bytes written as ``\xNN``, so that a database can store it.

    A file name that is not UTF-8 (``Müller.json`` written in Latin-1 by an older system)
    reaches Python with its bytes kept as lone surrogates, which no database driver encodes.

    Examples
    --------
    >>> storable_text("M\udcfcller.json")
    'M\\xfcller.json'
    >>> storable_text("Müller.json")
    'Müller.json'
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that does not stand for a byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _audit_filters(
    statement: Select[Any], query: AuditQuery, patient_id: str | None, actor: str | None
) -> Select[Any]:
    """``statement`` (a SELECT from the audit log) with the criteria of ``query`` and the
    ``patient_id`` / ``actor`` given beside it (all must hold); no order, limit or offset."""
    for pid in (patient_id, query.patient_id):
        if pid is not None:
            statement = statement.where(AuditRow.patient == pid)
    for who in (actor, query.actor):
        if who is not None:
            statement = statement.where(AuditRow.actor == who)
    if query.actions:
        statement = statement.where(AuditRow.action.in_([a.value for a in query.actions]))
    start, end = query.start(), query.end()
    if start is not None:
        statement = statement.where(AuditRow.at >= start)
    if end is not None:
        stamp, kept = end
        statement = statement.where(AuditRow.at <= stamp if kept else AuditRow.at < stamp)
    return statement


def _audit_entries(
    session: Session, query: AuditQuery, patient_id: str | None, actor: str | None
) -> list[AuditEntry]:
    """The page of audit entries that ``query`` (and ``patient_id`` / ``actor``) select."""
    statement = _audit_filters(select(AuditRow), query, patient_id, actor)
    statement = statement.order_by(AuditRow.id.desc() if query.newest_first else AuditRow.id)
    statement = statement.offset(query.offset or None).limit(query.limit)
    return [
        AuditEntry(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=AuditAction(r.action),
            patient_id=r.patient,
            object=r.object,
        )
        for r in session.scalars(statement)
    ]


def _audit_total(
    session: Session, query: AuditQuery, patient_id: str | None, actor: str | None
) -> int:
    """How many audit entries match ``query`` (and ``patient_id`` / ``actor``), in all."""
    statement = _audit_filters(select(func.count()).select_from(AuditRow), query, patient_id, actor)
    return int(session.scalar(statement) or 0)


def _version_summary(row: RecordVersionRow, patient_id: str) -> VersionSummary:
    """A stored version's metadata, with the fields of its record that no longer validate."""
    problems: list[FieldProblem] = []
    try:
        PatientRecord.model_validate(row.record)
    except PydanticValidationError as exc:
        problems = field_problems(exc, PatientRecord)
    return VersionSummary(
        patient_id=patient_id,
        version=row.version,
        sha256=row.sha256,
        source=row.source,
        actor=row.actor,
        created_at=row.created_at,
        invalid_fields=tuple(p.field for p in problems),
        problems=tuple(str(p) for p in problems),
    )


def _case_hint(patient_id: str, stored: Iterable[str]) -> str:
    """A hint for a patient id not found: the stored ids that differ from it only in case
    (compared after Unicode case folding, as :meth:`Registry.patients` searches), or ``""``.

    Examples
    --------
    >>> _case_hint("pt-001", ["PT-001", "PT-002"])
    "; patient ids are case-sensitive, and the registry holds 'PT-001'"
    >>> _case_hint("PT-009", ["PT-001"])
    ''
    """
    wanted = _folded(patient_id)
    close = sorted(pid for pid in stored if pid != patient_id and _folded(pid) == wanted)
    if not close:
        return ""
    shown = ", ".join(repr(pid) for pid in close[:5]) + (", …" if len(close) > 5 else "")
    return f"; patient ids are case-sensitive, and the registry holds {shown}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_actor(actor: str) -> str:
    name = actor.strip() if isinstance(actor, str) else ""
    if not name or len(name) > 128:
        raise RegistryError(
            f"actor {actor!r}: give who is acting (1–128 characters), e.g. a user name"
        )
    return name


def _check_cohort(cohort: str) -> None:
    if not 0 < len(cohort) <= 128:
        raise RegistryError(f"cohort {cohort!r}: give 1–128 characters")


def _to_json(payload: Any, what: str) -> Any:
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    try:
        return json.loads(canonical_json(payload))
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{what} cannot be stored as JSON: {exc}") from None


@dataclass(frozen=True)
class _Added:
    """A record added inside a batch, with what happened to it."""

    version: RecordVersion
    action: AuditAction


@dataclass(frozen=True)
class _BatchItem:
    """A record to add, the label that names it in errors (``row 3 (P003)``), its source and
    what reading it left out or noted (a FHIR Bundle's resources without a record field)."""

    label: str
    record: PatientRecord
    source: str | None
    notes: tuple[str, ...] = ()


class Registry(Database):
    """A registry database: versioned patient records, evaluations, results and an audit log.

    Open one with :meth:`Registry.open`; close it (or use it as a context manager) when done.
    Every method that reads or writes patient data takes the ``actor`` and writes the audit row
    in the same transaction. Nothing is updated in place or deleted.

    Parameters
    ----------
    engine
        An engine on a database migrated to the latest revision (:meth:`open` checks this).

    Examples
    --------
    >>> import tempfile, pathlib, immunoprecise as ip
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
    >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    >>> with Registry.open(url, create=True) as registry:
    ...     stored = registry.add_record(record, actor="ann")
    ...     again = registry.add_record(record, actor="ann")
    ...     back = registry.record(record.patient_id, actor="bob")
    ...     (stored.version, again.version, back == record)
    (1, 1, True)
    """

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = False) -> Registry:
        """Open the registry at ``url`` (else ``$IMMUNOPRECISE_DB``, else the default file).

        Parameters
        ----------
        url
            A SQLAlchemy URL or SQLite file path; see :func:`~immunoprecise.registry.resolve_url`.
        create
            Create the database if needed and migrate it to the latest revision. Without it, a
            database that is missing or not at the latest revision is refused.

        Returns
        -------
        Registry

        Raises
        ------
        RegistryError
            If the database cannot be reached, or its schema is not at the latest migration
            (the message says to run ``immunoprecise db upgrade``).
        """
        return cls(open_migrated_engine(url, create=create))

    def __repr__(self) -> str:
        return f"Registry({self.url!r})"

    # -- internals -------------------------------------------------------------------------

    @contextmanager
    def _write_transaction(self) -> Iterator[Session]:
        """A session in a transaction that adds record versions, serialized per patient.

        A new version's number is the latest one plus 1, so reading the latest version and
        inserting the next one must not interleave with another writer of the same patient
        (else both compute the same number and one fails on ``UNIQUE(patient_id, version)``).

        * SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first read, so
          writers queue on the busy timeout instead of reading a version number that another
          connection is about to take. (Python's sqlite3 module would otherwise only begin the
          transaction at the first INSERT, after the read; and a deferred transaction that reads
          then writes cannot wait for the lock: https://www.sqlite.org/lang_transaction.html.)
        * PostgreSQL: :meth:`_lock_patients` creates the missing patients and locks every
          patient's row with ``SELECT ... FOR UPDATE`` before the first read; at READ COMMITTED
          the next statement then sees the version the previous lock holder committed. A
          deadlock or a serialization failure that happens anyway makes :meth:`_add_batch` run
          the batch again (see :func:`_is_write_conflict`).
        """
        with self._sessions.begin() as session:
            if self._engine.dialect.name == "sqlite":
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def _lock_patients(self, session: Session, patient_ids: Sequence[str]) -> None:
        """Make sure these patients exist and lock their rows, all in one (id) order.

        Batches that share patients but list them in different orders would otherwise lock them
        in different orders, one by one, and deadlock; and two batches creating the same new
        patient would collide on its unique pseudonym. So on PostgreSQL the missing patients are
        first inserted (``INSERT ... ON CONFLICT DO NOTHING``: a concurrent insert of the same
        pseudonym is waited for, then skipped), then every patient's row is locked with
        ``SELECT ... FOR UPDATE``, both sorted by pseudonym, which gives every writer the same
        lock order: https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-DEADLOCKS
        and https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT.
        Not needed on SQLite, where ``BEGIN IMMEDIATE`` already holds the whole database.
        """
        dialect = self._engine.dialect.name
        if dialect == "sqlite":
            return
        ordered = sorted(set(patient_ids))  # code point order = UTF-8 byte order = COLLATE "C"
        chunks = [ordered[i : i + _LOCK_CHUNK] for i in range(0, len(ordered), _LOCK_CHUNK)]
        if dialect == "postgresql":
            now = _now()
            for chunk in chunks:
                session.execute(
                    postgresql_insert(PatientRow)
                    .values([{"pseudonym": pid, "created_at": now} for pid in chunk])
                    .on_conflict_do_nothing(index_elements=[PatientRow.pseudonym])
                )
        for chunk in chunks:
            session.execute(
                select(PatientRow.id)
                .where(PatientRow.pseudonym.in_(chunk))
                .order_by(PatientRow.pseudonym.collate("C"))
                .with_for_update()
            ).all()

    @staticmethod
    def _audit(
        session: Session,
        actor: str,
        action: AuditAction,
        patient: str | None,
        obj: str,
    ) -> None:
        session.add(Registry._audit_row(actor, action, patient, obj))

    @staticmethod
    def _patient(session: Session, patient_id: str) -> PatientRow:
        row = session.scalars(select(PatientRow).where(PatientRow.pseudonym == patient_id)).first()
        if row is None:
            raise RegistryError(
                f"no patient {patient_id!r} in the registry"
                + _case_hint(patient_id, session.scalars(select(PatientRow.pseudonym)))
            )
        return row

    @staticmethod
    def _latest(session: Session, patient: PatientRow) -> RecordVersionRow | None:
        return session.scalars(
            select(RecordVersionRow)
            .where(RecordVersionRow.patient_id == patient.id)
            .order_by(RecordVersionRow.version.desc())
            .limit(1)
        ).first()

    @staticmethod
    def _version_row(
        session: Session, patient: PatientRow, version: int | None
    ) -> RecordVersionRow:
        if version is None:
            row = Registry._latest(session, patient)
        else:
            row = session.scalars(
                select(RecordVersionRow).where(
                    RecordVersionRow.patient_id == patient.id, RecordVersionRow.version == version
                )
            ).first()
        if row is None:
            latest = Registry._latest(session, patient)
            n = 0 if latest is None else latest.version
            raise RegistryError(
                f"patient {patient.pseudonym!r} has no record version {version}; "
                f"versions are 1 to {n}"
            )
        return row

    @staticmethod
    def _version_model(
        row: RecordVersionRow, patient_id: str, in_hand: PatientRecord | None = None
    ) -> RecordVersion:
        """The stored version ``row``; ``in_hand``: a record with the same hash, given back
        when the stored one no longer validates (a record submitted again as it is stored).

        Raises
        ------
        StoredRecordError
            When the stored record no longer validates against the record model.
        """
        try:
            record = PatientRecord.model_validate(row.record)
        except PydanticValidationError as exc:
            if in_hand is None:
                problems = field_problems(exc, PatientRecord)
                raise StoredRecordError(patient_id, row.version, problems) from None
            record = in_hand
        return Registry._version_in_hand(row, patient_id, record)

    @staticmethod
    def _refuse_ids_in_another_case(session: Session, items: Sequence[_BatchItem]) -> None:
        """Refuse a batch that would add a patient whose id differs only in case from a stored
        patient's or from another new patient's in the batch (``syn-01`` beside ``SYN-01``).

        Ids are case-sensitive, so such a record would start a second patient; in practice it
        is one patient's id typed another way, and the registry deletes nothing, so it is
        refused before anything is stored. Patients already stored in two cases (before this
        check) are left as they are: only new patients are checked.
        """
        labels: dict[str, str] = {}  # each patient's first item, in batch order
        for item in items:
            labels.setdefault(item.record.patient_id, item.label)
        # the stored ids equal to a batch id but for case, looked up through the index on
        # lower(pseudonym) (migration 0007): ids are ASCII, where lower() is case folding
        lowered = sorted({pid.lower() for pid in labels})
        if session.get_bind().dialect.name == "postgresql":
            # one transaction-level advisory lock per lower-case id, taken in one order by every
            # writer, so that a concurrent batch adding "A1" while this one adds "a1" waits for
            # this one to commit, then sees "a1" (at READ COMMITTED each statement sees what was
            # committed before it) and is refused; without it both passed the check unseen by
            # each other. https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
            session.execute(_LOCK_IDS_IN_ANY_CASE, {"ids": lowered})
        stored: set[str] = set()
        for start in range(0, len(lowered), _LOCK_CHUNK):
            chunk = lowered[start : start + _LOCK_CHUNK]
            query = select(PatientRow.pseudonym).where(func.lower(PatientRow.pseudonym).in_(chunk))
            stored.update(session.scalars(query))
        if all(pid in stored for pid in labels):
            return
        seen: dict[str, set[str]] = {}
        for pid in stored:
            seen.setdefault(_folded(pid), set()).add(pid)
        for pid, label in labels.items():  # a later id is named, beside the earlier one
            others = sorted(seen.get(_folded(pid), set()) - {pid})
            if others and pid not in stored:
                where = ", ".join(
                    f"{other!r} ({'stored' if other in stored else labels[other]})"
                    for other in others
                )
                raise RegistryError(
                    f"{label}: patient id {pid!r} differs only in case from {where}; patient "
                    "ids are case-sensitive, so this record would start another patient: write "
                    "the id as the other record does to add a version of that patient, or give "
                    "a different patient an id that differs in more than case; nothing was stored"
                )
            seen.setdefault(_folded(pid), set()).add(pid)

    def _already_stored(
        self, session: Session, items: Sequence[_BatchItem]
    ) -> dict[int, RecordVersionRow]:
        """The items of a batch that repeat a patient's latest stored versions, by position.

        A patient with several records in one batch (one file per version, imported together)
        has them stored as consecutive versions; importing the same files again must store
        nothing, although each record in turn differs from the one stored just before it. So
        the longest run of the patient's records at the start of the batch that equals the
        last versions stored, in order, is taken as already stored; the records after it
        are added as usual. (A patient with one record in the batch needs no look-up: it is
        unchanged when it equals the latest version, see :meth:`_add`.)
        """
        positions: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            positions.setdefault(item.record.patient_id, []).append(i)
        found: dict[int, RecordVersionRow] = {}
        for pid, where in positions.items():
            if len(where) < 2:
                continue
            tail = session.scalars(
                select(RecordVersionRow)
                .join(PatientRow, RecordVersionRow.patient_id == PatientRow.id)
                .where(PatientRow.pseudonym == pid)
                .order_by(RecordVersionRow.version.desc())
                .limit(len(where))
            ).all()[::-1]
            digests = [record_sha256(items[i].record) for i in where]
            for k in range(len(tail), 0, -1):
                if digests[:k] == [row.sha256 for row in tail[-k:]]:
                    found.update(zip(where[:k], tail[-k:], strict=True))
                    break
        return found

    def _add(
        self,
        session: Session,
        item: _BatchItem,
        actor: str,
        stored: RecordVersionRow | None = None,
    ) -> _Added:
        """Add one record of a batch; ``stored``: the version it repeats (see
        :meth:`_already_stored`), which is then audited as unchanged and nothing is added."""
        record = item.record
        pid = record.patient_id
        if stored is not None:
            self._audit(
                session, actor, AuditAction.unchanged, pid, f"record_version {stored.version}"
            )
            return _Added(self._version_model(stored, pid, record), AuditAction.unchanged)
        data, digest = record_json_and_sha256(record)
        patient = session.scalars(
            select(PatientRow).where(PatientRow.pseudonym == pid).with_for_update()
        ).first()  # FOR UPDATE: see _write_transaction (SQLite ignores it: it holds its lock)
        latest = None if patient is None else self._latest(session, patient)
        if patient is not None and latest is not None and latest.sha256 == digest:
            self._audit(
                session, actor, AuditAction.unchanged, pid, f"record_version {latest.version}"
            )
            return _Added(self._version_model(latest, pid, record), AuditAction.unchanged)
        action = AuditAction.update if latest is not None else AuditAction.create
        if patient is None:
            patient = PatientRow(pseudonym=pid, created_at=_now())
            session.add(patient)
            session.flush()
        row = self._next_version_row(item, data, digest, patient, latest, actor)
        session.add(row)
        self._audit(session, actor, action, pid, f"record_version {row.version}")
        session.flush()
        return _Added(self._version_model(row, pid), action)

    def _store_in_batches(
        self,
        session: Session,
        items: Sequence[_BatchItem],
        actor: str,
        repeated: Mapping[int, RecordVersionRow],
        batch_size: int,
        stored: Callable[[int, int], None] | None,
    ) -> list[_Added]:
        """Add the records of a batch ``batch_size`` at a time: one look-up of every patient and
        latest version for the whole batch, then one flush (multi-row INSERTs) per
        ``batch_size`` records. Gives the versions, audit rows and actions that :meth:`_add`
        gives record by record, in the same order. A record is not validated again once
        stored: the stored JSON is the canonical dump of the validated record in hand, which is
        given back."""
        ids = sorted({item.record.patient_id for item in items})
        patients: dict[str, PatientRow] = {}
        latest: dict[str, RecordVersionRow] = {}
        for start in range(0, len(ids), _LOCK_CHUNK):
            chunk = ids[start : start + _LOCK_CHUNK]
            # FOR UPDATE: see _write_transaction (SQLite ignores it: it holds its lock)
            found = session.scalars(
                select(PatientRow).where(PatientRow.pseudonym.in_(chunk)).with_for_update()
            ).all()
            patients.update((p.pseudonym, p) for p in found)
            rows = session.execute(latest_versions_query([p.id for p in found])).all()
            latest.update((pid, row) for row, pid in rows)
        added: list[_Added] = []
        for start in range(0, len(items), batch_size):
            chunk_items = items[start : start + batch_size]
            fresh = [
                PatientRow(pseudonym=pid, created_at=_now())
                for pid in dict.fromkeys(i.record.patient_id for i in chunk_items)
                if pid not in patients
            ]
            if fresh:
                session.add_all(fresh)
                session.flush()  # their ids, which the versions refer to
                patients.update((p.pseudonym, p) for p in fresh)
            new_rows: list[Any] = []
            for i, item in enumerate(chunk_items, start=start):
                record = item.record
                pid = record.patient_id
                before = repeated.get(i)
                if before is not None:
                    new_rows.append(
                        self._audit_row(
                            actor, AuditAction.unchanged, pid, f"record_version {before.version}"
                        )
                    )
                    added.append(
                        _Added(self._version_in_hand(before, pid, record), AuditAction.unchanged)
                    )
                    continue
                data, digest = record_json_and_sha256(record)
                last = latest.get(pid)
                if last is not None and last.sha256 == digest:
                    new_rows.append(
                        self._audit_row(
                            actor, AuditAction.unchanged, pid, f"record_version {last.version}"
                        )
                    )
                    added.append(
                        _Added(self._version_in_hand(last, pid, record), AuditAction.unchanged)
                    )
                    continue
                action = AuditAction.update if last is not None else AuditAction.create
                row = self._next_version_row(item, data, digest, patients[pid], last, actor)
                latest[pid] = row
                new_rows += [
                    row,
                    self._audit_row(actor, action, pid, f"record_version {row.version}"),
                ]
                added.append(_Added(self._version_in_hand(row, pid, record), action))
            session.add_all(new_rows)
            session.flush()
            if stored is not None:
                stored(len(added), len(items))
        return added

    @staticmethod
    def _audit_row(actor: str, action: AuditAction, patient: str | None, obj: str) -> AuditRow:
        """The audit row of ``action`` on ``obj`` (``record_version 3``), made now."""
        return AuditRow(at=_now(), actor=actor, action=action.value, patient=patient, object=obj)

    @staticmethod
    def _next_version_row(
        item: _BatchItem,
        data: dict[str, Any],
        digest: str,
        patient: PatientRow,
        last: RecordVersionRow | None,
        actor: str,
    ) -> RecordVersionRow:
        """The row of ``item``'s record (its JSON ``data`` and SHA-256 ``digest``) as the next
        version of ``patient`` after ``last``."""
        return RecordVersionRow(
            patient_id=patient.id,
            version=1 if last is None else last.version + 1,
            record=data,
            sha256=digest,
            source=None if item.source is None else storable_text(item.source),
            actor=actor,
            created_at=_now(),
        )

    @staticmethod
    def _version_in_hand(
        row: RecordVersionRow, patient_id: str, record: PatientRecord
    ) -> RecordVersion:
        """The version ``row`` holding ``record``: the stored JSON read back and validated
        (:meth:`_version_model`), or the record in hand whose canonical JSON has the row's
        SHA-256, which is not validated again."""
        return RecordVersion(
            patient_id=patient_id,
            version=row.version,
            sha256=row.sha256,
            source=row.source,
            actor=row.actor,
            created_at=row.created_at,
            record=record,
        )

    def _add_batch(
        self,
        items: Sequence[_BatchItem],
        *,
        actor: str,
        and_then: Callable[[Session, list[_Added]], None] | None = None,
        batch_size: int = _INSERT_BATCH,
        stored: Callable[[int, int], None] | None = None,
    ) -> list[_Added]:
        """Add records in one transaction; any failure stores none and names the item.

        The records are inserted ``batch_size`` at a time (:meth:`_store_in_batches`); with
        ``batch_size=1`` they are added one by one (:meth:`_add`), a look-up, a flush and a
        validation of the stored record each. When the database refuses a batch, the
        transaction is rolled back and run again one record at a time, so that the error names
        the record it refused. ``stored(done, total)`` is called after each batch is flushed
        (not in the one-by-one way).

        A transaction that collides with a concurrent writer (:func:`_is_write_conflict`) was
        rolled back entirely, so it is run again, up to ``_WRITE_ATTEMPTS`` times with a short
        random back-off: every record then gets its own version, none is lost or refused.
        ``and_then(session, added)`` runs inside the same transaction once every record is added
        (e.g. to store the result that lists them), so that it is committed with the records or
        not at all; it may run more than once when the batch is retried.
        """
        who = _check_actor(actor)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            added: list[_Added] = []
            label = "the batch"
            batched = batch_size > 1
            try:
                with self._write_transaction() as session:
                    self._refuse_ids_in_another_case(session, items)
                    self._lock_patients(session, [item.record.patient_id for item in items])
                    repeated = self._already_stored(session, items)
                    if batched:
                        added = self._store_in_batches(
                            session, items, who, repeated, batch_size, stored
                        )
                    else:
                        for i, item in enumerate(items):
                            label = item.label
                            added.append(self._add(session, item, who, repeated.get(i)))
                    batched = False
                    label = "the batch"
                    if and_then is not None:
                        and_then(session, added)
            except SQLAlchemyError as exc:
                if attempt < _WRITE_ATTEMPTS and _is_write_conflict(exc):
                    time.sleep(random.uniform(0, 0.01 * 2**attempt))
                    continue
                if batched:  # find the record refused, one by one (nothing was stored)
                    return self._add_batch(items, actor=who, and_then=and_then, batch_size=1)
                reason = str(getattr(exc, "orig", None) or exc.args[0])
                message = f"{label}: cannot be stored ({reason}); nothing was stored"
                if _is_database_failure(exc):
                    # the database failing (unreachable, locked for too long, a table missing),
                    # not the record: worded like every other database failure ("registry
                    # <url>: ..."), which the service answers with 500 rather than a client
                    # error showing SQL
                    message = f"registry {self.url}: {message}"
                raise RegistryError(message) from None
            return added
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    # -- records ---------------------------------------------------------------------------

    def add_record(
        self, record: PatientRecord, *, actor: str, source: str | None = None
    ) -> RecordVersion:
        """Store a record as a new version of its patient (version 1 for a new patient).

        Parameters
        ----------
        record
            The validated record; its ``patient.id`` names the patient.
        actor
            Who stores it (written to the version and the audit log).
        source
            The file it was read from, if any.

        Returns
        -------
        RecordVersion
            The new version; or, when the record is identical (same SHA-256 of its canonical JSON)
            to the latest version, that version unchanged.
        """
        item = _BatchItem(f"record of patient {record.patient_id}", record, source)
        return self._add_batch([item], actor=actor)[0].version

    def add_records(
        self, records: Sequence[PatientRecord], *, actor: str, source: str | None = None
    ) -> list[RecordVersion]:
        """Store several records in one transaction (all or none); see :meth:`add_record`.

        Parameters
        ----------
        records
            The records, in order.
        actor
            Who stores them.
        source
            The file they were read from, if any.

        Returns
        -------
        list of RecordVersion
        """
        items = [
            _BatchItem(f"record {i} (patient {r.patient_id})", r, source)
            for i, r in enumerate(records, start=1)
        ]
        return [a.version for a in self._add_batch(items, actor=actor)]

    def record_version(
        self, patient_id: str, version: int | None = None, *, actor: str
    ) -> RecordVersion:
        """Read one version of a patient's record with its hash, source and author.

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.
        version
            1..n; the latest when omitted.
        actor
            Who reads it (audit log).

        Returns
        -------
        RecordVersion

        Raises
        ------
        RegistryError
            If the patient or the version is not in the registry.
        StoredRecordError
            If the stored record no longer validates against the record model (stored by an
            earlier release); the read is audited all the same. Storing a corrected record
            adds the next version.
        """
        who = _check_actor(actor)
        with self._transaction() as session:
            try:
                return self._read_version(session, who, patient_id, version)
            except StoredRecordError as exc:
                invalid = exc  # the read stays audited: the transaction commits
        raise invalid

    def _read_version(
        self, session: Session, who: str, patient_id: str, version: int | None
    ) -> RecordVersion:
        """Read one version (the latest for ``None``) and audit the read."""
        row = self._version_row(session, self._patient(session, patient_id), version)
        self._audit(session, who, AuditAction.read, patient_id, f"record_version {row.version}")
        return self._version_model(row, patient_id)

    def latest_versions(self, patient_ids: Sequence[str], *, actor: str) -> list[RecordVersion]:
        """Read the latest version of several patients' records in one transaction.

        Each read is audited as :meth:`record_version` audits it; an unknown patient fails the
        whole read.

        Parameters
        ----------
        patient_ids
            Pseudonymous patient ids, in the order wanted.
        actor
            Who reads them (audit log).

        Returns
        -------
        list of RecordVersion
            In the order of ``patient_ids``.

        Raises
        ------
        RegistryError
            If a patient is not in the registry.
        StoredRecordError
            If a stored record no longer validates against the record model (the first such
            patient, in the order of ``patient_ids``); the reads are audited all the same.
        """
        who = _check_actor(actor)
        invalid: StoredRecordError | None = None
        versions = []
        with self._transaction() as session:
            for pid in patient_ids:
                try:
                    versions.append(self._read_version(session, who, pid, None))
                except StoredRecordError as exc:
                    invalid = invalid or exc
        if invalid is not None:
            raise invalid
        return versions

    def record(self, patient_id: str, version: int | None = None, *, actor: str) -> PatientRecord:
        """Read a patient's record: the latest version, or ``version`` (1..n).

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.
        version
            1..n; the latest when omitted.
        actor
            Who reads it (audit log).

        Returns
        -------
        PatientRecord

        Raises
        ------
        RegistryError
            If the patient or the version is not in the registry.
        """
        return self.record_version(patient_id, version, actor=actor).record

    def versions(self, patient_id: str, *, actor: str) -> list[RecordVersion]:
        """Read every version of a patient's record, oldest first.

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.
        actor
            Who reads them (audit log).

        Returns
        -------
        list of RecordVersion

        Raises
        ------
        RegistryError
            If the registry holds no such patient.
        StoredRecordError
            If a stored record no longer validates against the record model (the first such
            version); the read is audited all the same. :meth:`version_history` lists every
            version without failing.
        """
        who = _check_actor(actor)
        with self._transaction() as session:
            rows = self._version_rows(session, who, patient_id)
            try:
                return [self._version_model(r, patient_id) for r in rows]
            except StoredRecordError as exc:
                invalid = exc
        raise invalid

    def version_history(self, patient_id: str, *, actor: str) -> list[VersionSummary]:
        """Read the metadata of every version of a patient's record, oldest first, saying of
        each whether its stored record still validates against this immunoprecise's model.

        Unlike :meth:`versions`, a version stored by an older immunoprecise whose record no
        longer validates does not make the call fail: it is listed as stored, with the fields
        that no longer validate and why. Reading the versions is audited.

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.
        actor
            Who reads them (audit log).

        Returns
        -------
        list of VersionSummary

        Raises
        ------
        RegistryError
            If the registry holds no such patient.

        Examples
        --------
        >>> import tempfile, pathlib, immunoprecise as ip
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        >>> with Registry.open(url, create=True) as registry:
        ...     _ = registry.add_record(record, actor="ann")
        ...     history = registry.version_history(record.patient_id, actor="bob")
        >>> [(v.version, v.actor, v.problems) for v in history]
        [(1, 'ann', ())]
        """
        who = _check_actor(actor)
        with self._transaction() as session:
            rows = self._version_rows(session, who, patient_id)
            return [_version_summary(r, patient_id) for r in rows]

    def _version_rows(
        self, session: Session, who: str, patient_id: str
    ) -> Sequence[RecordVersionRow]:
        """Every stored version row of a patient, oldest first; the read is audited."""
        patient = self._patient(session, patient_id)
        rows = session.scalars(
            select(RecordVersionRow)
            .where(RecordVersionRow.patient_id == patient.id)
            .order_by(RecordVersionRow.version)
        ).all()
        self._audit(session, who, AuditAction.read, patient_id, f"record_versions 1-{len(rows)}")
        return rows

    def has_patient(self, patient_id: str) -> bool:
        """Whether the registry holds a patient with this pseudonymous id.

        Reads no patient data, so it writes no audit row; reading the record afterwards does.

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.

        Returns
        -------
        bool
        """
        query = select(PatientRow.id).where(PatientRow.pseudonym == patient_id).limit(1)
        return self._first_row(query) is not None

    def latest_digest(self, patient_id: str) -> tuple[int, str] | None:
        """The number and SHA-256 of a patient's latest record version (``None``: no patient).

        Enough to tell whether a record in hand is the stored latest one without reading it.
        Reads no patient data (a hash identifies, but does not reveal, a record the caller
        already holds), so it writes no audit row, like :meth:`has_patient`.

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.

        Returns
        -------
        tuple of (int, str) or None
            The version number (1..n) and the hex SHA-256 of its canonical JSON.

        Examples
        --------
        >>> import tempfile, pathlib, immunoprecise as ip
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        >>> with Registry.open(url, create=True) as registry:
        ...     _ = registry.add_record(record, actor="ann")
        ...     version, digest = registry.latest_digest(record.patient_id)
        ...     (version, digest == record_sha256(record), registry.latest_digest("nobody"))
        (1, True, None)
        """
        query = (
            select(RecordVersionRow.version, RecordVersionRow.sha256)
            .join(PatientRow, RecordVersionRow.patient_id == PatientRow.id)
            .where(PatientRow.pseudonym == patient_id)
            .order_by(RecordVersionRow.version.desc())
            .limit(1)
        )
        row = self._first_row(query)
        return None if row is None else (int(row.version), str(row.sha256))

    def patients(self, *, actor: str, search: str | None = None) -> list[str]:
        """List the pseudonymous patient ids, sorted; optionally those containing ``search``.

        Parameters
        ----------
        actor
            Who lists them (audit log).
        search
            Part of the id to look for, in any case: compared after Unicode case folding, in
            Python, so that SQLite and PostgreSQL find the same ids whatever the database's
            locale (PostgreSQL's ``lower()`` follows it: under a Turkish locale it turns ``I``
            into dotless ``ı``, and ``pi`` would not find ``PI-001``).

        Returns
        -------
        list of str
            Sorted by code point.

        Examples
        --------
        >>> import tempfile, pathlib, immunoprecise as ip
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        >>> with Registry.open(url, create=True) as registry:
        ...     _ = registry.add_record(record, actor="ann")
        ...     registry.patients(actor="ann", search="crc-0")
        ['SYN-CRC-001']
        """
        who = _check_actor(actor)
        query = select(PatientRow.pseudonym)
        with self._transaction() as session:
            # filtered and sorted here, not by the database: PostgreSQL's lower() and ORDER BY
            # follow the database's locale and collation (en-US sorts 'a-3' before 'A4'), and
            # every id is read either way to list them all
            ids = sorted(session.scalars(query).all())
            if search:
                wanted = _folded(search)
                ids = [pid for pid in ids if wanted in _folded(pid)]
            what = "patients" if not search else f"patients matching {search[:200]!r}"
            self._audit(session, who, AuditAction.list_patients, None, what)
            return ids

    # -- evaluations and results -----------------------------------------------------------

    def save_evaluation(
        self, evaluation: Evaluation, *, actor: str, version: int | None = None
    ) -> StoredEvaluation:
        """Store an evaluation, linked to the record version it evaluated.

        Parameters
        ----------
        evaluation
            The result of :func:`immunoprecise.evaluate`; its ``patient_id`` must be in the
            registry.
        actor
            Who stores it (audit log).
        version
            The record version evaluated; the latest when omitted.

        Returns
        -------
        StoredEvaluation
        """
        who = _check_actor(actor)
        data = _to_json(evaluation, "evaluation")
        pid = evaluation.patient_id
        with self._transaction() as session:
            patient = self._patient(session, pid)
            version_row = self._version_row(session, patient, version)
            row = EvaluationRow(
                record_version_id=version_row.id,
                evaluation=data,
                software_version=evaluation.software.version,
                knowledge_base_sha256=evaluation.software.knowledge_base_sha256,
                actor=who,
                created_at=_now(),
            )
            session.add(row)
            session.flush()
            self._audit(session, who, AuditAction.save_evaluation, pid, f"evaluation {row.id}")
            return StoredEvaluation(
                id=row.id,
                patient_id=pid,
                record_version=version_row.version,
                software_version=row.software_version,
                knowledge_base_sha256=row.knowledge_base_sha256,
                actor=row.actor,
                created_at=row.created_at,
                evaluation=evaluation,
            )

    @staticmethod
    def _evaluation_model(
        row: EvaluationRow, patient_id: str, version: int, position: int
    ) -> StoredEvaluation:
        """The stored evaluation ``row`` (the ``position``-th of its patient's, from 0).

        Raises
        ------
        StoredEvaluationError
            When the stored evaluation no longer validates against the evaluation model.
        """
        try:
            evaluation = Evaluation.model_validate(row.evaluation)
        except PydanticValidationError as exc:
            problems = field_problems(exc, Evaluation)
            raise StoredEvaluationError(
                patient_id, row.id, version, row.created_at, position, problems
            ) from None
        return StoredEvaluation(
            id=row.id,
            patient_id=patient_id,
            record_version=version,
            software_version=row.software_version,
            knowledge_base_sha256=row.knowledge_base_sha256,
            actor=row.actor,
            created_at=row.created_at,
            evaluation=evaluation,
        )

    def _evaluations(
        self, who: str, patient_id: str, offset: int, limit: int | None
    ) -> tuple[int, list[StoredEvaluation]]:
        """The number of a patient's stored evaluations and those ``offset`` and ``limit``
        select, oldest first, read in one transaction and audited (the ids read)."""
        with self._transaction() as session:
            patient = self._patient(session, patient_id)
            of_patient = (
                select(EvaluationRow, RecordVersionRow.version)
                .join(RecordVersionRow, EvaluationRow.record_version_id == RecordVersionRow.id)
                .where(RecordVersionRow.patient_id == patient.id)
            )
            total = int(
                session.scalar(select(func.count()).select_from(of_patient.subquery())) or 0
            )
            rows = session.execute(
                of_patient.order_by(EvaluationRow.id).offset(offset or None).limit(limit)
            ).all()
            ids = ", ".join(str(r[0].id) for r in rows) or "none"
            self._audit(
                session, who, AuditAction.read_evaluations, patient_id, f"evaluations {ids}"
            )
            try:
                return total, [
                    self._evaluation_model(r[0], patient_id, r[1], offset + i)
                    for i, r in enumerate(rows)
                ]
            except StoredEvaluationError as exc:
                invalid = exc  # the read stays audited: the transaction commits
        raise invalid

    def evaluations(self, patient_id: str, *, actor: str) -> list[StoredEvaluation]:
        """Read a patient's stored evaluations, oldest first.

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.
        actor
            Who reads them (audit log).

        Returns
        -------
        list of StoredEvaluation

        Raises
        ------
        RegistryError
            If the registry holds no such patient.
        StoredEvaluationError
            If a stored evaluation no longer validates against the evaluation model (the
            first such one); the read is audited all the same. :meth:`evaluation_page` reads
            the others, a page at a time.
        """
        return self._evaluations(_check_actor(actor), patient_id, 0, None)[1]

    def evaluation_page(
        self, patient_id: str, *, actor: str, offset: int = 0, limit: int | None = None
    ) -> EvaluationPage:
        """Read a page of a patient's stored evaluations, oldest first, and how many are
        stored in all, in one transaction.

        Only the evaluations on the page are read (and audited, by id), so one that no longer
        validates fails only the pages that hold it.

        Parameters
        ----------
        patient_id
            Pseudonymous patient id.
        actor
            Who reads them (audit log).
        offset
            Skip this many evaluations first (0 or more).
        limit
            At most this many evaluations (1 or more); all the rest when ``None``.

        Returns
        -------
        EvaluationPage

        Raises
        ------
        RegistryError
            If the registry holds no such patient, or ``offset`` or ``limit`` is out of range.
        StoredEvaluationError
            If an evaluation on the page no longer validates against the evaluation model
            (the first such one, with its ``position``: a page that leaves it out can be read);
            the read is audited all the same.

        Examples
        --------
        >>> import tempfile, pathlib, immunoprecise as ip
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        >>> with Registry.open(url, create=True) as registry:
        ...     _ = registry.add_record(record, actor="ann")
        ...     for _ in range(3):
        ...         _ = registry.save_evaluation(ip.evaluate(record), actor="ann")
        ...     found = registry.evaluation_page(record.patient_id, actor="bob", offset=1, limit=1)
        >>> found.total, [e.id for e in found.evaluations]
        (3, [2])
        """
        who = _check_actor(actor)
        for name, value, least in (("offset", offset, 0), ("limit", limit, 1)):
            if value is None and name == "limit":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise RegistryError(f"{name} {value!r}: give a whole number from {least}")
        total, found = self._evaluations(who, patient_id, offset, limit)
        return EvaluationPage(total=total, evaluations=tuple(found))

    def save_result(
        self,
        kind: str,
        payload: BaseModel | Mapping[str, Any] | Sequence[Any],
        *,
        actor: str,
        patient_id: str | None = None,
        cohort: str | None = None,
        before_commit: Callable[[Session, StoredResult], None] | None = None,
    ) -> StoredResult:
        """Store a simulation or trial result as JSON.

        Parameters
        ----------
        kind
            What it is, e.g. ``"simulation"`` or ``"virtual_trial"`` (1–64 characters).
        payload
            A pydantic model or JSON-compatible data (no NaN or infinity).
        actor
            Who stores it (audit log).
        patient_id
            The patient it belongs to (must be in the registry), if any.
        cohort
            The cohort it belongs to (a name), if any.
        before_commit
            Called with the transaction and the stored result before it is committed (e.g. to
            mark the job that computed it done in the same transaction); whatever it raises
            rolls the transaction back, and the result is not stored.

        Returns
        -------
        StoredResult
        """
        who = _check_actor(actor)
        if not kind.strip() or len(kind) > 64:
            raise RegistryError(f"result kind {kind!r}: give 1–64 characters, e.g. 'simulation'")
        if cohort is not None:
            _check_cohort(cohort)
        data = _to_json(payload, f"{kind} result")
        with self._transaction() as session:
            stored = self._insert_result(session, who, kind, data, patient_id, cohort)
            if before_commit is not None:
                before_commit(session, stored)
            return stored

    def _insert_result(
        self,
        session: Session,
        who: str,
        kind: str,
        data: Any,
        patient_id: str | None,
        cohort: str | None,
    ) -> StoredResult:
        """Insert a checked result and its audit entry in the caller's transaction."""
        patient = None if patient_id is None else self._patient(session, patient_id)
        row = ResultRow(
            kind=kind.strip(),
            patient_id=None if patient is None else patient.id,
            cohort=cohort,
            payload=data,
            actor=who,
            created_at=_now(),
        )
        session.add(row)
        session.flush()
        self._audit(session, who, AuditAction.save_result, patient_id, f"result {row.id} ({kind})")
        return self._result_model(row, patient_id)

    def _add_batch_with_result(
        self,
        items: Sequence[_BatchItem],
        *,
        actor: str,
        kind: str,
        payload: Callable[[list[_Added]], Mapping[str, Any]],
        cohort: str,
    ) -> tuple[list[_Added], StoredResult]:
        """Add records and a result built from them in one transaction: both or neither.

        ``payload(added)`` builds the result's JSON from the added versions (counts, ids);
        a payload that cannot be stored as JSON rolls the records back too.
        """
        who = _check_actor(actor)
        _check_cohort(cohort)
        stored: list[StoredResult] = []

        def store_result(session: Session, added: list[_Added]) -> None:
            data = _to_json(payload(added), f"{kind} result")
            stored[:] = [self._insert_result(session, who, kind, data, None, cohort)]

        added = self._add_batch(items, actor=actor, and_then=store_result)
        return added, stored[0]

    @staticmethod
    def _result_model(row: ResultRow, patient_id: str | None) -> StoredResult:
        return StoredResult(
            id=row.id,
            kind=row.kind,
            patient_id=patient_id,
            cohort=row.cohort,
            actor=row.actor,
            created_at=row.created_at,
            payload=row.payload,
        )

    def results(
        self,
        *,
        actor: str,
        patient_id: str | None = None,
        cohort: str | None = None,
        kind: str | None = None,
    ) -> list[StoredResult]:
        """Read stored results, oldest first, filtered by patient, cohort and kind.

        Parameters
        ----------
        actor
            Who reads them (audit log).
        patient_id, cohort, kind
            Keep only results of this patient / cohort / kind.

        Returns
        -------
        list of StoredResult
        """
        who = _check_actor(actor)
        query = (
            select(ResultRow, PatientRow.pseudonym)
            .join(PatientRow, ResultRow.patient_id == PatientRow.id, isouter=True)
            .order_by(ResultRow.id)
        )
        if cohort is not None:
            query = query.where(ResultRow.cohort == cohort)
        if kind is not None:
            query = query.where(ResultRow.kind == kind)
        with self._transaction() as session:
            if patient_id is not None:
                query = query.where(ResultRow.patient_id == self._patient(session, patient_id).id)
            rows = session.execute(query).all()
            ids = ", ".join(str(r[0].id) for r in rows) or "none"
            self._audit(session, who, AuditAction.read_results, patient_id, f"results {ids}")
            return [self._result_model(r[0], r[1]) for r in rows]

    def result(self, result_id: int, *, actor: str, kind: str | None = None) -> StoredResult | None:
        """Read one stored result by its id, without reading any other.

        The read is audited like :meth:`results` (action ``read_results``, object
        ``results <id>``, or ``results none`` when nothing is found), with the result's
        patient when it has one.

        Parameters
        ----------
        result_id
            The result's id (:attr:`StoredResult.id`, a whole number from 1).
        actor
            Who reads it (audit log).
        kind
            The kind it must have (e.g. ``"virtual_trial"``); any kind when ``None``.

        Returns
        -------
        StoredResult or None
            The result; ``None`` when no result has this id (an id below 1, or too large
            for the database, included), or when it is of another kind.

        Raises
        ------
        RegistryError
            If ``result_id`` is not an int or ``actor`` is empty.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> with Registry.open(url, create=True) as registry:
        ...     saved = registry.save_result("simulation", {"arms": 2}, actor="ann")
        ...     back = registry.result(saved.id, actor="bob", kind="simulation")
        ...     other = registry.result(saved.id, actor="bob", kind="virtual_trial")
        >>> back.payload, other
        ({'arms': 2}, None)
        """
        who = _check_actor(actor)
        if isinstance(result_id, bool) or not isinstance(result_id, int):
            raise RegistryError(
                f"result_id {result_id!r}: give a stored result's id, a whole number from 1"
            )
        # ids are 32-bit on PostgreSQL (INTEGER), 64-bit on SQLite: one outside cannot be stored
        largest = 2**31 - 1 if self._engine.dialect.name == "postgresql" else 2**63 - 1
        query = (
            select(ResultRow, PatientRow.pseudonym)
            .join(PatientRow, ResultRow.patient_id == PatientRow.id, isouter=True)
            .where(ResultRow.id == result_id)
        )
        if kind is not None:
            query = query.where(ResultRow.kind == kind)
        with self._transaction() as session:
            found = session.execute(query).first() if 1 <= result_id <= largest else None
            pid = None if found is None else found[1]
            shown = "none" if found is None else str(found[0].id)
            self._audit(session, who, AuditAction.read_results, pid, f"results {shown}")
            return None if found is None else self._result_model(found[0], found[1])

    # -- audit, export, counts -------------------------------------------------------------

    def audit(
        self,
        query: AuditQuery | None = None,
        *,
        patient_id: str | None = None,
        actor: str | None = None,
    ) -> list[AuditEntry]:
        """Read the audit log, oldest first (newest first with ``query.newest_first``).

        Reading the log is not itself audited.

        Parameters
        ----------
        query
            Criteria (patient, actor, actions, time range) and the page wanted (``limit``,
            ``offset``); every entry when omitted.
        patient_id
            Keep only the entries about this patient (as ``query.patient_id``; both apply).
        actor
            Keep only the entries by this actor (as ``query.actor``; both apply).

        Returns
        -------
        list of AuditEntry

        Examples
        --------
        >>> import datetime as dt, tempfile, pathlib, immunoprecise as ip
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        >>> with Registry.open(url, create=True) as registry:
        ...     _ = registry.add_record(record, actor="ann")
        ...     _ = registry.record(record.patient_id, actor="bob")
        ...     today = dt.datetime.now(dt.UTC).date()
        ...     reads = registry.audit(AuditQuery(actions=("read",), since=today))
        ...     last = registry.audit(AuditQuery(newest_first=True, limit=1))
        >>> [(e.actor, e.action.value) for e in reads], last[0].actor
        ([('bob', 'read')], 'bob')
        """
        with self._transaction() as session:
            return _audit_entries(session, query or AuditQuery(), patient_id, actor)

    def audit_count(
        self,
        query: AuditQuery | None = None,
        *,
        patient_id: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Count the audit entries that :meth:`audit` would read without ``limit`` and
        ``offset``: the same criteria, counted in the database (no entry is read).

        With it a page of the log (``AuditQuery(limit=..., offset=...)``) can be shown with
        the number of entries in all. Counting is not itself audited.

        Parameters
        ----------
        query
            Criteria (patient, actor, actions, time range); its ``limit``, ``offset`` and
            ``newest_first`` are ignored. Every entry when omitted.
        patient_id
            Count only the entries about this patient (as ``query.patient_id``; both apply).
        actor
            Count only the entries by this actor (as ``query.actor``; both apply).

        Returns
        -------
        int
            The number of matching entries (0 or more).

        Examples
        --------
        >>> import tempfile, pathlib, immunoprecise as ip
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        >>> with Registry.open(url, create=True) as registry:
        ...     _ = registry.add_record(record, actor="ann")
        ...     _ = registry.record(record.patient_id, actor="bob")
        ...     _ = registry.record(record.patient_id, actor="bob")
        ...     page = registry.audit(AuditQuery(actor="bob", newest_first=True, limit=1))
        ...     (len(page), registry.audit_count(AuditQuery(actor="bob", limit=1)))
        (1, 2)
        """
        with self._transaction() as session:
            return _audit_total(session, query or AuditQuery(), patient_id, actor)

    def audit_page(
        self,
        query: AuditQuery | None = None,
        *,
        patient_id: str | None = None,
        actor: str | None = None,
    ) -> AuditPage:
        """A page of the audit log and the number of entries that match in all, read from one
        snapshot of the database: what :meth:`audit` and :meth:`audit_count` give, except that
        an entry written by another connection meanwhile is in neither or in both (as two calls,
        the count could include an entry the page missed, or the other way round).

        Reading the log is not itself audited.

        Parameters
        ----------
        query
            Criteria (patient, actor, actions, time range) and the page wanted (``limit``,
            ``offset``, ``newest_first``); every entry when omitted.
        patient_id
            Keep only the entries about this patient (as ``query.patient_id``; both apply).
        actor
            Keep only the entries by this actor (as ``query.actor``; both apply).

        Returns
        -------
        AuditPage
            ``total``: the entries that match (0 or more); ``entries``: the page, in the order
            of ``query``.

        Examples
        --------
        >>> import tempfile, pathlib, immunoprecise as ip
        >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
        >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
        >>> with Registry.open(url, create=True) as registry:
        ...     _ = registry.add_record(record, actor="ann")
        ...     _ = registry.record(record.patient_id, actor="bob")
        ...     _ = registry.record(record.patient_id, actor="bob")
        ...     found = registry.audit_page(AuditQuery(actor="bob", newest_first=True, limit=1))
        >>> found.total, [e.actor for e in found.entries]
        (2, ['bob'])
        """
        query = query or AuditQuery()
        with self._snapshot() as session:
            total = _audit_total(session, query, patient_id, actor)
            entries = _audit_entries(session, query, patient_id, actor)
        return AuditPage(total=total, entries=tuple(entries))

    def export(self, target: str | Path | TextIO | None = None, *, actor: str) -> int:
        """Write the latest version of every record as JSON lines, sorted by patient id.

        Each line is the record's canonical JSON, so its SHA-256 is the stored ``sha256``.
        Records are written only once the export's audit rows are committed: when the
        database refuses them, nothing is written (a file at ``target`` stays as it was).

        Parameters
        ----------
        target
            A file path, an open text stream, or ``None`` for stdout.
        actor
            Who exports (one audit row per patient).

        Returns
        -------
        int
            The number of records written.
        """
        who = _check_actor(actor)
        query = latest_versions_query()
        # A file is written beside the target and renamed onto it once the audit rows are
        # committed: a failed export (a full disk) leaves no truncated file, nor a file whose
        # export was never audited, and an earlier export at the target stays as it was.
        final = Path(target) if isinstance(target, str | Path) else None
        partial = None
        if final is not None:
            self._refuse_own_files(final)
            regular = final.is_file() or not final.exists()
            if regular and not final.is_symlink():  # not /dev/stdout
                partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
        try:
            with self._transaction() as session:
                # sorted by code point on every database (see patients()), not by its collation
                rows = sorted(session.execute(query).all(), key=lambda r: str(r.pseudonym))
                lines = [canonical_json(row.record) + "\n" for row, _ in rows]
                for row, pid in rows:
                    self._audit(
                        session, who, AuditAction.export, pid, f"record_version {row.version}"
                    )
                if final is not None:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    (partial or final).write_text("".join(lines), encoding="utf-8")
            # a stream gets the records only once their export is audited (committed): an
            # audit row the database refuses (a read-only database) leaves nothing written
            if target is None:
                sys.stdout.writelines(lines)
            elif not isinstance(target, str | Path):
                target.writelines(lines)
            if partial is not None and final is not None:
                os.replace(partial, final)
                partial = None
        finally:
            if partial is not None:
                partial.unlink(missing_ok=True)
        return len(lines)

    def _refuse_own_files(self, target: Path) -> None:
        """Refuse to write over the SQLite file of this registry (or its log files): an
        export given the database's own path would replace the registry with its export."""
        database = sqlite_path(self._engine.url.render_as_string(hide_password=False))
        if database is None:
            return
        own = [database] + [database.with_name(database.name + s) for s in _SQLITE_SIDE_FILES]
        try:
            hit = any(target.resolve() == path.resolve() for path in own) or (
                target.exists() and os.path.samefile(target, database)
            )
        except OSError:
            return  # the database file is gone or unreachable: nothing of it to overwrite
        if hit:
            raise RegistryError(
                f"{target} is this registry's database file; write the export to another file, "
                "e.g. registry.jsonl"
            )

    def counts(self) -> dict[str, int]:
        """Count the rows of each table (no patient data is read, so nothing is audited).

        Returns
        -------
        dict
            ``patients``, ``record_versions``, ``evaluations``, ``results``, ``audit_log``.
        """
        tables: dict[str, Any] = {
            "patients": PatientRow,
            "record_versions": RecordVersionRow,
            "evaluations": EvaluationRow,
            "results": ResultRow,
            "audit_log": AuditRow,
        }
        with self._transaction() as session:
            return {
                name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in tables.items()
            }
