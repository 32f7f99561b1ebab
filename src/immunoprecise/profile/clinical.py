"""Clinical context used by the rules: disease status, lines of therapy, age, ECOG."""

from __future__ import annotations

from immunoprecise.profile.values import ProfileValue, ValueBuilder
from immunoprecise.records import PatientRecord

__all__ = ["clinical_values"]

_RECORDED = "as recorded"


def _count_lines(record: PatientRecord) -> int:
    therapies = record.patient.prior_therapies
    numbered = {t.line for t in therapies if t.line is not None}
    return len(numbered) + sum(1 for t in therapies if t.line is None)


def clinical_values(record: PatientRecord, build: ValueBuilder) -> list[ProfileValue]:
    """Disease status, number of prior lines, age and ECOG, as the rules read them."""
    out = []
    status = record.disease.status
    out.append(
        build.assessed(
            "disease_status",
            "Disease status",
            status.value,
            method=_RECORDED,
            inputs=["disease.status"],
        )
        if status is not None
        else build.not_assessable(
            "disease_status", "Disease status", method=_RECORDED, missing=["disease.status"]
        )
    )
    out.append(
        build.assessed(
            "prior_lines",
            "Prior lines of therapy",
            _count_lines(record),
            unit="lines",
            method="distinct line numbers of the recorded prior therapies (induction, transplant "
            "and maintenance recorded with one line number count once); a therapy without a "
            "line number counts as a line of its own",
            inputs=["patient.prior_therapies"],
        )
    )
    age = record.patient.age
    out.append(
        build.assessed(
            "age", "Age", age.value, unit="years", method=_RECORDED, inputs=["patient.age"]
        )
        if age is not None
        else build.not_assessable(
            "age", "Age", unit="years", method=_RECORDED, missing=["patient.age"]
        )
    )
    ecog = record.patient.ecog
    out.append(
        build.assessed(
            "ecog", "ECOG performance status", ecog, method=_RECORDED, inputs=["patient.ecog"]
        )
        if ecog is not None
        else build.not_assessable(
            "ecog", "ECOG performance status", method=_RECORDED, missing=["patient.ecog"]
        )
    )
    return out
