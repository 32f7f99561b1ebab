"""A cohort: patient records with their observed outcomes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from immunoprecise.errors import repeated
from immunoprecise.records.base import RecordModel
from immunoprecise.records.patient import BestResponse, PatientId, ids_differing_in_case
from immunoprecise.records.quantity import Measured, Quantity
from immunoprecise.records.record import PatientRecord
from immunoprecise.records.scalars import Flag

__all__ = ["Cohort", "Outcome"]

Days = Annotated[Quantity | None, Measured("days", ge=0, le=36525)]


class Outcome(RecordModel):
    """Observed outcome of one patient after the evaluated treatment.

    Times are in days from the start of treatment; an event flag of false means censored.
    """

    patient_id: PatientId
    treatment: str | None = Field(default=None, description="Treatment the outcome refers to.")
    best_response: BestResponse | None = None
    pfs: Days = Field(default=None, description="Progression-free survival time")
    pfs_event: Flag | None = Field(default=None, description="Progression or death observed.")
    os: Days = Field(default=None, description="Overall survival time")
    os_event: Flag | None = Field(default=None, description="Death observed.")

    @model_validator(mode="after")
    def _consistent(self) -> Outcome:
        for name in ("pfs", "os"):
            if (getattr(self, name) is None) != (getattr(self, f"{name}_event") is None):
                raise ValueError(f"give both {name} and {name}_event, or neither")
        if self.pfs and self.os and self.pfs.value > self.os.value + 1e-9:
            raise ValueError(
                f"pfs ({self.pfs}) is longer than os ({self.os}); progression-free time cannot "
                "exceed overall follow-up"
            )
        return self


class Cohort(RecordModel):
    """Records of many patients and, where known, their outcomes (matched by patient id)."""

    records: tuple[PatientRecord, ...]
    outcomes: tuple[Outcome, ...] = ()

    @model_validator(mode="after")
    def _ids_match(self) -> Cohort:
        ids = [r.patient.id for r in self.records]
        dupes = repeated(ids)
        if dupes:
            raise ValueError(f"patient ids occur more than once: {dupes[:5]}")
        cased = ids_differing_in_case(ids)
        if cased:
            raise ValueError(
                f"patient ids differ only in case: {', '.join(' and '.join(g) for g in cased[:5])}"
                f"{', ...' if len(cased) > 5 else ''}; ids are case-sensitive, so these would "
                "be different patients: write one patient's id the same way everywhere, or give "
                "different patients ids that differ in more than case"
            )
        out_ids = [o.patient_id for o in self.outcomes]
        unknown = sorted(set(out_ids) - set(ids))
        if unknown:
            folded = {pid.casefold(): pid for pid in ids}
            matched = [(u, folded[u.casefold()]) for u in unknown if u.casefold() in folded]
            hint = (
                "; "
                + ", ".join(f"{u!r} matches the record {pid!r}" for u, pid in matched[:5])
                + " except for case: patient ids are case-sensitive, write each id the same way "
                "in the records and the outcomes"
                if matched
                else ""
            )
            raise ValueError(f"outcomes for patients without a record: {unknown[:5]}{hint}")
        if len(set(out_ids)) != len(out_ids):
            raise ValueError("more than one outcome for a patient")
        return self

    def outcome(self, patient_id: str) -> Outcome | None:
        """Return the outcome of ``patient_id``, or ``None`` if it is not known."""
        return next((o for o in self.outcomes if o.patient_id == patient_id), None)
