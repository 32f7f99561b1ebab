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
from immunoprecise.profile.phenotype import PHENOTYPE_CATEGORY
from immunoprecise.profile.values import Metric, ValueBuilder
from immunoprecise.records.columns import record_columns
from immunoprecise.records.fields import FieldDoc, record_fields

__all__ = ["KnowledgeBaseCheck", "check_knowledge_base"]

# Families whose keys depend on what a patient's record holds (genes, antigens, markers).
_PER_PATIENT = ("driver.", "antigen.", "density.", "cd8_foxp3_ratio.", "immunoscore.percentile.")


def _profile_metrics(kb: KnowledgeBase) -> dict[str, Metric]:
    """Key → what the profile declares for every value it computes for some disease of ``kb``
    (kind, unit, references, the record fields it reads)."""
    empty = record_columns([])
    metrics: dict[str, Metric] = {}
    for code in (None, *(d.code for d in kb.diseases)):
        for key, computed in compute_values(ValueBuilder(kb, code, empty, explain=False)).items():
            metrics[key] = computed.metric
    return metrics


def _source_field(metric: Metric, fields: dict[str, FieldDoc]) -> FieldDoc | None:
    """The record field a profile value holds as recorded, if any: the input named like the
    value (``tumor.msi_status`` for ``msi_status``), or its only input. Its allowed values and
    range (from the record schema) are then the value's."""
    named = [f for f in metric.inputs if f.rpartition(".")[2] == metric.key and f in fields]
    inputs = named or ([metric.inputs[0]] if len(metric.inputs) == 1 else [])
    field = fields.get(inputs[0]) if inputs else None
    if field is None or metric.kind == "bool":
        return None
    if field.unit and field.unit != metric.unit:  # a value converted from the field: no range
        return None
    return field


def _field_bounds(field: FieldDoc) -> tuple[float | None, float | None]:
    """The inclusive range a record can hold in ``field``: its quantity's plausible range or
    its number's bounds."""
    if field.spec is not None:
        return field.spec.ge, field.spec.le
    return field.bounds


#: Text values the profile derives (not read from one record field), with the names it gives.
_PROFILE_CHOICES = {
    "immune_phenotype": (tuple(PHENOTYPE_CATEGORY), "the profile's immune phenotypes"),
}
_NUMERIC_OPERATORS = ("at_least", "above", "below", "at_most")
_TYPE_NAMES = {"float": "a number", "int": "a whole number", "bool": "yes/no", "text": "text"}


def _fmt(operand: object) -> str:
    if isinstance(operand, float) and operand.is_integer():
        return repr(int(operand))
    return repr(operand)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _out_of_range(operator: str, bound: float, lo: float | None, hi: float | None) -> bool:
    """Whether ``value <operator> bound`` cannot hold for any value in ``[lo, hi]``."""
    if operator == "at_least":
        return hi is not None and bound > hi
    if operator == "above":
        return hi is not None and bound >= hi
    if operator == "below":
        return lo is not None and bound <= lo
    if operator == "at_most":
        return lo is not None and bound < lo
    # equals / in
    return (lo is not None and bound < lo) or (hi is not None and bound > hi)


def _leaves(condition: Condition) -> Iterator[Condition]:
    """Every comparison of ``condition``, nested ones included."""
    if condition.value is not None:
        yield condition
    for child in (*(condition.all or ()), *(condition.any or ())):
        yield from _leaves(child)
    if condition.not_ is not None:
        yield from _leaves(condition.not_)


def _operand_problems(
    condition: Condition, metric: Metric, field: FieldDoc | None
) -> Iterator[str]:
    """Why comparison ``condition`` on a value declared as ``metric`` never holds (or, for
    ``in``, which operands never match): an operand of the wrong type, or outside the allowed
    values or range of the record field the value comes from (``field``)."""
    operator, operand = condition.operator()
    key = str(condition.value)
    items: tuple[Any, ...] = tuple(operand) if operator == "in" else (operand,)
    if operator == "in":
        written = f"in {list(items)}"
    elif operator in ("is_true", "is_false"):
        written = operator
    else:
        written = f"{operator} {_fmt(operand)}"
    if condition.of == "category":
        if operator in (*_NUMERIC_OPERATORS, "is_true", "is_false") or not all(
            isinstance(o, str) for o in items
        ):
            yield (
                f"{key} category {written} never holds: a category is a text label; "
                "compare it with equals or in"
            )
        return
    shown = f"{key} {written}"
    kind = metric.kind
    expected = f"{key} is {_TYPE_NAMES[kind]}"
    if field is not None:
        described = field.kind.replace("`", "")
        described += f", {field.range_text}" if field.range_text else ""
        expected += f" (record field {field.path}: {described})"
    if operator == "has":
        return
    if operator in ("is_true", "is_false"):
        if kind != "bool":
            yield f"{shown} never holds: {expected}, not yes/no"
        return
    if kind == "bool":
        if operator in _NUMERIC_OPERATORS or not all(isinstance(o, bool) for o in items):
            yield f"{shown} never holds: {expected}; use is_true or is_false"
        return
    if kind == "text":
        if operator in _NUMERIC_OPERATORS or not all(isinstance(o, str) for o in items):
            yield f"{shown} never holds: {expected}, not a number or yes/no"
            return
        if field is not None and field.choices:
            choices, origin = field.choices, f"record field {field.path}"
        elif key in _PROFILE_CHOICES:
            choices, origin = _PROFILE_CHOICES[key]
        else:
            return
        for text in items:
            if text in choices:
                continue
            close = [c for c in choices if c.casefold() == text.casefold()]
            close = close or difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            verb = f"— {text!r} never matches" if operator == "in" else "never holds"
            yield f"{shown} {verb}: {key} is one of {', '.join(choices)} ({origin}){hint}"
        return
    # a number (float or int)
    if operator == "in" and kind == "float":
        yield (
            f"{shown} never holds: {expected}; compare a number with equals, at_least, above, "
            "below or at_most"
        )
        return
    for item in items:
        number = _number(item) if isinstance(item, str) else None
        if isinstance(item, bool) or (isinstance(item, str) and number is None):
            yield f"{shown} never holds: {expected}, not text or yes/no"
            return
        if operator == "equals" and isinstance(item, str):
            yield f"{shown} never holds: {expected}; write the number without quotes"
            return
        value = float(item) if number is None else number
        verb = f"— {item!r} never matches" if operator == "in" else "never holds"
        if kind == "int" and operator in ("equals", "in") and not value.is_integer():
            yield f"{shown} {verb}: {expected}"
            continue
        lo, hi = _field_bounds(field) if field is not None else (None, None)
        if _out_of_range(operator, value, lo, hi):
            yield (
                f"{shown} {verb}: a record holds {field.path} within "  # type: ignore[union-attr]
                f"{field.range_text}"  # type: ignore[union-attr]
            )


def _category_labels(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Key → every category label a value can have (thresholds, drivers, immune phenotypes)."""
    labels: dict[str, set[str]] = {}
    for threshold in kb.thresholds:
        labels.setdefault(threshold.value, set()).update(threshold.labels)
    for driver in kb.drivers:
        labels.setdefault(f"driver.{driver.gene}", set()).add(driver.label)
    labels.setdefault("immune_phenotype", set()).update(PHENOTYPE_CATEGORY.values())
    return labels


def _category_comparisons(condition: Condition) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``(key, operands)`` of every ``of: category`` comparison by ``equals``/``in``."""
    for leaf in _leaves(condition):
        if leaf.of != "category" or leaf.value is None:
            continue
        if leaf.equals is not None:
            yield leaf.value, (str(leaf.equals),)
        elif leaf.in_ is not None:
            yield leaf.value, leaf.in_


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
    category with a label no threshold or driver gives it (it would never hold), or compares a
    value with an operand that it can never equal or pass: of the wrong type (a number for a
    text value such as ``msi_status``, text for a number, anything but ``is_true``/``is_false``
    for a yes/no value), outside the allowed values of the record field the value is read from
    (with the closest allowed value), or beyond that field's range (``pdl1_tps at_least: 150``).
    The allowed values and ranges are read from the record schema
    (:func:`immunoprecise.records.fields.record_fields`), the types from the profile's own
    declaration of each value. A rule has no evidence level or reference (the schema already
    refuses both).
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
    fields = {f.path: f for f in record_fields()}
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
        for leaf in _leaves(entry.when):
            metric = metrics.get(str(leaf.value))
            if metric is None:
                continue
            for problem in _operand_problems(leaf, metric, _source_field(metric, fields)):
                errors.append(f"{where}: {problem}")
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
    cited |= {r for metric in metrics.values() for r in metric.references}
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
