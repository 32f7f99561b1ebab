"""The result of grading one syndrome on one day: :class:`Grade`, built from :class:`DomainGrade`.

A grade is decided by its worst domain (ASTCT: "the most severe event"). A domain whose inputs
are missing has an unknown grade; the overall grade is then unknown too — unless a domain already
reached grade 4, the highest — and the grades the assessed domains prove are kept as a lower
bound (``at_least``), so a missing finding never counts as normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ASTCT_REFERENCE", "MAX_GRADE", "DomainGrade", "Grade", "worst"]

ASTCT_REFERENCE = (
    "Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine Release "
    "Syndrome and Neurologic Toxicity Associated with Immune Effector Cells. Biol Blood Marrow "
    "Transplant 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758"
)
MAX_GRADE = 4
"""Grade 5 (death from the syndrome) is not graded from daily observations."""

Syndrome = Literal["CRS", "ICANS"]


class DomainGrade(BaseModel):
    """The grade one domain (fever, hypotension, ICE score, seizure, …) gives.

    ``grade`` is ``None`` when the domain's inputs are missing; ``at_least`` is then what the
    inputs that are present already prove (e.g. a nasal cannula without its flow proves grade 2).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    grade: int | None = Field(ge=0, le=MAX_GRADE)
    finding: str = Field(description="What was observed, in words.")
    at_least: int = Field(default=0, ge=0, le=MAX_GRADE)
    missing: tuple[str, ...] = ()


class Grade(BaseModel):
    """The grade of one syndrome on one day, with the criterion that decided it.

    Examples
    --------
    >>> g = Grade(syndrome="CRS", grade=None, at_least=2, criterion="hypotension",
    ...           rationale="", missing=("oxygen",))
    >>> g.text
    'unknown (≥ grade 2)'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    syndrome: Syndrome
    grade: int | None = Field(
        ge=0, le=MAX_GRADE, description="The grade 0–4; None when missing findings could change it."
    )
    at_least: int = Field(
        default=0, ge=0, le=MAX_GRADE, description="The grade the assessed findings prove."
    )
    criterion: str = Field(description="The domain and finding that decided the grade.")
    rationale: str
    domains: tuple[DomainGrade, ...] = ()
    missing: tuple[str, ...] = Field(default=(), description="Observation fields not recorded.")
    reference: str = ASTCT_REFERENCE

    @property
    def known(self) -> bool:
        """Whether the grade is decided."""
        return self.grade is not None

    @property
    def text(self) -> str:
        """``grade 2``, ``unknown (≥ grade 1)`` or ``unknown``."""
        if self.grade is not None:
            return f"grade {self.grade}"
        return f"unknown (≥ grade {self.at_least})" if self.at_least else "unknown"


def worst(syndrome: Syndrome, domains: Sequence[DomainGrade], *, note: str = "") -> Grade:
    """Combine domain grades into the syndrome's grade: the worst domain decides.

    Parameters
    ----------
    syndrome
        ``CRS`` or ``ICANS``.
    domains
        The graded domains.
    note
        Extra text for the rationale (e.g. why fever was not required).

    Returns
    -------
    Grade
        Exact when every domain is known or one reached grade 4; otherwise unknown with the
        proven lower bound and the missing fields.

    Examples
    --------
    >>> d = [DomainGrade(domain="ICE score", grade=1, finding="ICE 8"),
    ...      DomainGrade(domain="seizure", grade=None, finding="not assessed",
    ...                  missing=("seizure",))]
    >>> worst("ICANS", d).text
    'unknown (≥ grade 1)'
    """
    bound = max((d.grade if d.grade is not None else d.at_least for d in domains), default=0)
    unknown = [d for d in domains if d.grade is None]
    missing = tuple(dict.fromkeys(m for d in unknown for m in d.missing))
    decided = not unknown or bound == MAX_GRADE
    deciding = max(
        (d for d in domains if d.grade is not None),
        key=lambda d: d.grade or 0,
        default=None,
    )
    if deciding is not None and (deciding.grade or 0) == bound and bound > 0:
        criterion = f"{deciding.domain}: {deciding.finding}"
    elif bound > 0:
        lower = next(d for d in domains if d.at_least == bound)
        criterion = f"{lower.domain}: {lower.finding}"
    else:
        criterion = "no domain above grade 0"
    findings = "; ".join(f"{d.domain}: {d.finding}" for d in domains)
    if decided:
        rationale = f"{syndrome} grade {bound} — the worst domain decides ({findings})."
    else:
        rationale = (
            f"{syndrome} grade unknown: not assessed — {', '.join(missing)}; the assessed "
            f"domains prove grade ≥ {bound} ({findings})."
        )
    if note:
        rationale += f" {note}"
    return Grade(
        syndrome=syndrome,
        grade=bound if decided else None,
        at_least=bound,
        criterion=criterion,
        rationale=rationale,
        domains=tuple(domains),
        missing=() if decided else missing,
    )
