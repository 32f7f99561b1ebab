"""The patient: identity (pseudonymous), demographics, performance status, history, HLA type."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from immunoprecise.records.base import RecordModel
from immunoprecise.records.quantity import Measured, Quantity
from immunoprecise.records.scalars import (
    IDENTIFIER_TEXT,
    CalendarDate,
    Choice,
    OptionalWholeNumber,
)

__all__ = [
    "BestResponse",
    "Patient",
    "PriorTherapy",
    "Sex",
    "ids_differing_in_case",
    "is_none_placeholder",
]

PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""The form of a pseudonymous patient id (ASCII letters, digits, ``_ . -``; 1–64)."""

PatientId = Annotated[
    str,
    Field(
        pattern=PATIENT_ID_PATTERN,
        description="Pseudonymous patient identifier: letters, digits, '_', '.', '-' (1–64); "
        "never a name or a hospital number.",
    ),
    IDENTIFIER_TEXT,  # 12 is '12' (see scalars.Identifier)
]


def ids_differing_in_case(ids: Iterable[str]) -> list[list[str]]:
    """The groups of ids that differ from each other only in case (``SYN-01`` and ``syn-01``).

    Patient ids are case-sensitive, so such ids are different patients to every part of
    immunoprecise; in one table or one import they are almost always one patient typed twice.
    Ids given more than once in the same case are not grouped (that is a repeated id).

    Parameters
    ----------
    ids
        Patient ids (:data:`PatientId`: letters, digits, ``_``, ``.``, ``-``).

    Returns
    -------
    list of list of str
        Each group sorted, and the groups sorted; empty when no two differ only
        in case.

    Examples
    --------
    >>> ids_differing_in_case(["SYN-01", "SYN-02", "syn-01", "SYN-01"])
    [['SYN-01', 'syn-01']]
    """
    groups: dict[str, set[str]] = {}
    for pid in ids:
        groups.setdefault(pid.casefold(), set()).add(pid)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)


HLA_ALLELE = re.compile(
    r"^(A|B|C|E|G|DRB[1345]|DQA1|DQB1|DPA1|DPB1)\*\d{2,3}(:\d{2,3}){0,3}[NLSCAQ]?$"
)


class Sex(Choice):
    """Sex recorded for the patient."""

    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class BestResponse(Choice):
    """Best overall response (RECIST 1.1 / Lugano 2014 / IMWG categories)."""

    CR = "CR"
    sCR = "sCR"
    VGPR = "VGPR"
    PR = "PR"
    MR = "MR"
    SD = "SD"
    PD = "PD"
    NE = "NE"


_NONE_PLACEHOLDERS = frozenset(
    {"none", "no", "nil", "na", "n/a", "n.a.", "-", "--", "—", "–", "0", "false", "unknown",
     "none known", "not known", "not applicable", "negative", "absent"}
)  # fmt: skip


def is_none_placeholder(item: str) -> bool:
    """Whether a list item such as ``none``, ``N/A`` or ``-`` says that there is nothing.

    Examples
    --------
    >>> is_none_placeholder(" N/A "), is_none_placeholder("psoriasis")
    (True, False)
    """
    return item.strip().casefold() in _NONE_PLACEHOLDERS


NO_PRIOR_THERAPY = "none"
"""How a patient table writes "no prior therapy" (an empty cell is "not recorded")."""


class PriorTherapy(RecordModel):
    """One line of prior therapy."""

    name: str = Field(min_length=1, description="Regimen, e.g. 'R-CHOP' or 'pembrolizumab'.")
    therapy_class: str | None = Field(
        default=None, description="Class, e.g. 'chemoimmunotherapy', 'anti-PD-1', 'CAR-T'."
    )
    line: OptionalWholeNumber = Field(
        default=None, ge=1, le=20, description="Line of therapy (1 = first)."
    )
    start: CalendarDate | None = Field(default=None, description="Start date (ISO 8601).")
    end: CalendarDate | None = Field(default=None, description="End date (ISO 8601).")
    best_response: BestResponse | None = Field(default=None, description="Best response.")
    irae_grade: OptionalWholeNumber = Field(
        default=None,
        ge=0,
        le=5,
        description="Highest grade (CTCAE v5, 0–5) of immune-related adverse events on this "
        "therapy; 0 = none.",
    )

    @field_validator("name")
    @classmethod
    def _a_therapy(cls, name: str) -> str:
        # "none" as a therapy would count as a line of treatment
        if is_none_placeholder(name):
            raise ValueError(
                f"{name.strip()!r} is not a therapy; a patient without prior therapy has an empty "
                "list (in a table, the cell 'none'); leave the field out when it is not recorded"
            )
        return name

    @model_validator(mode="after")
    def _end_after_start(self) -> PriorTherapy:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Patient(RecordModel):
    """Who the patient is, as far as an immune evaluation needs."""

    id: PatientId
    age: Annotated[Quantity | None, Measured("years", ge=0, le=120)] = Field(
        default=None, description="Age at evaluation"
    )
    sex: Sex | None = None
    ecog: OptionalWholeNumber = Field(
        default=None, ge=0, le=5, description="ECOG performance status (0–5, Oken et al. 1982)."
    )
    comorbidities: tuple[str, ...] = Field(default=(), description="Relevant comorbidities.")
    autoimmune_diseases: tuple[str, ...] = Field(
        default=(), description="Active or past autoimmune diseases (empty = none known)."
    )
    prior_therapies: tuple[PriorTherapy, ...] | None = Field(
        default=None,
        description=(
            "Prior lines of therapy; an empty list = none (treatment-naive); absent = not "
            "recorded, so every rule on the treatment history stays undecided."
        ),
    )
    hla_type: tuple[str, ...] = Field(
        default=(), description="HLA alleles, e.g. 'A*02:01' (the 'HLA-' prefix is optional)."
    )

    @field_validator("comorbidities", "autoimmune_diseases")
    @classmethod
    def _no_placeholders(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        # "none" listed as an autoimmune disease would count as one (and weigh against
        # checkpoint blockade): an empty list is how "none known" is written
        cleaned = tuple(item.strip() for item in items)
        placeholders = [item for item in cleaned if is_none_placeholder(item)]
        if placeholders:
            raise ValueError(
                f"{placeholders[0]!r} is not a name; leave the list empty (an empty cell) when "
                "none is known"
            )
        if "" in cleaned:
            raise ValueError("an empty name; leave it out")
        return cleaned

    @field_validator("hla_type")
    @classmethod
    def _hla_alleles(cls, alleles: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(a.strip().removeprefix("HLA-") for a in alleles)
        bad = [a for a in cleaned if not HLA_ALLELE.match(a)]
        if bad:
            raise ValueError(f"not HLA allele names: {bad}; write e.g. 'A*02:01' or 'DRB1*15:01'")
        return cleaned
