"""Checks of a knowledge base beyond its schema: :func:`check_knowledge_base`.

Loading validates every file against its schema and cross-checks ids (references, therapies,
diseases, timing windows). This module adds what needs the profile too — every rule must read
values the immune profile computes, or it would never be decided — and lists entries nothing
uses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.knowledge import Condition, KnowledgeBase, Rule, Strategy
from immunoprecise.knowledge.schema import SCALE_REFERENCES
from immunoprecise.profile.host import MGPS_CATEGORY
from immunoprecise.profile.immune_profile import compute_values
from immunoprecise.profile.phenotype import PHENOTYPE_CATEGORY
from immunoprecise.profile.safety import GRADE_VALUES, HEMATOTOX_RISK_CATEGORY
from immunoprecise.profile.tumor import MHC_CLASS_I_CATEGORY
from immunoprecise.profile.values import Metric, ValueBuilder
from immunoprecise.records import Region
from immunoprecise.records.columns import density_key, record_columns
from immunoprecise.records.fields import FieldDoc, record_fields
from immunoprecise.safety.grade import MAX_GRADE
from immunoprecise.safety.hematotox import MAX_SCORE, RISK_GROUPS

__all__ = ["KnowledgeBaseCheck", "check_knowledge_base"]

# Families whose keys depend on what a patient's record holds (genes, antigens, markers, the
# scores of an expression matrix).
_PER_PATIENT = (
    "driver.",
    "antigen.",
    "density.",
    "cd8_foxp3_ratio.",
    "immunoscore.percentile.",
    "expression.",
)
#: Values whose category is given only when there is something to label, with their labels.
_FOUND_ONLY_CATEGORIES = {"immune_escape": frozenset({"impaired"})}
#: Category labels the profile gives without a threshold (None: labels not listed here).
_FIXED_LABELS = {
    "immune_phenotype": frozenset(PHENOTYPE_CATEGORY.values()),
    "mhc_class_i": frozenset(MHC_CLASS_I_CATEGORY.values()),
    "mgps": frozenset(MGPS_CATEGORY.values()),
    "safety.car_hematotox": frozenset(HEMATOTOX_RISK_CATEGORY.values()),
    "safety.car_hematotox_risk": frozenset(HEMATOTOX_RISK_CATEGORY.values()),
    **_FOUND_ONLY_CATEGORIES,
}
#: Values whose category describes the value (the grade with its day, ``grade 2 (day 2)``)
#: rather than being a label to compare.
_DESCRIPTIVE_CATEGORIES = dict.fromkeys(GRADE_VALUES, "grade 2 (day 2)")


@dataclass(frozen=True)
class _Declared:
    """What the profile declares for a knowledge base: ``metrics`` maps a key to its metric
    (kind, unit, references, inputs); ``categorized`` maps a key to the disease codes (None: a
    patient without one) whose patients' value gets a category, each with the labels it can
    take (None where they are not known in advance)."""

    metrics: dict[str, Metric]
    categorized: dict[str, dict[str | None, frozenset[str] | None]]


def _declared(kb: KnowledgeBase) -> _Declared:
    """Every value the profile computes for some disease of ``kb`` and which of them get a
    category (from a threshold of ``thresholds.yaml`` or from the profile itself), per disease."""
    empty = record_columns([])
    metrics: dict[str, Metric] = {}
    categorized: dict[str, dict[str | None, frozenset[str] | None]] = {}
    for code in (None, *(d.code for d in kb.diseases)):
        for key, computed in compute_values(ValueBuilder(kb, code, empty, explain=False)).items():
            metric = computed.metric
            metrics[key] = metric
            if computed.category is None and key not in _FOUND_ONLY_CATEGORIES:
                continue
            if metric.threshold is not None:
                labels: frozenset[str] | None = frozenset(metric.threshold.labels)
            else:
                labels = _FIXED_LABELS.get(key)
            categorized.setdefault(key, {})[code] = labels
    codes = (None, *(d.code for d in kb.diseases))
    for gene in {d.gene.upper() for d in kb.drivers}:
        found = frozenset(d.label for d in kb.drivers if d.gene.upper() == gene)
        categorized[f"driver.{gene}"] = dict.fromkeys(codes, found)
    return _Declared(metrics, categorized)


_BURDEN = "disease.burden[latest]."
_DENSITIES = "microenvironment.densities["


def _field_path(column: str) -> str:
    """The record-schema path of a profile input: the latest burden's measure
    (``disease.burden[latest].marrow_blasts``) is the measure of a ``disease.burden[]`` entry,
    an IHC density (``microenvironment.densities[CD8, tumor_core]``) the ``density`` of a
    ``microenvironment.densities[]`` entry; other inputs are record fields as named."""
    if column.startswith(_BURDEN):
        return f"disease.burden[].{column.removeprefix(_BURDEN)}"
    if column.startswith(_DENSITIES):
        return "microenvironment.densities[].density"
    return column


def _source_field(metric: Metric, fields: dict[str, FieldDoc]) -> FieldDoc | None:
    """The record field a profile value holds as recorded, if any: the input named like the
    value (``tumor.msi_status`` for ``msi_status``), or its only input. Its allowed values and
    range (from the record schema) are then the value's."""
    paths = [_field_path(f) for f in metric.inputs]
    named = [f for f in paths if f.rpartition(".")[2] == metric.key and f in fields]
    inputs = named or ([paths[0]] if len(paths) == 1 else [])
    field = fields.get(inputs[0]) if inputs else None
    if field is None or metric.kind == "bool":
        return None
    if field.unit and field.unit != metric.unit:  # a value converted from the field: no range
        return None
    return field


_REGIONS = tuple(r.value for r in Region)


def _record_named_metric(key: str) -> Metric | None:
    """What a value named after the record's contents holds, where its range is known: an IHC
    density not named by a threshold (``density.CD4.stroma``)."""
    family, _, name = key.partition(".")
    marker, _, region = name.partition(".")
    if family == "density" and marker and region in _REGIONS:
        column = density_key(marker, region)
        return Metric(key, key, "IHC, as measured", unit="cells/mm²", inputs=(column,))
    return None


def _record_named_problem(key: str) -> str | None:
    """Why a key of a family named after the record's contents (``driver.BRAF``,
    ``density.CD8.tumor_core``) is never computed, or None when it may be."""
    family, _, name = key.partition(".")
    if family in ("driver", "antigen"):
        what = "gene symbols" if family == "driver" else "antigen names"
        if not name:
            return f"name the {'gene' if family == 'driver' else 'antigen'} after {family + '.'!r}"
        if name != name.upper():
            wanted = f"{family}.{name.upper()}"
            return f"the record writes {what} in capitals; did you mean {wanted!r}?"
        return None
    if family == "density" or family == "cd8_foxp3_ratio":
        if family == "density":
            marker, _, region = name.partition(".")
            if not marker or marker != marker.upper():
                wanted = f"density.{marker.upper() or 'CD8'}.{region or 'tumor_core'}"
                return (
                    "the record writes IHC markers in capitals, so keys read "
                    f"density.MARKER.REGION; did you mean {wanted!r}?"
                )
        else:
            region = name
        if region not in _REGIONS:
            close = difflib.get_close_matches(region, _REGIONS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return f"{region!r} is not a region; regions: {', '.join(_REGIONS)}{hint}"
    return None


def _field_bounds(field: FieldDoc) -> tuple[float | None, float | None]:
    """The inclusive range a record can hold in ``field``: its quantity's plausible range or
    its number's bounds."""
    if field.spec is not None:
        return field.spec.ge, field.spec.le
    return field.bounds


#: Text values the profile derives (not read from one record field), with the names it gives.
_PROFILE_CHOICES = {
    "immune_phenotype": (tuple(PHENOTYPE_CATEGORY), "the profile's immune phenotypes"),
    "safety.car_hematotox_risk": (tuple(RISK_GROUPS), "the CAR-HEMATOTOX risk groups"),
}
_GRADES = (tuple(range(MAX_GRADE + 1)), "the ASTCT grades, Lee 2019")
#: Whole-number scores the profile derives, with the values they take.
_PROFILE_SCORES: dict[str, tuple[tuple[int, ...], str]] = {
    "mgps": (tuple(MGPS_CATEGORY), "the modified Glasgow Prognostic Score"),
    "safety.car_hematotox": (tuple(range(MAX_SCORE + 1)), "the CAR-HEMATOTOX points"),
    **dict.fromkeys(GRADE_VALUES, _GRADES),
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
        scores = _PROFILE_SCORES.get(key) if field is None else None
        if scores is not None:
            allowed, origin = scores
            if (operator in ("equals", "in") and value not in allowed) or _out_of_range(
                operator, value, min(allowed), max(allowed)
            ):
                listed = ", ".join(map(str, allowed))
                yield f"{shown} {verb}: {key} is one of {listed} ({origin})"
            continue
        lo, hi = _field_bounds(field) if field is not None else (None, None)
        if _out_of_range(operator, value, lo, hi):
            yield (
                f"{shown} {verb}: a record holds {field.path} within "  # type: ignore[union-attr]
                f"{field.range_text}"  # type: ignore[union-attr]
            )


def _category_comparisons(condition: Condition) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``(key, operands)`` of every ``of: category`` comparison (operands of ``equals``/``in``
    only; none for other operators)."""
    for leaf in _leaves(condition):
        if leaf.of != "category" or leaf.value is None:
            continue
        if leaf.equals is not None:
            yield leaf.value, (str(leaf.equals),)
        elif leaf.in_ is not None:
            yield leaf.value, leaf.in_
        else:
            yield leaf.value, ()


def _codes_of(kb: KnowledgeBase, diseases: tuple[str, ...] | None) -> set[str | None]:
    """The disease codes (None: a patient without one) an entry restricted to ``diseases``
    applies to."""
    codes: set[str | None] = {d.code for d in kb.diseases if kb.applies(diseases, d.code)}
    return codes | {None} if diseases is None else codes


def _outermost(kb: KnowledgeBase, codes: Iterable[str | None]) -> list[str]:
    """The disease codes of ``codes`` whose groups are not among them, sorted (``SOLID``
    rather than every code below it)."""
    named = {c for c in codes if c is not None}
    return sorted(c for c in named if not set(kb.lineage(c)[1:]) & named)


def _category_problems(
    kb: KnowledgeBase, entry: Rule | Strategy, declared: _Declared
) -> Iterator[str]:
    """Why a comparison of a value's category in ``entry`` never holds: the value never gets a
    category (for the entry's diseases), or the label compared with is not one it can get."""
    codes = _codes_of(kb, entry.diseases)
    categorized = declared.categorized
    for key, operands in _category_comparisons(entry.when):
        per_patient = key.startswith(_PER_PATIENT)
        if (key not in declared.metrics and not per_patient) or (
            per_patient and _record_named_problem(key) is not None
        ):
            continue  # reported as a value the profile never computes
        where = categorized.get(key, {})
        if not where:
            if key.startswith("driver."):
                genes = sorted({d.gene.upper() for d in kb.drivers})
                yield (
                    f"compares the category of {key!r}, which never has one: no driver of "
                    f"drivers.yaml is a {key.removeprefix('driver.')} alteration (drivers: "
                    f"{', '.join(genes)}), so the condition never holds"
                )
                continue
            named = sorted(k for k in categorized if not k.startswith("driver."))
            yield (
                f"compares the category of {key!r}, which never has one (no threshold of "
                "thresholds.yaml names it), so the condition never holds; compare the value "
                f"itself, or one of the values with a category: {', '.join(named)}, and "
                "driver.GENE for the genes of drivers.yaml"
            )
            continue
        applying = [c for c in where if c in codes]
        if not applying:
            has = ", ".join(_outermost(kb, where)) or "patients without a disease code"
            yield (
                f"compares the category of {key!r}, which has one only for diseases {has} "
                "(where the thresholds of thresholds.yaml that give it apply), not for this "
                f"entry's diseases {', '.join(entry.diseases or ())}, so the condition never "
                "holds"
            )
            continue
        if key in _DESCRIPTIVE_CATEGORIES and operands:
            yield (
                f"compares the category of {key!r} with {', '.join(map(repr, operands))}, but "
                f"that category describes the value (e.g. {_DESCRIPTIVE_CATEGORIES[key]!r}) "
                "and is no label to compare, so the condition never holds; compare the value "
                f"itself, e.g. {{value: {key}, at_least: 2}}"
            )
            continue
        found = [where[c] for c in applying]
        if not operands or any(labels is None for labels in found):
            continue
        labels = sorted(frozenset().union(*(f for f in found if f is not None)))
        source = "the profile" if key in _FIXED_LABELS else "no threshold or driver"
        for operand in operands:
            if operand not in labels:
                folded = {label.casefold(): label for label in labels}
                close = difflib.get_close_matches(operand.casefold(), folded, n=1, cutoff=0.6)
                hint = f"; did you mean {folded[close[0]]!r}?" if close else ""
                gives = "never gives it" if key in _FIXED_LABELS else "gives it"
                yield (
                    f"compares the category of {key!r} with {operand!r}, which {source} "
                    f"{gives} (categories: {', '.join(labels)}), so the condition never "
                    f"holds{hint}"
                )


def _immunogram_problems(
    kb: KnowledgeBase, declared: _Declared, fields: dict[str, FieldDoc]
) -> Iterator[str]:
    """Why a component of an immunogram axis never scores: it reads a value the profile never
    computes or the category of a value that never has one, or scores a category or text the
    value never has (the patient's axis would then be missing, never 0, without a word)."""
    known = declared.metrics
    for axis in kb.immunogram:
        for n, c in enumerate(axis.components):
            where = f"immunogram.yaml entry {axis.id} components.{n}"
            key = c.value
            if key.startswith(_PER_PATIENT) and key not in known:
                problem = _record_named_problem(key)
                if problem is not None:
                    yield f"{where}: reads {key!r}, which the profile never computes: {problem}"
                continue
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                yield f"{where}: reads {key!r}, which the profile never computes{hint}"
                continue
            if c.scale != "categories":
                continue
            if c.of == "category":
                found = declared.categorized.get(key, {})
                if not found:
                    yield (
                        f"{where}: scores the category of {key!r}, which never has one (no "
                        "threshold of thresholds.yaml names it)"
                    )
                    continue
                if any(labels is None for labels in found.values()):
                    continue
                choices = sorted(frozenset().union(*(f for f in found.values() if f)))
            else:
                field = _source_field(known[key], fields)
                if field is not None and field.choices:
                    choices = list(field.choices)
                elif key in _PROFILE_CHOICES:
                    choices = list(_PROFILE_CHOICES[key][0])
                elif key in _PROFILE_SCORES:
                    choices = [str(score) for score in _PROFILE_SCORES[key][0]]
                else:
                    continue
            what = "category" if c.of == "category" else "value"
            for label in c.scores or {}:
                if label not in choices:
                    folded = {choice.casefold(): choice for choice in choices}
                    close = difflib.get_close_matches(label.casefold(), folded, n=1, cutoff=0.7)
                    hint = f"; did you mean {folded[close[0]]!r}?" if close else ""
                    yield (
                        f"{where} scores: {key} never has the {what} {label!r} (it is one of "
                        f"{', '.join(choices)}), so that score is never given{hint}"
                    )


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
    never computes (a typo would otherwise leave it undecided forever; keys named after the
    record's contents are checked as the record writes them: ``driver.BRAF``, not
    ``driver.braf``, ``density.CD8.tumor_core``, not ``density.CD8.tumour_core``), or compares
    the category of a value that never has one, or has one only for diseases the entry does not
    cover (``pdl1_tps`` for melanoma: its threshold is for NSCLC), or compares a value's
    category with a label no threshold or driver gives it for the entry's diseases (it would
    never hold), or compares a value with an operand that it can never equal or pass: of the
    wrong type (a number for a text value such as ``msi_status``, text for a number, anything
    but ``is_true``/``is_false`` for a yes/no value), outside the allowed values of the record
    field the value is read from (with the closest allowed value), or beyond that field's range
    (``pdl1_tps at_least: 150``; ``marrow_blasts above: 150``, read from the latest burden
    entry's 0–100 %).
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
    counts = {
        "therapies": len(kb.therapies),
        "rules": len(kb.rules),
        "strategies": len(kb.strategies),
        "timing_windows": len(kb.timing_windows),
        "references": len(kb.references),
    }
    try:
        declared = _declared(kb)
    except KnowledgeBaseError as exc:  # a threshold a formula cannot do without is missing
        cannot = f"the immune profile cannot be computed with this knowledge base: {exc}"
        return KnowledgeBaseCheck((cannot,), (), counts)
    metrics = declared.metrics
    known = set(metrics)
    fields = {f.path: f for f in record_fields()}
    deciding: list[tuple[str, Rule | Strategy]] = [("rules.yaml", r) for r in kb.rules]
    deciding += [("strategies.yaml", s) for s in kb.strategies]
    for file, entry in deciding:
        where = f"{file} entry {entry.id} when"
        for key in sorted(entry.when.value_keys()):
            if key.startswith(_PER_PATIENT) and key not in known:
                problem = _record_named_problem(key)
                if problem is not None:
                    errors.append(
                        f"{where}: reads {key!r}, which the profile never computes: {problem}"
                    )
            elif key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                errors.append(f"{where}: reads {key!r}, which the profile never computes{hint}")
        errors += [f"{where}: {p}" for p in _category_problems(kb, entry, declared)]
        for leaf in _leaves(entry.when):
            key = str(leaf.value)
            metric = metrics.get(key) or _record_named_metric(key)
            if metric is None:
                continue
            for problem in _operand_problems(leaf, metric, _source_field(metric, fields)):
                errors.append(f"{where}: {problem}")
    errors += _immunogram_problems(kb, declared, fields)
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
    return KnowledgeBaseCheck(tuple(errors), tuple(warnings), counts)
