"""The strategy plan: ranked therapy options and multi-step strategies, each with its rationale
trace, evidence, cautions, timing and citations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.knowledge import Effect, Evidence
from immunoprecise.profile import Citation, KnowledgeBaseInfo

__all__ = [
    "OptionChange",
    "OptionStatus",
    "Override",
    "PlanAnswer",
    "PlanStep",
    "PlannedStrategy",
    "RuleFiring",
    "StrategyOption",
    "StrategyPlan",
    "TimingInfo",
    "UnevaluatedRule",
    "WhatIf",
]

OptionStatus = Literal["indicated", "favoured", "disfavoured", "contraindicated"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimingInfo(_Frozen):
    """A timing window attached to a strategy step."""

    window_id: str
    name: str
    anchor: str
    start_day: int
    end_day: int
    peak_day: int | None
    days: str = Field(description="The window as text, e.g. 'days 4–11 (peak day 8)'.")
    purpose: str
    references: tuple[Citation, ...]


class RuleFiring(_Frozen):
    """A knowledge-base rule whose condition held for this patient."""

    rule_id: str
    family: str
    effect: Effect
    evidence: Evidence
    rationale: str
    because: tuple[str, ...] = Field(description="The profile values that met the condition.")
    window: TimingInfo | None = Field(default=None, description="The rule's timing window.")
    references: tuple[Citation, ...]


class StrategyOption(_Frozen):
    """One therapy option for the patient."""

    rank: int = Field(ge=1, description="Rank among options of the same list (1 = best).")
    therapy_id: str
    name: str
    therapy_class: str
    development: str = Field(description="approved, investigational or preclinical.")
    status: OptionStatus
    score: int = Field(description="Sum of rule effects: indicate +3, favour +1, disfavour −2.")
    oncokb_level: str | None = Field(description="Strongest OncoKB level among supporting rules.")
    civic_level: str | None = Field(description="Strongest CIViC level among supporting rules.")
    mechanism: str
    targets: tuple[str, ...]
    tags: tuple[str, ...]
    typical_regimen: str
    key_toxicities: tuple[str, ...]
    rationale: tuple[RuleFiring, ...] = Field(description="Rules that indicate or favour it.")
    cautions: tuple[RuleFiring, ...] = Field(description="Rules that disfavour or contraindicate.")
    references: tuple[Citation, ...] = Field(description="The therapy's own references.")


class PlanStep(_Frozen):
    """One step of a strategy."""

    therapy_id: str
    name: str
    timing: str
    day: int | None = Field(description="Day relative to the strategy's anchor (day 0).")
    window: TimingInfo | None
    purpose: str
    optional: bool
    option_status: OptionStatus | None = Field(
        description="The therapy's status from the rules that fired for it (its status among the "
        "patient's options, or, for a therapy that is no option of its own, the status its "
        "cautions give); None when no rule fired for it."
    )
    cautions: tuple[str, ...] = Field(
        default=(),
        description="Ids of the cautions (disfavour, contraindicate) that fired for the therapy.",
    )


class PlannedStrategy(_Frozen):
    """A sequence or combination proposed for the patient."""

    rank: int = Field(ge=1)
    strategy_id: str
    name: str
    kind: Literal["sequence", "combination"]
    status: Literal["proposed", "contraindicated"]
    anchor: str | None
    today_day: int | None = Field(
        description="The day relative to the anchor today, when the patient has already had the "
        "anchor event (e.g. day 6 after a transplant); None otherwise."
    )
    steps: tuple[PlanStep, ...]
    evidence: Evidence
    rationale: str
    because: tuple[str, ...]
    cautions: tuple[str, ...] = Field(description="Why a step is contraindicated or disfavoured.")
    references: tuple[Citation, ...]


class UnevaluatedRule(_Frozen):
    """A rule or strategy for this disease that could not be decided, and what is missing."""

    rule_id: str
    kind: Literal["rule", "strategy"] = "rule"
    therapies: tuple[str, ...]
    effect: Effect | None
    missing: tuple[str, ...]


class PlanAnswer(_Frozen):
    """The answer to one of the plan's questions (``questions.yaml``)."""

    question_id: str
    question: str
    answer: str
    therapy_ids: tuple[str, ...]


def _value_text(value: float | int | bool | str | None) -> str:
    """A value of an override as the table shows it (12.0 as 12; None as unknown)."""
    if value is None:
        return "unknown"
    return f"{value:g}" if isinstance(value, float) else str(value)


class Override(_Frozen):
    """A hypothetical profile value of a what-if plan."""

    key: str
    before: float | int | bool | str | None
    after: float | int | bool | str | None
    category_before: str | None
    category_after: str | None

    def __str__(self) -> str:
        """The value replaced, in words: ``crp 5 → 120`` (— when the patient had none)."""
        before = "—" if self.before is None else _value_text(self.before)
        return f"{self.key} {before} → {_value_text(self.after)}"


class OptionChange(_Frozen):
    """How one option changed between the actual and the hypothetical plan."""

    therapy_id: str
    name: str
    status_before: OptionStatus | None
    status_after: OptionStatus | None
    score_before: int | None
    score_after: int | None

    def __str__(self) -> str:
        """What changed, in words: the status when it changed, otherwise the score.

        Examples
        --------
        >>> str(OptionChange(therapy_id="p", name="Pembrolizumab", status_before="indicated",
        ...     status_after="indicated", score_before=7, score_after=4))
        'Pembrolizumab: score 7 → 4 (still indicated)'
        >>> str(OptionChange(therapy_id="n", name="Nivolumab", status_before="indicated",
        ...     status_after=None, score_before=3, score_after=None))
        'Nivolumab: indicated → not an option'
        """
        if self.status_before == self.status_after:
            return (
                f"{self.name}: score {self.score_before} → {self.score_after} "
                f"(still {self.status_before or 'not an option'})"
            )
        before = self.status_before or "not an option"
        after = self.status_after or "not an option"
        if None in (self.status_before, self.status_after) or self.score_before == self.score_after:
            return f"{self.name}: {before} → {after}"
        return f"{self.name}: {before} → {after} (score {self.score_before} → {self.score_after})"


class WhatIf(_Frozen):
    """What changed when profile values were replaced by hypothetical ones.

    ``str()`` of it says the same in words: the values replaced and, per option, what changed.
    """

    overrides: tuple[Override, ...]
    changes: tuple[OptionChange, ...]
    strategies_added: tuple[str, ...]
    strategies_removed: tuple[str, ...]
    note: str = (
        "Overrides replace profile values as given; values derived from them (for example the "
        "mGPS from CRP) are not recomputed — change the record and profile it again for that."
    )

    def __str__(self) -> str:
        """The values replaced, then each change of the plan on its own line."""
        lines = [f"what-if: {'; '.join(map(str, self.overrides))}"]
        lines += [f"  {c}" for c in self.changes]
        if self.strategies_added:
            lines.append(f"  strategies now proposed: {', '.join(self.strategies_added)}")
        if self.strategies_removed:
            lines.append(f"  strategies no longer proposed: {', '.join(self.strategies_removed)}")
        if len(lines) == 1:
            lines.append("  no option or strategy changed")
        return "\n".join(lines)


class StrategyPlan(_Frozen):
    """Ranked strategies for one patient: the output of :func:`immunoprecise.recommend`."""

    patient_id: str
    options: tuple[StrategyOption, ...] = Field(
        description="Options that are not contraindicated, best first."
    )
    contraindicated: tuple[StrategyOption, ...] = Field(
        description="Options a rule contraindicates, listed apart with the reason."
    )
    strategies: tuple[PlannedStrategy, ...]
    answers: tuple[PlanAnswer, ...]
    not_evaluated: tuple[UnevaluatedRule, ...]
    disease_note: str | None = Field(
        default=None,
        description="Why the rules written for particular diseases were not checked (no OncoTree "
        "code in the record, or a code the knowledge base does not list); absent when they were.",
    )
    what_if: WhatIf | None = None
    knowledge_base: KnowledgeBaseInfo
    scoring: str = Field(
        default="options ordered by status (indicated, favoured, disfavoured), then score "
        "(indicate +3, favour +1, disfavour −2), then OncoKB and CIViC level; an option with an "
        "indicating rule is indicated whatever cautions apply (they lower its score), otherwise "
        "conflicting rules are weighed by score (> 0 favoured, ≤ 0 disfavoured); a "
        "contraindicating rule moves it to the contraindicated list",
        description="How options are ranked.",
    )
