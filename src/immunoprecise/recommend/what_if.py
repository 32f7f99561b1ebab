"""What-if plans: replace profile values by hypothetical ones and compare the plans."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from immunoprecise.errors import FieldProblem, UnitError, ValidationError
from immunoprecise.knowledge import Condition, KnowledgeBase
from immunoprecise.profile import ImmuneProfile, ProfileValue
from immunoprecise.profile.host import MGPS_CATEGORY
from immunoprecise.profile.immune_profile import value_kind
from immunoprecise.profile.phenotype import PHENOTYPE_CATEGORY
from immunoprecise.profile.safety import GRADE_VALUES, HEMATOTOX_RISK_CATEGORY
from immunoprecise.profile.tumor import MHC_CLASS_I_CATEGORY
from immunoprecise.profile.values import applicable_threshold
from immunoprecise.recommend.plan import OptionChange, Override, StrategyOption, WhatIf
from immunoprecise.records.disease import DiseaseStatus
from immunoprecise.records.scalars import number_with_unit
from immunoprecise.records.tumor import MHCExpression, MSIStatus, Positivity
from immunoprecise.records.units import convert
from immunoprecise.safety.grade import MAX_GRADE
from immunoprecise.safety.hematotox import HIGH_RISK_MIN, MAX_SCORE, RISK_GROUPS

if TYPE_CHECKING:
    from immunoprecise.recommend.plan import StrategyPlan

__all__ = ["OverrideValue", "apply_overrides", "compare_plans", "condition_keys"]

OverrideValue = float | int | bool | str | None
_OPEN_FAMILIES = ("driver.", "antigen.", "prior.", "days_since.")


def condition_keys(kb: KnowledgeBase) -> set[str]:
    """Every profile value key that a rule or strategy of ``kb`` reads."""
    conditions: list[Condition] = [r.when for r in kb.rules] + [s.when for s in kb.strategies]
    return {k for c in conditions for k in c.value_keys()}


#: Text values with a closed vocabulary (the record's choices; the phenotype's names): an
#: override must name one of them, or no rule could ever match it and the plan would change
#: for a typing error (``immune_phenotype=hot`` for ``inflamed``, ``msi_status=MSI-High``).
_TEXT_CHOICES: dict[str, tuple[str, ...]] = {
    "msi_status": tuple(m.value for m in MSIStatus),
    "mhc_class_i": tuple(m.value for m in MHCExpression),
    "disease_status": tuple(m.value for m in DiseaseStatus),
    "immune_phenotype": tuple(PHENOTYPE_CATEGORY),
    "safety.car_hematotox_risk": RISK_GROUPS,
}
#: Whole-number scores with the values they take (a what-if mGPS of 3 is no patient's).
_SCORES: dict[str, tuple[int, ...]] = {
    "mgps": tuple(MGPS_CATEGORY),
    "safety.car_hematotox": tuple(range(MAX_SCORE + 1)),
    **dict.fromkeys(GRADE_VALUES, tuple(range(MAX_GRADE + 1))),
}


def _text_choices(key: str) -> tuple[str, ...] | None:
    if key.startswith("antigen."):
        return tuple(m.value for m in Positivity)
    return _TEXT_CHOICES.get(key)


def _canonical_text(key: str, value: OverrideValue) -> tuple[OverrideValue, str | None]:
    """``value`` in the canonical spelling of ``key``'s vocabulary (any letter case, as in a
    record: ``msi-h`` is ``MSI-H``), or the problem when it names none of its choices."""
    choices = _text_choices(key)
    if choices is None or not isinstance(value, str):
        return value, None
    found = [c for c in choices if c.casefold() == value.strip().casefold()]
    if found:
        return found[0], None
    return value, f"expected one of {', '.join(choices)}"


def _as_number(
    key: str,
    current: ProfileValue | None,
    value: OverrideValue,
    *,
    kb: KnowledgeBase,
    code: str | None,
) -> tuple[OverrideValue, str | None]:
    """A numeric value written as text with its unit (``pdl1_tps=35%``, ``crp=12 mg/dL``) as
    the number in the value's own unit, converted where the unit differs, as a record's units
    are; or the problem when the unit is not one the value can be given in. Any other value is
    returned as it is, for :func:`_kind_problem` to judge."""
    if not isinstance(value, str):
        return value, None
    expected = value_kind(key, knowledge_base=kb, disease_code=code)
    written = number_with_unit(value)
    if expected is None or expected[0] not in ("float", "int") or written is None:
        return value, None  # a number written as bare text ("60") stays text: refused as such
    kind, unit = expected
    unit = (current.unit if current is not None else None) or unit
    number, given = written
    if given.replace(" ", "") != (unit or "").replace(" ", ""):
        if unit is None:
            return value, f"expected a number without a unit, e.g. {key}={number:g}"
        try:
            number = convert(number, given, unit)
        except UnitError:
            return value, (
                f"expected a number in {unit}; {given!r} is no unit that converts to {unit} "
                f"(write the number alone in {unit}, e.g. {key}={written[0]:g})"
            )
    if kind == "int" and number.is_integer():
        return int(number), None
    return number, None


def _kind_problem(
    key: str,
    current: ProfileValue | None,
    value: OverrideValue,
    *,
    kb: KnowledgeBase,
    code: str | None,
) -> str | None:
    """Why ``value`` is of the wrong kind for profile value ``key`` (None if it is not).

    The kind is that of the value's definition, so an override is checked the same whether the
    patient's own value was assessed, not assessable or absent.
    """
    if value is None:
        return None
    expected = value_kind(key, knowledge_base=kb, disease_code=code)
    if expected is None:
        return None
    kind, unit = expected
    unit = (current.unit if current is not None else None) or unit
    if kind == "bool":
        return None if isinstance(value, bool) else "expected true or false"
    if kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number in {unit or 'the value’s unit'}"
        if not math.isfinite(value):
            return f"expected a finite number in {unit or 'the value’s unit'}"
        if kind == "int" and not float(value).is_integer():
            return "expected a whole number"
        if key in _SCORES and value not in _SCORES[key]:
            return f"expected one of {', '.join(map(str, _SCORES[key]))}"
        return _range_problem(float(value), unit)
    return None if isinstance(value, str) else "expected text, e.g. one of the recorded categories"


_NOT_NEGATIVE = (
    "cells/µL",
    "cells/mm²",
    "cells",
    "mut/Mb",
    "mg/L",
    "g/L",
    "pg/mL",
    "× ULN",
    "E:T ratio",
    "ratio",
    "lines",
    "years",
    "days",
)

#: Ranges of profile values by unit: shares and percentiles, 0–1 scores, and the counts,
#: densities, concentrations, ratios and times that cannot be negative.
_UNIT_RANGES: dict[str, tuple[float, float]] = {
    "%": (0.0, 100.0),
    "% of CD4+": (0.0, 100.0),
    "percentile": (0.0, 100.0),
    "score (0–1)": (0.0, 1.0),
    **dict.fromkeys(_NOT_NEGATIVE, (0.0, math.inf)),
}


def _range_problem(value: float, unit: str | None) -> str | None:
    """Why a number is outside what its unit allows (a TPS of 500 %, a negative count)."""
    low, high = _UNIT_RANGES.get(unit or "", (-math.inf, math.inf))
    if low <= value <= high:
        return None
    if math.isinf(high):
        return f"expected a number ≥ {low:g} {unit}"
    return f"expected a number from {low:g} to {high:g} {unit}"


#: Values whose category says that something was found, whatever it is (as the profile
#: labels them).
_FOUND_CATEGORY = {"immune_escape": "impaired"}


def _open_family_problem(kb: KnowledgeBase, key: str) -> str | None:
    """Why ``key`` of a family named after the record's contents (``driver.BRAF``,
    ``prior.car_t``) is no value the profile could have, or None."""
    family, _, name = key.partition(".")
    if family in ("driver", "antigen"):
        if name != name.upper() or not name:
            what = "gene symbols" if family == "driver" else "antigen names"
            wanted = f"{family}.{name.upper() or 'NAME'}"
            return f"not a profile value: {what} are written in capitals, {wanted!r}"
        return None
    ids = [c.id for c in kb.therapy_history if family == "prior" or c.track_days]
    if name in ids:
        return None
    close = difflib.get_close_matches(name, ids, n=1, cutoff=0.6)
    hint = f"; did you mean {family}.{close[0]}?" if close else ""
    return (
        f"not a profile value: {family}.<category> names a category of therapy_history.yaml"
        f"{' that tracks days' if family == 'days_since' else ''} ({', '.join(ids)}){hint}"
    )


def _category(
    kb: KnowledgeBase, code: str | None, key: str, value: OverrideValue
) -> tuple[str | None, str | None]:
    """The category of a hypothetical value, and the threshold that gave it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        threshold = applicable_threshold(kb, code, key)
        if threshold is not None:
            return threshold.categorize(float(value)), threshold.id
    if isinstance(value, str) and key == "immune_phenotype":
        return PHENOTYPE_CATEGORY.get(value), None
    if isinstance(value, str) and key == "mhc_class_i":
        return MHC_CLASS_I_CATEGORY.get(value), None
    if isinstance(value, str) and key == "safety.car_hematotox_risk":
        return HEMATOTOX_RISK_CATEGORY.get(value), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if key == "mgps":
            return MGPS_CATEGORY.get(int(value)), None
        if key == "safety.car_hematotox":
            return HEMATOTOX_RISK_CATEGORY["high" if value >= HIGH_RISK_MIN else "low"], None
        if key in GRADE_VALUES:
            return f"grade {int(value)}", None
    if isinstance(value, str) and key in _FOUND_CATEGORY:  # an alteration found: its category
        return _FOUND_CATEGORY[key], None
    if isinstance(value, str) and key.startswith("driver."):
        gene = key.removeprefix("driver.")
        labels = [d.label for d in kb.drivers if d.matches(gene, value)]
        return (", ".join(labels) or None), None
    return None, None


def apply_overrides(
    profile: ImmuneProfile,
    overrides: Mapping[str, OverrideValue],
    *,
    knowledge_base: KnowledgeBase,
) -> tuple[ImmuneProfile, tuple[Override, ...]]:
    """Return ``profile`` with the values under ``overrides`` replaced, and what was replaced.

    A numeric value is re-categorized with the knowledge base's threshold for its key and the
    patient's disease; an immune phenotype, an MHC class I status, an mGPS, a CAR-HEMATOTOX score
    or risk group, a driver alteration or an immune-escape alteration gets the category the
    profile would give it, and a CRS/ICANS grade the category ``grade N``; ``None`` makes a value
    not assessable. Values derived from an overridden one are not recomputed.

    Raises
    ------
    ValidationError
        Naming each override whose key is no profile value (``driver.braf`` for
        ``driver.BRAF``, ``prior.cart`` for ``prior.car_t`` included) or whose value is of the
        wrong kind or one the value never takes (``mgps`` 3, ``safety.car_hematotox_risk``
        ``hi``).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise.knowledge import load_knowledge_base
    >>> p = ip.profile(ip.read_patient(ip.data.example_path("nsclc_cold.json")))
    >>> changed, done = apply_overrides(p, {"pdl1_tps": 60}, knowledge_base=load_knowledge_base())
    >>> changed.values["pdl1_tps"].category, done[0].category_before
    ('TPS ≥50%', 'TPS <1%')
    """
    kb = knowledge_base
    code = profile.disease.oncotree_code
    known = set(profile.values) | condition_keys(kb)
    problems: list[FieldProblem] = []
    values = dict(profile.values)
    applied: list[Override] = []
    for key, value in overrides.items():
        given = value  # as written, for a refusal (35 % is named as '35 %', not 35.0)
        current = profile.values.get(key)
        family_problem = (
            _open_family_problem(kb, key)
            if key not in known and key.startswith(_OPEN_FAMILIES)
            else None
        )
        if family_problem is not None:
            problems.append(
                FieldProblem(field=f"overrides.{key}", value=value, message=family_problem)
            )
            continue
        if key not in known and not key.startswith(_OPEN_FAMILIES):
            close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(
                FieldProblem(
                    field=f"overrides.{key}", value=value, message=f"not a profile value{hint}"
                )
            )
            continue
        value, problem = _as_number(key, current, value, kb=kb, code=code)
        if problem is None:
            problem = _kind_problem(key, current, value, kb=kb, code=code)
        if problem is None:
            value, problem = _canonical_text(key, value)
        if problem:
            problems.append(FieldProblem(field=f"overrides.{key}", value=given, message=problem))
            continue
        category, threshold = _category(kb, code, key, value)
        base = {
            "key": key,
            "label": current.label if current else key,
            "unit": current.unit if current else None,
            "method": "hypothetical value (what-if)",
            "inputs": (),
        }
        if value is None:
            values[key] = ProfileValue(
                status="not_assessable", note="set unknown (what-if)", **base
            )
        else:
            values[key] = ProfileValue(
                status="assessed", value=value, category=category, threshold=threshold, **base
            )
        applied.append(
            Override(
                key=key,
                before=current.value if current else None,
                after=value,
                category_before=current.category if current else None,
                category_after=category,
            )
        )
    if problems:
        raise ValidationError(problems, source="what-if overrides")
    return profile.model_copy(update={"values": values}), tuple(applied)


def _index(plan: StrategyPlan) -> dict[str, StrategyOption]:
    return {o.therapy_id: o for o in (*plan.options, *plan.contraindicated)}


def compare_plans(
    actual: StrategyPlan, hypothetical: StrategyPlan, overrides: tuple[Override, ...]
) -> WhatIf:
    """How ``hypothetical`` differs from ``actual``: options whose status or score changed, and
    strategies proposed in one but not the other."""
    before, after = _index(actual), _index(hypothetical)
    changes = []
    for therapy_id in sorted(set(before) | set(after)):
        b, a = before.get(therapy_id), after.get(therapy_id)
        if b is not None and a is not None and (b.status, b.score) == (a.status, a.score):
            continue
        changes.append(
            OptionChange(
                therapy_id=therapy_id,
                name=(a or b).name,  # type: ignore[union-attr]
                status_before=b.status if b else None,
                status_after=a.status if a else None,
                score_before=b.score if b else None,
                score_after=a.score if a else None,
            )
        )
    proposed_before = {s.strategy_id for s in actual.strategies if s.status == "proposed"}
    proposed_after = {s.strategy_id for s in hypothetical.strategies if s.status == "proposed"}
    return WhatIf(
        overrides=overrides,
        changes=tuple(changes),
        strategies_added=tuple(sorted(proposed_after - proposed_before)),
        strategies_removed=tuple(sorted(proposed_before - proposed_after)),
    )
