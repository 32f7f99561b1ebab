"""Checks of a knowledge base beyond its schema: :func:`check_knowledge_base`.

Loading validates every file against its schema and cross-checks ids (references, therapies,
diseases, timing windows). This module adds what needs the profile too — every rule must read
values the immune profile computes, or it would never be decided — and lists entries nothing
uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from immunoprecise.knowledge import KnowledgeBase, Rule, Strategy
from immunoprecise.knowledge.schema import SCALE_REFERENCES
from immunoprecise.profile.immune_profile import compute_values
from immunoprecise.profile.values import ValueBuilder
from immunoprecise.records.columns import record_columns

__all__ = ["KnowledgeBaseCheck", "check_knowledge_base"]

# Families whose keys depend on what a patient's record holds (genes, antigens, markers).
_PER_PATIENT = ("driver.", "antigen.", "density.", "cd8_foxp3_ratio.", "immunoscore.percentile.")


def _profile_metrics(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Key → references of every value the profile computes for some disease of ``kb``."""
    empty = record_columns([])
    metrics: dict[str, tuple[str, ...]] = {}
    for code in (None, *(d.code for d in kb.diseases)):
        for key, computed in compute_values(ValueBuilder(kb, code, empty, explain=False)).items():
            metrics[key] = computed.metric.references
    return metrics


@dataclass(frozen=True)
class KnowledgeBaseCheck:
    """Result of :func:`check_knowledge_base`: errors make the knowledge base unusable."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether there are no errors."""
        return not self.errors


def check_knowledge_base(kb: KnowledgeBase) -> KnowledgeBaseCheck:
    """Check that every rule can be decided and every entry is used.

    Errors: a rule or strategy reads a value the profile never computes (a typo would otherwise
    leave it undecided forever); a rule has no evidence level or reference (the schema already
    refuses both). Warnings: references, therapies or timing windows that nothing uses.

    Examples
    --------
    >>> from immunoprecise.knowledge import load_knowledge_base
    >>> check = check_knowledge_base(load_knowledge_base())
    >>> check.ok, check.counts["rules"] >= 60
    (True, True)
    """
    errors: list[str] = []
    warnings: list[str] = []
    metrics = _profile_metrics(kb)
    known = set(metrics)
    deciding: list[tuple[str, Rule | Strategy]] = [("rule", r) for r in kb.rules]
    deciding += [("strategy", s) for s in kb.strategies]
    for kind, entry in deciding:
        for key in sorted(entry.when.value_keys()):
            if key not in known and not key.startswith(_PER_PATIENT):
                errors.append(f"{kind} {entry.id}: reads {key!r}, which the profile never computes")
    for rule in kb.rules:
        if not rule.references or rule.evidence is None:
            errors.append(f"rule {rule.id}: needs evidence and at least one reference")
    entries: tuple[Any, ...] = (
        *kb.rules,
        *kb.therapies,
        *kb.thresholds,
        *kb.strategies,
        *kb.timing_windows,
        *kb.drivers,
        *kb.constants,
        *kb.immunogram,
    )
    cited = {r for e in entries for r in e.references}
    cited |= set(kb.immunoscore_reference.references) | set(SCALE_REFERENCES)
    cited |= {r for refs in metrics.values() for r in refs}
    unused = sorted({r.id for r in kb.references} - cited)
    if unused:
        warnings.append(f"references cited by nothing: {', '.join(unused)}")
    reachable = {t for r in kb.rules for t in kb.select_therapies(r.therapies)}
    reachable |= {step.therapy for s in kb.strategies for step in s.steps}
    idle = sorted({t.id for t in kb.therapies} - reachable)
    if idle:
        warnings.append(f"therapies no rule or strategy names: {', '.join(idle)}")
    used_windows = {step.window for s in kb.strategies for step in s.steps if step.window}
    used_windows |= {r.window for r in kb.rules if r.window}
    idle_windows = sorted({w.id for w in kb.timing_windows} - used_windows)
    if idle_windows:
        warnings.append(f"timing windows no strategy uses: {', '.join(idle_windows)}")
    counts = {
        "therapies": len(kb.therapies),
        "rules": len(kb.rules),
        "strategies": len(kb.strategies),
        "timing_windows": len(kb.timing_windows),
        "references": len(kb.references),
    }
    return KnowledgeBaseCheck(tuple(errors), tuple(warnings), counts)
