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
        build.recorded(
            "disease_status",
            "Disease status",
            status.value if status else None,
            field="disease.status",
            method=_RECORDED,
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
        build.recorded(
            "age",
            "Age",
            age.value if age else None,
            field="patient.age",
            method=_RECORDED,
            unit="years",
        )
    )
    out.append(
        build.recorded(
            "ecog",
            "ECOG performance status",
            record.patient.ecog,
            field="patient.ecog",
            method=_RECORDED,
        )
    )
    return out
