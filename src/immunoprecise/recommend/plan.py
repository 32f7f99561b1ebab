"""The strategy plan: ranked therapy options with rationale trace, evidence and cautions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.knowledge import Effect, Evidence
from immunoprecise.profile import Citation, KnowledgeBaseInfo

__all__ = ["OptionStatus", "RuleFiring", "StrategyOption", "StrategyPlan", "UnevaluatedRule"]

OptionStatus = Literal["indicated", "favoured", "disfavoured", "contraindicated"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleFiring(_Frozen):
    """A knowledge-base rule whose condition held for this patient."""

    rule_id: str
    effect: Effect
    evidence: Evidence
    rationale: str
    because: tuple[str, ...] = Field(description="The profile values that met the condition.")
    references: tuple[Citation, ...]


class StrategyOption(_Frozen):
    """One therapy option for the patient."""

    rank: int = Field(ge=1)
    therapy_id: str
    name: str
    therapy_class: str
    status: OptionStatus
    score: int = Field(description="Sum of rule effects: indicate +3, favour +1, disfavour −2.")
    oncokb_level: str | None = Field(description="Strongest OncoKB level among supporting rules.")
    civic_level: str | None = Field(description="Strongest CIViC level among supporting rules.")
    mechanism: str
    typical_regimen: str
    key_toxicities: tuple[str, ...]
    rationale: tuple[RuleFiring, ...] = Field(description="Rules that indicate or favour it.")
    cautions: tuple[RuleFiring, ...] = Field(description="Rules that disfavour or contraindicate.")


class UnevaluatedRule(_Frozen):
    """A rule for this disease that could not be decided, and what is missing to decide it."""

    rule_id: str
    therapies: tuple[str, ...]
    effect: Effect
    missing: tuple[str, ...]


class StrategyPlan(_Frozen):
    """Ranked strategies for one patient: the output of :func:`immunoprecise.recommend`."""

    patient_id: str
    options: tuple[StrategyOption, ...]
    not_evaluated: tuple[UnevaluatedRule, ...]
    knowledge_base: KnowledgeBaseInfo
    scoring: str = Field(
        default="options ordered by status (indicated, favoured, disfavoured, contraindicated), "
        "then score (indicate +3, favour +1, disfavour −2), then OncoKB and CIViC level",
        description="How options are ranked.",
    )
