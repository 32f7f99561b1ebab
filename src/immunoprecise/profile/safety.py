"""Safety values: CAR-HEMATOTOX, CRS/ICANS maximum grades and early severe-CRS risk.

- ``safety.car_hematotox`` — CAR-HEMATOTOX score 0–7 from the host labs (Rejeski 2021), for
  haematological malignancies (where CAR-T cells are given and the score was validated); not
  assessable when a lab is missing, the missing labs named;
- ``safety.car_hematotox_risk`` — its risk group ``low``/``high``, decided even with missing labs
  when the labs present already reach ≥ 2 points (or the missing ones cannot lift it above 1);
- ``safety.crs_max_grade`` / ``safety.icans_max_grade`` — the highest ASTCT grade over the
  recorded course (Lee 2019), not assessable when an undecided day could exceed it; and
  ``safety.crs_max_grade_at_least`` / ``safety.icans_max_grade_at_least`` — the grade the
  observations prove, for rules such as "grade ≥ 2" that a proven grade already decides;
- ``safety.crs_risk.<model>`` — early severe-CRS risk models (:mod:`immunoprecise.safety`).

The grade and risk values exist only for patients with toxicity observations (``toxicity[]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from immunoprecise.profile.values import Computed, Metric, ValueBuilder
from immunoprecise.safety import crs_risk, crs_risk_models, grade_course, hematotox_score
from immunoprecise.safety.course import MaxGrade
from immunoprecise.safety.hematotox import COMPONENTS, RISK_GROUPS

__all__ = ["GRADE_KEYS", "GRADE_VALUES", "HEMATOTOX_RISK_CATEGORY", "safety_values"]

#: The category of ``safety.car_hematotox`` and ``safety.car_hematotox_risk`` for each risk group
#: (the labels rules compare).
HEMATOTOX_RISK_CATEGORY: dict[str, str] = {risk: f"{risk} risk" for risk in RISK_GROUPS}
#: The maximum-grade values of each syndrome: the grade (0–4, :data:`~immunoprecise.safety.
#: grade.MAX_GRADE`) and the grade the observations prove. Their category is the grade with the
#: day it was reached (``grade 2 (day 2)``), a description rather than a label to compare.
GRADE_KEYS = {
    "CRS": ("safety.crs_max_grade", "safety.crs_max_grade_at_least"),
    "ICANS": ("safety.icans_max_grade", "safety.icans_max_grade_at_least"),
}
GRADE_VALUES = tuple(key for keys in GRADE_KEYS.values() for key in keys)

_TOXICITY = "toxicity[]"
_HEMATOTOX_FORMULA = (
    "platelets >175,000/µL 0, 75,000–175,000 1, <75,000 2; ANC >1,200/µL 0, ≤1,200 1; "
    "Hb >9.0 g/dL 0, ≤9.0 1; CRP <30 mg/L (3.0 mg/dL) 0, ≥30 1; ferritin <650 ng/mL 0, "
    "650–2,000 1, >2,000 2; low risk 0–1, high risk ≥2"
)
_HEMATOTOX_NOTE = (
    "the score is defined on labs taken before lymphodepleting chemotherapy; the record's host "
    "labs are read as such"
)


def _hematotox(build: ValueBuilder) -> list[Computed]:
    n = build.cols.n
    labs = {c.name: build.cols.number(c.field) for c in COMPONENTS}
    score = np.full(n, np.nan)
    risk = np.full(n, None, dtype=object)
    category = np.full(n, None, dtype=object)
    note = np.full(n, None, dtype=object)
    missing = np.full(n, None, dtype=object)
    for i in range(n):
        values = {k: (None if np.isnan(v[i]) else float(v[i])) for k, v in labs.items()}
        result = hematotox_score(values)
        if result.score is not None:
            score[i] = result.score
        risk[i] = result.risk
        category[i] = HEMATOTOX_RISK_CATEGORY[result.risk] if result.risk else None
        missing[i] = result.missing
        points = ", ".join(
            f"{c.name} {c.points}" for c in result.components if c.points is not None
        )
        note[i] = (
            f"points: {points}; {_HEMATOTOX_NOTE}"
            if result.score is not None
            else f"known points {points or 'none'}: {result.text}"
        )
    inputs = tuple(c.field for c in COMPONENTS)
    common: dict[str, Any] = {
        "references": ("rejeski2021",),
        "inputs": inputs,
        "formula": _HEMATOTOX_FORMULA,
    }
    return [
        build.computed(
            Metric(
                "safety.car_hematotox",
                "CAR-HEMATOTOX score",
                "CAR-HEMATOTOX (Rejeski 2021): platelets, ANC, hemoglobin, CRP and ferritin "
                "before lymphodepletion, 0–7 points",
                kind="int",
                unit="points",
                interpretation="high risk (≥ 2) of prolonged severe neutropenia after CAR-T "
                "(pooled validation AUC 0.89, Rejeski 2021)",
                **common,
            ),
            score,
            category=category,
            note=note,
            missing=build.missing(score, lambda i: tuple(missing[i] or ())),
        ),
        build.computed(
            Metric(
                "safety.car_hematotox_risk",
                "CAR-HEMATOTOX risk group",
                "CAR-HEMATOTOX risk group: low 0–1, high ≥ 2 points; decided with missing labs "
                "when the labs present already reach 2 points, or the missing ones cannot",
                kind="text",
                **common,
            ),
            risk,
            category=category,
            note=note,
            missing=build.missing(risk, lambda i: tuple(missing[i] or ())),
        ),
    ]


def _day_fields(course_days: Any, syndrome: str) -> tuple[str, ...]:
    out = []
    for d in course_days:
        grade = d.crs if syndrome == "CRS" else d.icans
        out += [
            m if m.startswith("patient.") else f"toxicity[day {d.day}].{m}" for m in grade.missing
        ]
    return tuple(dict.fromkeys(out))


def _grades(build: ValueBuilder) -> list[Computed]:
    n = build.cols.n
    observations = build.cols.text(_TOXICITY)
    ages = build.cols.number("patient.age")
    keys = GRADE_KEYS
    exact = {s: np.full(n, np.nan) for s in keys}
    proven = {s: np.full(n, np.nan) for s in keys}
    category = {s: np.full(n, None, dtype=object) for s in keys}
    note = {s: np.full(n, None, dtype=object) for s in keys}
    missing = {s: np.full(n, None, dtype=object) for s in keys}
    for i in range(n):
        if not observations[i]:
            continue
        age = None if np.isnan(ages[i]) else float(ages[i])
        course = grade_course(observations[i], age_years=age)
        for syndrome, top in (("CRS", course.crs_max), ("ICANS", course.icans_max)):
            mx: MaxGrade = top
            category[syndrome][i] = mx.text
            proven[syndrome][i] = mx.grade if mx.grade is not None else 0
            if mx.complete and mx.grade is not None:
                exact[syndrome][i] = mx.grade
            else:
                note[syndrome][i] = f"{mx.text}; findings missing on undecided days"
                missing[syndrome][i] = _day_fields(course.days, syndrome)
    out = []
    for syndrome, (grade_key, proven_key) in keys.items():
        method = (
            f"highest ASTCT {syndrome} grade (Lee 2019) over the recorded days after effector-"
            "cell infusion"
        )
        extra = " (ICE score; CAPD ≤ 12 years)" if syndrome == "ICANS" else ""
        out.append(
            build.computed(
                Metric(
                    grade_key,
                    f"Maximum {syndrome} grade",
                    method + extra,
                    kind="int",
                    references=("lee2019",),
                    inputs=(_TOXICITY,),
                    only_with=_TOXICITY,
                ),
                exact[syndrome],
                category=category[syndrome],
                note=note[syndrome],
                missing=missing[syndrome] if build.explain else None,
            )
        )
        out.append(
            build.computed(
                Metric(
                    proven_key,
                    f"{syndrome} grade proven by the observations",
                    f"the {syndrome} grade the recorded findings prove (a lower bound when "
                    "findings are missing on some day)",
                    kind="int",
                    references=("lee2019",),
                    inputs=(_TOXICITY,),
                    only_with=_TOXICITY,
                ),
                proven[syndrome],
                category=category[syndrome],
            )
        )
    return out


def _risk_models(build: ValueBuilder) -> list[Computed]:
    n = build.cols.n
    observations = build.cols.text(_TOXICITY)
    out = []
    for index, model in enumerate(crs_risk_models()):
        value = np.full(n, np.nan)
        note = np.full(n, None, dtype=object)
        missing = np.full(n, None, dtype=object)
        for i in range(n):
            if not observations[i]:
                continue
            result = crs_risk(observations[i], models=(model,))[0]
            if result.high_risk is not None:
                value[i] = float(result.high_risk)
            note[i] = result.rationale
            missing[i] = result.missing
        references = ("hay2017",) if model.id.startswith("hay2017") else ()
        out.append(
            build.computed(
                Metric(
                    f"safety.crs_risk.{model.id}",
                    f"High risk by the {model.name}",
                    model.name
                    + ("" if model.verified else " (cut-offs not verified against the paper)")
                    + f", model {index + 1} of crs_risk.yaml",
                    kind="bool",
                    formula=" and ".join(
                        f"{c.label} ≥ {c.at_least:g} {c.unit}" for c in model.criteria
                    )
                    + f", days {model.window.first_day}–{model.window.last_day}",
                    references=references,
                    inputs=(_TOXICITY,),
                    only_with=_TOXICITY,
                    interpretation=model.outcome,
                ),
                value,
                note=note,
                missing=missing if build.explain else None,
            )
        )
    return out


def safety_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """CAR-HEMATOTOX (haematological malignancies), maximum CRS/ICANS grades and early
    severe-CRS risk (patients with toxicity observations)."""
    out = [] if build.solid else _hematotox(build)
    return out + _grades(build) + _risk_models(build)
