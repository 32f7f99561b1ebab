"""The strategy engine: match an immune profile against the knowledge base.

:func:`recommend` ranks options and strategies for one profile, with the full rationale trace;
:func:`recommend_frame` and :func:`recommend_table` do the same decisions for many patients at
once (vectorized, without the trace).

Examples
--------
>>> from immunoprecise.recommend import recommend, StrategyPlan
>>> StrategyPlan.__name__
'StrategyPlan'
"""

from immunoprecise.recommend.conditions import Verdict, evaluate_condition
from immunoprecise.recommend.engine import recommend
from immunoprecise.recommend.frame import recommend_frame, recommend_table
from immunoprecise.recommend.plan import (
    OptionChange,
    OptionStatus,
    Override,
    PlanAnswer,
    PlannedStrategy,
    PlanStep,
    RuleFiring,
    StrategyOption,
    StrategyPlan,
    TimingInfo,
    UnevaluatedRule,
    WhatIf,
)
from immunoprecise.recommend.what_if import apply_overrides

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
    "Verdict",
    "WhatIf",
    "apply_overrides",
    "evaluate_condition",
    "recommend",
    "recommend_frame",
    "recommend_table",
]
