"""The knowledge base: therapies, biomarker rules, thresholds, evidence and references, as data.

Examples
--------
>>> from immunoprecise.knowledge import load_knowledge_base
>>> kb = load_knowledge_base()
>>> kb.therapy("pembrolizumab").therapy_class
'checkpoint_inhibitor'
"""

from immunoprecise.knowledge.base import (
    ENTRY_KINDS,
    Entry,
    EntryKind,
    KnowledgeBase,
    SearchMatch,
    default_knowledge_dir,
    find_entries,
    load_knowledge_base,
    search_knowledge_base,
)
from immunoprecise.knowledge.measures import (
    ActionableDriver,
    AxisComponent,
    Constant,
    DensityReference,
    ImmunogramAxis,
    TherapyHistoryCategory,
)
from immunoprecise.knowledge.schema import (
    CIVIC_LEVELS,
    ONCOKB_LEVELS,
    Condition,
    Development,
    DiseaseNode,
    Effect,
    Evidence,
    Reference,
    Rule,
    RuleFamily,
    Therapy,
    Threshold,
)
from immunoprecise.knowledge.strategies import PlanQuestion, Strategy, StrategyStep, TimingWindow

__all__ = [
    "CIVIC_LEVELS",
    "ENTRY_KINDS",
    "ONCOKB_LEVELS",
    "ActionableDriver",
    "AxisComponent",
    "Condition",
    "Constant",
    "DensityReference",
    "Development",
    "DiseaseNode",
    "Effect",
    "Entry",
    "EntryKind",
    "Evidence",
    "ImmunogramAxis",
    "KnowledgeBase",
    "PlanQuestion",
    "Reference",
    "Rule",
    "RuleFamily",
    "SearchMatch",
    "Strategy",
    "StrategyStep",
    "Therapy",
    "TherapyHistoryCategory",
    "Threshold",
    "TimingWindow",
    "default_knowledge_dir",
    "find_entries",
    "load_knowledge_base",
    "search_knowledge_base",
]
