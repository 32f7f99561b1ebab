"""The knowledge base: therapies, biomarker rules, thresholds, evidence and references, as data.

Examples
--------
>>> from immunoprecise.knowledge import load_knowledge_base
>>> kb = load_knowledge_base()
>>> kb.therapy("pembrolizumab").therapy_class
'checkpoint_inhibitor'
"""

from immunoprecise.knowledge.base import KnowledgeBase, default_knowledge_dir, load_knowledge_base
from immunoprecise.knowledge.measures import (
    ActionableDriver,
    AxisComponent,
    Constant,
    DensityReference,
    ImmunogramAxis,
)
from immunoprecise.knowledge.schema import (
    CIVIC_LEVELS,
    ONCOKB_LEVELS,
    Condition,
    DiseaseNode,
    Effect,
    Evidence,
    Reference,
    Rule,
    Therapy,
    Threshold,
)

__all__ = [
    "CIVIC_LEVELS",
    "ONCOKB_LEVELS",
    "ActionableDriver",
    "AxisComponent",
    "Condition",
    "Constant",
    "DensityReference",
    "DiseaseNode",
    "Effect",
    "Evidence",
    "ImmunogramAxis",
    "KnowledgeBase",
    "Reference",
    "Rule",
    "Therapy",
    "Threshold",
    "default_knowledge_dir",
    "load_knowledge_base",
]
