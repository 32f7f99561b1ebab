"""What the registry gives back: frozen models of stored versions, evaluations, results, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from immunoprecise.errors import FieldProblem, RegistryError
from immunoprecise.evaluation import Evaluation
from immunoprecise.records import PatientRecord

__all__ = [
    "AuditAction",
    "AuditEntry",
    "AuditPage",
    "AuditQuery",
    "EvaluationPage",
    "ImportReport",
    "RecordVersion",
    "StoredEvaluation",
    "StoredEvaluationError",
    "StoredRecordError",
    "StoredResult",
    "VersionSummary",
]


class AuditAction(StrEnum):
    """What an audited access did."""

    create = "create"
    """A new patient and the first version of its record."""
    update = "update"
    """A new version of an existing patient's record."""
    unchanged = "unchanged"
    """A record identical to the latest version was submitted; nothing was stored."""
    read = "read"
    """A record version (or the list of versions) was read."""
    list_patients = "list"
    """The list of patients was read."""
    export = "export"
    """A record was exported."""
    save_evaluation = "save_evaluation"
    read_evaluations = "read_evaluations"
    save_result = "save_result"
    read_results = "read_results"


class StoredRecordError(RegistryError):
    """A stored record version that no longer validates against this immunoprecise's record
    model (stored by an older release, whose model allowed what this one does not).

    The version stays stored as it is; storing a corrected record adds the next version, which
    is then the one read as the latest. :meth:`Registry.version_history
    <immunoprecise.registry.Registry.version_history>` lists such versions without failing.

    Parameters
    ----------
    patient_id
        Pseudonymous patient id.
    version
        The stored version (1..n) that no longer validates.
    problems
        Its invalid fields: each with the stored value and what is expected.

    Examples
    --------
    >>> exc = StoredRecordError("P1", 2, [FieldProblem("patient.age", 131, "at most 130")])
    >>> (exc.invalid_fields, str(exc).split(":")[0])
    (('patient.age',), "record version 2 of patient 'P1' no longer validates")
    """

    def __init__(self, patient_id: str, version: int, problems: Sequence[FieldProblem]) -> None:
        self.patient_id = patient_id
        self.version = version
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"record version {version} of patient {patient_id!r} no longer validates: "
            f"{listed}. It was stored by an earlier immunoprecise whose record model allowed "
            "this; store a corrected record (it becomes the next version, earlier versions "
            "stay as stored)"
        )

    @property
    def invalid_fields(self) -> tuple[str, ...]:
        """The dotted paths of the invalid fields, in the order found."""
        return tuple(p.field for p in self.problems)


class StoredEvaluationError(RegistryError):
    """A stored evaluation that no longer validates against this immunoprecise's evaluation
    model (stored by an older release, whose model allowed what this one does not, or changed
    in the database since).

    The evaluation stays stored as it is; evaluating the record again stores a new one. The
    patient's other evaluations can still be read, a page at a time
    (:meth:`Registry.evaluation_page <immunoprecise.registry.Registry.evaluation_page>`) with
    an ``offset`` and ``limit`` that leave this one out.

    Parameters
    ----------
    patient_id
        Pseudonymous patient id.
    evaluation_id
        The stored evaluation's id.
    record_version
        The record version it evaluated (1..n).
    created_at
        When it was stored.
    position
        Where it is among the patient's evaluations, oldest first (0 for the first: the
        ``offset`` of a page that starts with it).
    problems
        Its invalid fields: each with the stored value and what is expected.

    Examples
    --------
    >>> import datetime as dt
    >>> at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    >>> exc = StoredEvaluationError(
    ...     "P1", 7, 2, at, 0, [FieldProblem("software.build", 3, "Extra inputs are not permitted")]
    ... )
    >>> (exc.invalid_fields, str(exc).split(":")[0])
    (('software.build',), "evaluation 7 of patient 'P1' no longer validates")
    """

    def __init__(
        self,
        patient_id: str,
        evaluation_id: int,
        record_version: int,
        created_at: dt.datetime,
        position: int,
        problems: Sequence[FieldProblem],
    ) -> None:
        self.patient_id = patient_id
        self.evaluation_id = evaluation_id
        self.record_version = record_version
        self.created_at = created_at
        self.position = position
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"evaluation {evaluation_id} of patient {patient_id!r} no longer validates: "
            f"{listed}. It evaluated record version {record_version} and was stored "
            f"{stored_at_text(created_at)} by an earlier immunoprecise whose evaluation model "
            "allowed this (or was changed in the database since); it stays stored as it is. "
            "Evaluate the record again to store a new evaluation; the patient's other "
            f"evaluations are read with an offset and limit that leave out offset {position}"
        )

    @property
    def invalid_fields(self) -> tuple[str, ...]:
        """The dotted paths of the invalid fields, in the order found."""
        return tuple(p.field for p in self.problems)


def stored_at_text(at: dt.datetime) -> str:
    """A stored time as messages show it, in UTC to the second.

    Examples
    --------
    >>> stored_at_text(dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC))
    '2026-03-01 09:30:00 UTC'
    """
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    return f"{at:%Y-%m-%d %H:%M:%S} UTC"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordVersion(_Frozen):
    """One stored version of a patient's record."""

    patient_id: str = Field(description="Pseudonymous patient id (the record's patient.id).")
    version: int = Field(ge=1, description="1 for the first record, then 2, 3, …")
    sha256: str = Field(description="SHA-256 of the record's canonical JSON.")
    source: str | None = Field(description="File the record was read from, if any.")
    actor: str = Field(description="Who stored this version.")
    created_at: dt.datetime
    record: PatientRecord


class VersionSummary(_Frozen):
    """One stored version of a patient's record without the record, and whether the stored
    record still validates against this immunoprecise's record model (a version stored by an
    older immunoprecise may not)."""

    patient_id: str = Field(description="Pseudonymous patient id (the record's patient.id).")
    version: int = Field(ge=1, description="1 for the first record, then 2, 3, …")
    sha256: str = Field(description="SHA-256 of the record's canonical JSON, as stored.")
    source: str | None = Field(description="File the record was read from, if any.")
    actor: str = Field(description="Who stored this version.")
    created_at: dt.datetime
    invalid_fields: tuple[str, ...] = Field(
        (), description="The fields of the stored record that no longer validate; empty if none."
    )
    problems: tuple[str, ...] = Field(
        (),
        description="For each invalid field: the field, its stored value and what is expected "
        "now (``patient.age = -5: -5 years is outside the plausible range 0–120 years``).",
    )


class StoredEvaluation(_Frozen):
    """A stored evaluation and the record version it evaluated."""

    id: int
    patient_id: str
    record_version: int
    software_version: str
    knowledge_base_sha256: str
    actor: str
    created_at: dt.datetime
    evaluation: Evaluation


class EvaluationPage(_Frozen):
    """A page of a patient's stored evaluations with the number stored in all, both read in one
    transaction (:meth:`~immunoprecise.registry.Registry.evaluation_page`)."""

    total: int = Field(ge=0, description="The patient's stored evaluations, in all.")
    evaluations: tuple[StoredEvaluation, ...] = Field(
        description="The page that the offset and limit select, oldest first."
    )


class StoredResult(_Frozen):
    """A stored simulation or trial result."""

    id: int
    kind: str
    patient_id: str | None
    cohort: str | None
    actor: str
    created_at: dt.datetime
    payload: Any


class AuditEntry(_Frozen):
    """One row of the audit log: who did what to which patient's data, when."""

    id: int
    at: dt.datetime
    actor: str
    action: AuditAction
    patient_id: str | None
    object: str = Field(description="What was accessed, e.g. 'record_version 2' or 'evaluation 7'.")


class AuditPage(_Frozen):
    """A page of the audit log with the number of entries that match in all, both read from
    one snapshot of the database (:meth:`~immunoprecise.registry.Registry.audit_page`)."""

    total: int = Field(ge=0, description="Entries that match the criteria, in all.")
    entries: tuple[AuditEntry, ...] = Field(
        description="The page that the query's limit and offset select, in its order."
    )


class AuditQuery(_Frozen):
    """Which audit entries to read (every criterion given must hold), and which page of them.

    Examples
    --------
    >>> import datetime as dt
    >>> query = AuditQuery(patient_id="P1", actions=("read",), since=dt.date(2026, 3, 1))
    >>> query.actions, query.since, query.limit
    ((<AuditAction.read: 'read'>,), datetime.date(2026, 3, 1), None)
    """

    patient_id: str | None = Field(None, description="Only entries about this patient.")
    actor: str | None = Field(None, description="Only entries by this actor.")
    actions: tuple[AuditAction, ...] = Field(
        (), description="Only entries with one of these actions; every action when empty."
    )
    since: dt.datetime | dt.date | None = Field(
        None,
        description="Only entries at or after this time (a date: from its start, 00:00 UTC). "
        "A time must carry its zone.",
    )
    until: dt.datetime | dt.date | None = Field(
        None,
        description="Only entries at or before this time (a date: up to its end, 24:00 UTC). "
        "A time must carry its zone.",
    )
    limit: int | None = Field(None, ge=1, description="At most this many entries; all when None.")
    offset: int = Field(0, ge=0, description="Skip this many entries first (in the order read).")
    newest_first: bool = Field(False, description="Newest entries first (default: oldest first).")

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: dt.datetime | dt.date | None) -> dt.datetime | dt.date | None:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise ValueError(
                f"{value.isoformat()} has no time zone; give one (e.g. "
                f"{value.isoformat()}+00:00 for UTC), or a date"
            )
        if isinstance(value, dt.datetime):
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise ValueError(
                    f"{value.isoformat()} is outside the years 1 to 9999 in UTC; give a time "
                    "within them"
                ) from None
        return value

    @model_validator(mode="after")
    def _in_order(self) -> AuditQuery:
        start, end = self.start(), self.end()
        if start is None or end is None:
            return self
        stamp, kept = end
        if start > stamp or (start == stamp and not kept):  # nothing could match
            raise PydanticCustomError(
                "audit_range",
                "until ({until}) is before since ({since}); give the later time as until",
                {"until": str(self.until), "since": str(self.since)},
            )
        return self

    def start(self) -> dt.datetime | None:
        """The earliest time kept (inclusive), in UTC; ``None`` when unbounded."""
        if self.since is None:
            return None
        if isinstance(self.since, dt.datetime):
            return self.since.astimezone(dt.UTC)
        return dt.datetime.combine(self.since, dt.time(), dt.UTC)

    def end(self) -> tuple[dt.datetime, bool] | None:
        """The latest time kept, in UTC, and whether it is itself kept (a time: yes; a date:
        no, it is the next day's 00:00); ``None`` when unbounded."""
        if self.until is None:
            return None
        if isinstance(self.until, dt.datetime):
            return self.until.astimezone(dt.UTC), True
        if self.until == dt.date.max:
            return None
        next_day = self.until + dt.timedelta(days=1)
        return dt.datetime.combine(next_day, dt.time(), dt.UTC), False


class ImportReport(_Frozen):
    """What importing one file did."""

    source: str
    rows: int = Field(description="Records in the file.")
    created: int = Field(description="New patients.")
    updated: int = Field(description="New versions of patients already in the registry.")
    unchanged: int = Field(description="Records identical to their latest version (not stored).")
    patient_ids: tuple[str, ...]
    notes: tuple[str, ...] = Field(
        default=(),
        description=(
            "What reading the file left out or noted, one line each, naming the patient: a FHIR "
            "Bundle's resources the record has no field for, and how values were read."
        ),
    )

    def summary(self) -> str:
        """One line for people, e.g. ``cohort.csv: 200 rows, 200 new, 0 updated, 0 unchanged``."""
        return (
            f"{self.source}: {self.rows} row{'' if self.rows == 1 else 's'}, "
            f"{self.created} new, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
