"""Evaluate knowledge-base conditions against an immune profile, with three-valued logic.

A comparison whose profile value is missing or not assessable is *unknown* (``None``), never
false: the rule is then reported as not evaluated, with the record fields that would decide it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from immunoprecise.knowledge import Condition
from immunoprecise.profile import ImmuneProfile

__all__ = ["OPERATOR_SYMBOLS", "Verdict", "compare", "evaluate_condition", "has_item"]

OPERATOR_SYMBOLS = {
    "equals": "=",
    "in": "in",
    "at_least": "≥",
    "above": ">",
    "below": "<",
    "at_most": "≤",
    "has": "has",
}
"""How a rule's comparison operator is written in a reason shown to the user."""


@dataclass(frozen=True)
class Verdict:
    """Outcome of a condition: ``holds`` is True, False or None (unknown)."""

    holds: bool | None
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default=())


_ABSENT = {
    "immune_escape": "tumor.driver_mutations (JAK1/JAK2/B2M not reported)",
    "marrow_blasts": "disease.burden[].marrow_blasts",
    "safety.car_hematotox": "host labs of CAR-HEMATOTOX (haematological malignancies only)",
    "safety.car_hematotox_risk": "host labs of CAR-HEMATOTOX (haematological malignancies only)",
}


def _absent_field(key: str) -> str:
    family, _, name = key.partition(".")
    if family == "driver":
        return (
            f"tumor.driver_mutations ({name} not reported; a negative test is recorded as "
            f"{name} with alteration 'wild type')"
        )
    if family == "antigen":
        return f"tumor.antigens ({name} not tested)"
    if family == "safety" and not name.startswith("car_hematotox"):
        return "toxicity[] (no CRS/ICANS observations recorded)"
    if family == "days_since":
        return f"patient.prior_therapies (no dated {name.replace('_', ' ')}) or collected_on"
    return _ABSENT.get(key, f"profile value {key}")


_EXPRESSION_SUFFIX = "NLSCAQ"  # HLA expression suffixes; N = null allele, not expressed


def _allele_fields(allele: str) -> tuple[str, list[str], str]:
    """``"A*02:01:01N"`` → ``("A", ["02", "01", "01"], "N")``."""
    locus, _, rest = allele.partition("*")
    suffix = rest[-1] if rest and rest[-1] in _EXPRESSION_SUFFIX else ""
    return locus, (rest[:-1] if suffix else rest).split(":"), suffix


def _has_allele(recorded: str, wanted: str) -> bool | None:
    """Whether HLA allele ``recorded`` is ``wanted`` or one of its subtypes, field by field;
    None when ``recorded`` is typed at a lower resolution than ``wanted`` and agrees with it as
    far as it goes (``A*02`` may or may not be ``A*02:01``)."""
    locus, fields, suffix = _allele_fields(recorded)
    want_locus, want_fields, _ = _allele_fields(wanted)
    shared = min(len(fields), len(want_fields))
    if suffix == "N" or locus != want_locus or fields[:shared] != want_fields[:shared]:
        return False
    return True if len(fields) >= len(want_fields) else None


def has_item(actual: object, operand: object) -> bool | None:
    """The ``has`` operator: whether list value ``actual`` (items joined by ``", "``) has an
    item matching ``operand``.

    HLA alleles are matched field by field: ``A*02:01`` and ``A*02:01:01`` have ``A*02:01`` and
    ``A*02``; ``A*02:011`` and ``A*02:01N`` (a null allele, not expressed) do not have
    ``A*02:01``. An allele typed at a lower resolution than the operand (``A*02`` for
    ``A*02:01``) decides nothing: the answer is None (unknown, high-resolution typing needed)
    unless another item matches. Other items match when they start with the operand.

    Examples
    --------
    >>> has_item("A*02:01, B*07:02", "A*02:01"), has_item("A*02:011", "A*02:01")
    (True, False)
    >>> has_item("A*02, A*24", "A*02:01") is None, has_item("A*03, A*24", "A*02:01")
    (True, False)
    """
    items = str(actual).split(", ")
    wanted = str(operand)
    verdicts = [
        _has_allele(item, wanted) if "*" in item and "*" in wanted else item.startswith(wanted)
        for item in items
    ]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def compare(operator: str, actual: object, operand: object) -> bool | None:
    """Whether ``actual`` satisfies ``operator`` with ``operand`` (one profile value); None when
    the value is recorded too coarsely to decide (``has`` with a low-resolution HLA allele)."""
    if operator == "has":
        return has_item(actual, operand)
    if operator == "equals":
        return actual == operand or str(actual) == str(operand)
    if operator == "in":
        return str(actual) in {str(o) for o in operand}  # type: ignore[attr-defined]
    if operator == "is_true":
        return actual is True
    if operator == "is_false":
        return actual is False
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return False
    bound = float(operand)  # type: ignore[arg-type]
    return {
        "at_least": actual >= bound,
        "above": actual > bound,
        "below": actual < bound,
        "at_most": actual <= bound,
    }[operator]


def _leaf(condition: Condition, profile: ImmuneProfile) -> Verdict:
    assert condition.value is not None
    key = condition.value
    value = profile.get(key)
    if value is None:
        return Verdict(None, missing=(_absent_field(key),))
    if value.status == "not_assessable":
        return Verdict(None, missing=value.missing or (f"{key} ({value.note})",))
    actual = value.category if condition.of == "category" else value.value
    operator, operand = condition.operator()
    holds = compare(operator, actual, operand)
    if holds is None:  # recorded, but too coarsely to decide
        return Verdict(
            None,
            missing=(
                f"{value.inputs[0] if value.inputs else key} at high resolution: the recorded "
                f"{actual} does not say whether the patient carries {operand}",
            ),
        )
    shown = f"{actual:g}" if isinstance(actual, float) else str(actual)
    if actual is None and condition.of == "category":  # a value without a category
        shown = f"none (value {value.value})"
    unit = (
        f" {value.unit}" if value.unit and condition.of == "value" and value.unit != "ratio" else ""
    )
    what = f"{value.label}{' category' if condition.of == 'category' else ''}"
    if operator in {"is_true", "is_false"}:
        expected = "yes" if operator == "is_true" else "no"
        reason = f"{what}: {'yes' if actual else 'no'} (rule needs {expected})"
    else:
        target = (
            ", ".join(map(str, operand))
            if operator == "in"
            else (f"{operand:g}" if isinstance(operand, float) else str(operand))
        )
        reason = f"{what} = {shown}{unit} (rule: {OPERATOR_SYMBOLS[operator]} {target}{unit})"
    return Verdict(holds, reasons=(reason,))


def evaluate_condition(condition: Condition, profile: ImmuneProfile) -> Verdict:
    """Evaluate ``condition`` on ``profile``.

    Returns
    -------
    Verdict
        ``holds`` True/False, or None when a value it needs is missing (``missing`` names the
        record fields); ``reasons`` explains the comparisons that decided it.
    """
    if condition.value is not None:
        return _leaf(condition, profile)
    if condition.not_ is not None:
        inner = evaluate_condition(condition.not_, profile)
        holds = None if inner.holds is None else not inner.holds
        return Verdict(holds, tuple(f"not ({r})" for r in inner.reasons), inner.missing)
    children = [evaluate_condition(c, profile) for c in condition.all or condition.any or ()]
    reasons = tuple(r for c in children for r in c.reasons)
    missing = tuple(dict.fromkeys(m for c in children for m in c.missing))
    states = [c.holds for c in children]
    if condition.all is not None:
        holds = False if False in states else (None if None in states else True)
    else:
        holds = True if True in states else (None if None in states else False)
    if holds is not None:
        decisive = [c for c in children if c.holds is holds]
        reasons = tuple(r for c in decisive for r in c.reasons)
        missing = ()
    return Verdict(holds, reasons, missing)
