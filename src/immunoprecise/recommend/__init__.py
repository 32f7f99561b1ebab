"""The strategy engine: match an immune profile against the knowledge base.

Examples
--------
>>> from immunoprecise.recommend import recommend, StrategyPlan
>>> StrategyPlan.__name__
'StrategyPlan'
"""

from immunoprecise.recommend.conditions import Verdict, evaluate_condition
from immunoprecise.recommend.engine import recommend
from immunoprecise.recommend.plan import (
    OptionStatus,
    RuleFiring,
    StrategyOption,
    StrategyPlan,
    UnevaluatedRule,
)

__all__ = [
    "OptionStatus",
    "RuleFiring",
    "StrategyOption",
    "StrategyPlan",
    "UnevaluatedRule",
    "Verdict",
    "evaluate_condition",
    "recommend",
]
