"""Plans made of several therapies: timing windows, strategies (sequences and combinations),
and the questions a plan answers.

A :class:`Strategy` is proposed when its condition holds: an ordered list of steps, each a
therapy of the knowledge base with its timing (a day relative to the strategy's anchor, or a
:class:`TimingWindow`) and its purpose.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from immunoprecise.knowledge.schema import Condition, Evidence, _Entry

__all__ = ["PlanQuestion", "Strategy", "StrategyStep", "TimingWindow"]


class TimingWindow(_Entry):
    """A period after an anchor event when a therapy works best (or must not be given).

    Days count from the anchor (day 0), e.g. the autologous stem-cell infusion.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    anchor: str = Field(description="The event day 0 refers to, e.g. the stem-cell infusion.")
    start_day: int = Field(ge=-365, le=3650)
    end_day: int = Field(ge=-365, le=3650)
    peak_day: int | None = Field(default=None, ge=-365, le=3650)
    purpose: str
    diseases: tuple[str, ...] | None = None
    references: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _order(self) -> TimingWindow:
        if self.end_day < self.start_day:
            raise ValueError(f"end_day {self.end_day} is before start_day {self.start_day}")
        if self.peak_day is not None and not self.start_day <= self.peak_day <= self.end_day:
            raise ValueError(f"peak_day {self.peak_day} lies outside the window")
        return self

    @property
    def days_text(self) -> str:
        """The window as text, as the knowledge base's own timings write days: ``days 5–12
        (peak day 8)``; a range with a negative day ``days −7 to −2``, with a minus sign (an
        en dash between two negative numbers would read as ``−7–−2``).

        Examples
        --------
        >>> w = dict(id="w", name="w", anchor="infusion", purpose="p", references=["r"])
        >>> TimingWindow(**w, start_day=5, end_day=12, peak_day=8).days_text
        'days 5–12 (peak day 8)'
        >>> TimingWindow(**w, start_day=-7, end_day=-2, peak_day=-4).days_text
        'days −7 to −2 (peak day −4)'
        >>> TimingWindow(**w, start_day=-3, end_day=4).days_text
        'days −3 to 4'
        >>> TimingWindow(**w, start_day=0, end_day=0).days_text
        'day 0'
        """
        peak = f" (peak day {_day(self.peak_day)})" if self.peak_day is not None else ""
        start, end = _day(self.start_day), _day(self.end_day)
        if self.start_day == self.end_day:
            return f"day {start}{peak}"
        between = " to " if self.start_day < 0 else "–"
        return f"days {start}{between}{end}{peak}"


def _day(day: int) -> str:
    """A day number with a minus sign (U+2212) rather than a hyphen when negative."""
    return f"−{-day}" if day < 0 else str(day)


class StrategyStep(_Entry):
    """One step of a strategy: a therapy, when to give it and why."""

    therapy: str = Field(pattern=r"^[a-z0-9_]+$")
    timing: str = Field(description="When, in words, e.g. 'days −5 to −3 before the infusion'.")
    day: int | None = Field(
        default=None, ge=-365, le=3650, description="Day relative to the anchor (day 0)."
    )
    window: str | None = Field(default=None, description="Timing-window id, if one applies.")
    purpose: str
    optional: bool = False

    @property
    def day_text(self) -> str:
        """The step's day with a minus sign when negative, ``""`` when it has none.

        Examples
        --------
        >>> StrategyStep(therapy="x", timing="t", day=-21, purpose="p").day_text
        'day −21'
        """
        return f"day {_day(self.day)}" if self.day is not None else ""


class Strategy(_Entry):
    """A sequence or combination of therapies proposed as one plan.

    ``kind`` is ``sequence`` (steps in order, e.g. debulk → lymphodeplete → CAR-T →
    maintenance) or ``combination`` (steps given together, e.g. an immunogenic-cell-death
    nanomedicine with PD-1 blockade).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    kind: Literal["sequence", "combination"]
    diseases: tuple[str, ...] | None = None
    when: Condition
    anchor: str | None = Field(default=None, description="What day 0 of the steps is.")
    anchor_history: str | None = Field(
        default=None,
        description="Therapy-history category (therapy_history.yaml) whose latest date is day 0 "
        "when the patient has already had it: the plan then says which day it is now.",
    )
    steps: tuple[StrategyStep, ...] = Field(min_length=2)
    evidence: Evidence
    rationale: str
    references: tuple[str, ...] = Field(min_length=1)


class PlanQuestion(_Entry):
    """A question a plan answers from its options, e.g. "which checkpoint to release?".

    The answer is the best-ranked option (not contraindicated) carrying one of ``tags``.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    question: str
    tags: tuple[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], ...] = Field(min_length=1)
    none: str = Field(description="The answer when no option carries one of the tags.")
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Per tag, how the answer starts, e.g. effector_cell_product: 'Give "
        "effector cells as a drug'.",
    )
