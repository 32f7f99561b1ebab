"""Checks of a knowledge base beyond its schema: :func:`check_knowledge_base`.

Loading validates every file against its schema and cross-checks ids (references, therapies,
diseases, timing windows). This module adds what needs the profile too — every rule must read
values the immune profile computes, or it would never be decided — and lists entries nothing
uses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from immunoprecise.knowledge import Condition, KnowledgeBase, Rule, Strategy
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


def _category_labels(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Key → every category label the knowledge base can give that value (thresholds, drivers)."""
    labels: dict[str, set[str]] = {}
    for threshold in kb.thresholds:
        labels.setdefault(threshold.value, set()).update(threshold.labels)
    for driver in kb.drivers:
        labels.setdefault(f"driver.{driver.gene}", set()).add(driver.label)
    return labels


def _category_comparisons(condition: Condition) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``(key, operands)`` of every ``of: category`` comparison by ``equals``/``in``."""
    if condition.value is not None and condition.of == "category":
        if condition.equals is not None:
            yield condition.value, (str(condition.equals),)
        elif condition.in_ is not None:
            yield condition.value, condition.in_
    children = (*(condition.all or ()), *(condition.any or ()))
    for child in (*children, *((condition.not_,) if condition.not_ else ())):
        yield from _category_comparisons(child)


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

    Errors name the file, the entry and the field. A rule or strategy reads a value the profile
    never computes (a typo would otherwise leave it undecided forever), or compares a value's
    category with a label no threshold or driver gives it (it would never hold); a rule has no
    evidence level or reference (the schema already refuses both).
    Warnings: references, therapies or timing windows that nothing uses.

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
    categories = _category_labels(kb)
    deciding: list[tuple[str, Rule | Strategy]] = [("rules.yaml", r) for r in kb.rules]
    deciding += [("strategies.yaml", s) for s in kb.strategies]
    for file, entry in deciding:
        where = f"{file} entry {entry.id} when"
        for key in sorted(entry.when.value_keys()):
            if key not in known and not key.startswith(_PER_PATIENT):
                close = difflib.get_close_matches(key, sorted(known), n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                errors.append(f"{where}: reads {key!r}, which the profile never computes{hint}")
        for key, operands in _category_comparisons(entry.when):
            if key not in categories:
                continue
            for operand in operands:
                if operand not in categories[key]:
                    errors.append(
                        f"{where}: compares the category of {key!r} with {operand!r}, which no "
                        f"threshold or driver gives it (categories: "
                        f"{', '.join(sorted(categories[key]))}), so the condition never holds"
                    )
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
