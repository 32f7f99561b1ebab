"""CRS and ICANS grades over a patient's course, day by day: :func:`grade_course`.

Each day is graded with :func:`~immunoprecise.safety.grade_crs` and
:func:`~immunoprecise.safety.grade_icans`. The course carries one piece of state from day to day:
once a day had CRS fever (≥ 38.0 °C) and antipyretic or anti-cytokine therapy was given on that
day or later, fever is no longer required on that day and every later day (ASTCT, Lee 2019).
The maximum grade of each syndrome is the highest grade the observations prove, with the first
day it was reached; it is ``complete`` only when no undecided day could exceed it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.records import PatientRecord, ToxicityObservation
from immunoprecise.safety.crs import FEVER_C, grade_crs
from immunoprecise.safety.grade import MAX_GRADE, Grade
from immunoprecise.safety.icans import grade_icans, uses_capd

__all__ = ["DayGrades", "MaxGrade", "ToxicityCourse", "grade_course"]


class DayGrades(BaseModel):
    """The CRS and ICANS grades of one day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: int = Field(description="Days since the effector-cell infusion.")
    date: str | None = Field(default=None, description="ISO date, if recorded.")
    crs: Grade
    icans: Grade
    fever_masked: bool = Field(description="Whether fever was not required for CRS this day.")


class MaxGrade(BaseModel):
    """The highest grade of one syndrome over the course and the first day it was reached.

    Examples
    --------
    >>> MaxGrade(syndrome="CRS", grade=2, day=2, complete=False, undecided_days=(4,)).text
    '≥ grade 2 (day 2); day 4 undecided'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    syndrome: str
    grade: int | None = Field(
        description="Highest grade the observations prove (exact or lower bound); None if no "
        "day proves any grade."
    )
    day: int | None = Field(description="First day that grade was reached.")
    complete: bool = Field(
        description="Whether the maximum is exact: no undecided day could exceed it."
    )
    undecided_days: tuple[int, ...] = Field(
        default=(), description="Days whose grade is unknown because findings are missing."
    )

    @property
    def text(self) -> str:
        """E.g. ``grade 2 (day 2)`` or ``≥ grade 1 (day 1); days 3, 4 undecided``."""
        if self.grade is None:
            return "unknown"
        shown = f"grade {self.grade}" if self.complete else f"≥ grade {self.grade}"
        if self.day is not None and self.grade > 0:
            shown += f" (day {self.day})"
        if not self.complete and self.undecided_days:
            days = ", ".join(map(str, self.undecided_days))
            shown += f"; day{'s' if len(self.undecided_days) > 1 else ''} {days} undecided"
        return shown


class ToxicityCourse(BaseModel):
    """Daily CRS and ICANS grades of one patient with the maximum grade of each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: tuple[DayGrades, ...]
    crs_max: MaxGrade
    icans_max: MaxGrade
    age_years: float | None = Field(description="Age used to choose ICE or CAPD.")
    neuro_tool: str = Field(description="'ICE', 'CAPD' or 'as recorded' (age unknown).")


def _maximum(syndrome: str, days: Sequence[tuple[int, Grade]]) -> MaxGrade:
    best: int | None = None
    best_day: int | None = None
    undecided = []
    for day, g in days:
        value = g.grade if g.grade is not None else g.at_least
        if g.grade is None:
            undecided.append(day)
            if not g.at_least:
                continue
        if best is None or value > best:
            best, best_day = value, day
    # an empty course proves nothing; undecided days matter only if they could exceed the maximum
    complete = bool(days) and best is not None and (best == MAX_GRADE or not undecided)
    return MaxGrade(
        syndrome=syndrome,
        grade=best,
        day=best_day,
        complete=complete,
        undecided_days=tuple(undecided) if not complete else (),
    )


def grade_course(
    data: PatientRecord | Sequence[ToxicityObservation], *, age_years: float | None = None
) -> ToxicityCourse:
    """Grade CRS and ICANS on every observed day and find the maximum grade of each.

    Parameters
    ----------
    data
        A patient record (its ``toxicity`` observations and ``patient.age``) or the
        observations themselves, in any order (they are graded by ``day``).
    age_years
        Age in years, to choose the ICE (> 12) or CAPD (≤ 12); taken from the record when
        omitted.

    Returns
    -------
    ToxicityCourse
        Per day the two grades (with criterion, rationale, missing fields), and per syndrome
        the highest proven grade, the first day it was reached and whether it is exact.

    Examples
    --------
    >>> from immunoprecise.records import ToxicityObservation as Obs
    >>> days = [Obs(day=1, temperature=38.5, hypotension="none", oxygen="none"),
    ...         Obs(day=2, temperature=39.0, hypotension="no_vasopressor", oxygen="none",
    ...             fever_treated=True),
    ...         Obs(day=3, temperature=37.1, hypotension="one_vasopressor", oxygen="none")]
    >>> course = grade_course(days, age_years=50)
    >>> [d.crs.grade for d in course.days], course.crs_max.grade, course.crs_max.day
    ([1, 2, 3], 3, 3)
    """
    if isinstance(data, PatientRecord):
        observations: Sequence[ToxicityObservation] = data.toxicity
        if age_years is None and data.patient.age is not None:
            age_years = data.patient.age.value
    else:
        observations = data
    ordered = sorted(observations, key=lambda o: o.day)
    fever_seen = False
    masked = False
    graded: list[DayGrades] = []
    for obs in ordered:
        febrile = obs.temperature is not None and obs.temperature.value >= FEVER_C
        fever_seen |= febrile
        # treatment counts once CRS fever has been seen, on that day or a later one
        if fever_seen and obs.fever_treated:
            masked = True
        graded.append(
            DayGrades(
                day=obs.day,
                date=obs.date.isoformat() if obs.date else None,
                crs=grade_crs(obs, fever_masked=masked),
                icans=grade_icans(obs, age_years=age_years),
                fever_masked=masked,
            )
        )
    capd = uses_capd(age_years)
    return ToxicityCourse(
        days=tuple(graded),
        crs_max=_maximum("CRS", [(d.day, d.crs) for d in graded]),
        icans_max=_maximum("ICANS", [(d.day, d.icans) for d in graded]),
        age_years=age_years,
        neuro_tool="as recorded" if capd is None else ("CAPD" if capd else "ICE"),
    )
