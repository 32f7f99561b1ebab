"""What the registry gives back: frozen models of stored versions, evaluations, results, audit."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.evaluation import Evaluation
from immunoprecise.records import PatientRecord

__all__ = [
    "AuditAction",
    "AuditEntry",
    "ImportReport",
    "RecordVersion",
    "StoredEvaluation",
    "StoredResult",
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


class ImportReport(_Frozen):
    """What importing one file did."""

    source: str
    rows: int = Field(description="Records in the file.")
    created: int = Field(description="New patients.")
    updated: int = Field(description="New versions of patients already in the registry.")
    unchanged: int = Field(description="Records identical to their latest version (not stored).")
    patient_ids: tuple[str, ...]

    def summary(self) -> str:
        """One line for people, e.g. ``cohort.csv: 200 rows, 200 new, 0 updated, 0 unchanged``."""
        return (
            f"{self.source}: {self.rows} rows, {self.created} new, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
