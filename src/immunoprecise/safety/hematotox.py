"""CAR-HEMATOTOX: risk of prolonged cytopenia after CAR-T from labs before lymphodepletion.

Rejeski K, Perez A, Sesques P, et al. CAR-HEMATOTOX: a model for CAR T-cell-related hematologic
toxicity in relapsed/refractory large B-cell lymphoma. Blood 2021;138(24):2499-2513.
doi:10.1182/blood.2020010543

Five baseline labs, taken before lymphodepleting chemotherapy, give 0–7 points; 0–1 is low risk
and ≥ 2 high risk of hematotoxicity (severe neutropenia ≥ 14 days; pooled validation AUC 0.89).
Platelets and ferritin are weighted up to 2 points.

==================  ==================  ========================  ==============
lab                 0 points            1 point                   2 points
==================  ==================  ========================  ==============
platelets           > 175,000/µL        75,000–175,000/µL         < 75,000/µL
ANC                 > 1,200/µL          ≤ 1,200/µL (*)            —
hemoglobin          > 9.0 g/dL          ≤ 9.0 g/dL (*)            —
CRP                 < 3.0 mg/dL         ≥ 3.0 mg/dL               —
ferritin            < 650 ng/mL         650–2,000 ng/mL           > 2,000 ng/mL
==================  ==================  ========================  ==============

Boundary values. Where the published bands include an edge (platelets 75,000 and 175,000;
ferritin 650 and 2,000; CRP 3.0 mg/dL) it is scored as published. The published ANC and
hemoglobin bands (> 1,200 vs < 1,200/µL; > 9.0 vs < 9.0 g/dL) leave the edge itself unscored;
(*) here the edge scores the risk point — the conservative choice for a rule-out score.
Records store CRP in mg/L: 3.0 mg/dL = 30 mg/L.

Verification. The five components, the timing (before lymphodepletion), the extra weight of
platelets and ferritin and the risk groups (0–1 low, ≥ 2 high) were checked against published
summaries of the paper; the numeric band edges above are those widely reproduced from the
paper's Figure, but the paper's own text was not available to check them.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records import PatientRecord
from immunoprecise.records.fields import record_fields

__all__ = [
    "HEMATOTOX_REFERENCE",
    "HIGH_RISK_MIN",
    "MAX_SCORE",
    "RISK_GROUPS",
    "HematotoxComponent",
    "HematotoxScore",
    "RiskGroup",
    "car_hematotox",
    "hematotox_score",
]

HEMATOTOX_REFERENCE = (
    "Rejeski K, Perez A, Sesques P, et al. CAR-HEMATOTOX: a model for CAR T-cell-related "
    "hematologic toxicity in relapsed/refractory large B-cell lymphoma. Blood "
    "2021;138(24):2499-2513. doi:10.1182/blood.2020010543"
)
HIGH_RISK_MIN = 2
"""A score ≥ 2 is high risk, 0–1 low risk (Rejeski 2021)."""
MAX_SCORE = 7
"""The highest score: platelets 2, ANC 1, hemoglobin 1, CRP 1 and ferritin 2 points."""
RiskGroup = Literal["low", "high"]
RISK_GROUPS: tuple[RiskGroup, ...] = get_args(RiskGroup)
"""The risk groups, low (0–1 points) and high (≥ 2): the values of ``HematotoxScore.risk``."""


@dataclass(frozen=True)
class _Band:
    """One lab of the score: its name, record field, unit and highest points."""

    name: str
    field: str
    unit: str
    max_points: int

    def score(self, value: float) -> tuple[int, str]:
        """The points and band text of ``value`` (in ``unit``)."""
        return _SCORERS[self.name](value)


def _platelets(v: float) -> tuple[int, str]:
    if v > 175_000:
        return 0, "> 175,000/µL"
    if v >= 75_000:
        return 1, "75,000–175,000/µL"
    return 2, "< 75,000/µL"


def _anc(v: float) -> tuple[int, str]:
    return (0, "> 1,200/µL") if v > 1_200 else (1, "≤ 1,200/µL")


def _hemoglobin(v: float) -> tuple[int, str]:
    return (0, "> 9.0 g/dL") if v > 9.0 else (1, "≤ 9.0 g/dL")


def _crp(v_mg_per_l: float) -> tuple[int, str]:
    # 3.0 mg/dL = 30 mg/L
    return (1, "≥ 3.0 mg/dL (30 mg/L)") if v_mg_per_l >= 30.0 else (0, "< 3.0 mg/dL (30 mg/L)")


def _ferritin(v: float) -> tuple[int, str]:
    if v < 650:
        return 0, "< 650 ng/mL"
    if v <= 2_000:
        return 1, "650–2,000 ng/mL"
    return 2, "> 2,000 ng/mL"


_SCORERS = {
    "platelets": _platelets,
    "anc": _anc,
    "hemoglobin": _hemoglobin,
    "crp": _crp,
    "ferritin": _ferritin,
}
COMPONENTS = (
    _Band("platelets", "host.blood.platelets", "cells/µL", 2),
    _Band("anc", "host.blood.neutrophils", "cells/µL", 1),
    _Band("hemoglobin", "host.blood.hemoglobin", "g/dL", 1),
    _Band("crp", "host.crp", "mg/L", 1),
    _Band("ferritin", "host.ferritin", "ng/mL", 2),
)


class HematotoxComponent(BaseModel):
    """One lab of the score: its value, band and points (None when not recorded)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    field: str = Field(description="Record field it is read from.")
    value: float | None
    unit: str
    points: int | None
    band: str | None = None


class HematotoxScore(BaseModel):
    """A CAR-HEMATOTOX score with its components.

    ``score`` is None when a component is missing; ``points_known`` then adds up the components
    that were recorded, and ``risk`` is still decided when they already reach ≥ 2 (high) or the
    missing ones could not lift the score above 1 (low).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    components: tuple[HematotoxComponent, ...]
    score: int | None = Field(ge=0, le=MAX_SCORE)
    points_known: int = Field(ge=0, le=MAX_SCORE)
    points_possible: int = Field(
        ge=0, le=MAX_SCORE, description="Highest score the missing labs allow."
    )
    risk: RiskGroup | None
    missing: tuple[str, ...]
    reference: str = HEMATOTOX_REFERENCE

    @property
    def text(self) -> str:
        """E.g. ``5 (high risk)`` or ``≥ 3 of 0–7 (high risk); missing host.ferritin``."""
        risk = f" ({self.risk} risk)" if self.risk else ""
        if self.score is not None:
            return f"{self.score}{risk}"
        return (
            f"{self.points_known}–{self.points_possible}{risk}; missing {', '.join(self.missing)}"
        )


def _lab_values(labs: Mapping[str, float | None]) -> dict[str, float | None]:
    """The labs as floats (None = not recorded: a missing key, None, NaN or infinity).

    Raises
    ------
    ValidationError
        Naming every unknown key (with the known ones), non-numeric value and negative value
        (with the lab's unit).
    """
    bands = {b.name: b for b in COMPONENTS}
    problems: list[FieldProblem] = []
    for key in labs:
        if key not in bands:
            close = difflib.get_close_matches(str(key), list(bands), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            if str(key).lower() in ("neutrophils", "neutrophil", "neutrophil_count"):
                hint = "; the absolute neutrophil count is 'anc'"
            problems.append(
                FieldProblem(
                    field=f"labs.{key}",
                    value=labs[key],
                    message=f"not a lab of CAR-HEMATOTOX{hint} (the labs are "
                    f"{', '.join(f'{b.name} ({b.unit})' for b in COMPONENTS)})",
                )
            )
    out: dict[str, float | None] = {}
    for band in COMPONENTS:
        raw = labs.get(band.name)
        if raw is None:
            out[band.name] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, Real):
            problems.append(
                FieldProblem(
                    field=f"labs.{band.name}",
                    value=raw,
                    message=f"expected a number in {band.unit}, not {type(raw).__name__}",
                )
            )
            continue
        value = float(raw)
        if not math.isfinite(value):  # a lab not measured
            out[band.name] = None
        elif value < 0:
            problems.append(
                FieldProblem(
                    field=f"labs.{band.name}",
                    value=raw,
                    message=f"expected a value ≥ 0 {band.unit}",
                )
            )
        elif (implausible := _implausible(band, value)) is not None:
            problems.append(FieldProblem(field=f"labs.{band.name}", value=raw, message=implausible))
        else:
            out[band.name] = value
    if problems:
        raise ValidationError(problems, source="CAR-HEMATOTOX labs")
    return out


@functools.cache
def _plausible_ranges() -> dict[str, tuple[float | None, float | None]]:
    """The range a record can hold in each lab's field (the record schema's plausible range)."""
    fields = {f.path: f for f in record_fields()}
    out: dict[str, tuple[float | None, float | None]] = {}
    for band in COMPONENTS:
        spec = fields[band.field].spec
        out[band.name] = (spec.ge, spec.le) if spec is not None else (None, None)
    return out


# a lab too high for its unit because it was given in another one, and how to convert it
_OTHER_UNIT = {"hemoglobin": "in g/L? divide by 10"}


def _implausible(band: _Band, value: float) -> str | None:
    """Why ``value`` cannot be ``band``'s lab in its unit (outside the range a record holds,
    as a hemoglobin of 89, in g/L, read as g/dL), or None."""
    low, high = _plausible_ranges()[band.name]
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    too_high = high is not None and value > high
    other = f"; {_OTHER_UNIT[band.name]}" if too_high and band.name in _OTHER_UNIT else ""
    return f"expected {low:g}–{high:g} {band.unit}, the range a record holds{other}"


def hematotox_score(labs: Mapping[str, float | None]) -> HematotoxScore:
    """Score CAR-HEMATOTOX from lab values in the record's units.

    Parameters
    ----------
    labs
        ``platelets`` and ``anc`` in cells/µL, ``hemoglobin`` in g/dL, ``crp`` in mg/L,
        ``ferritin`` in ng/mL, measured before lymphodepletion; a missing key, ``None`` or a
        non-finite number (NaN) is a lab not recorded, never a normal or an abnormal one.

    Returns
    -------
    HematotoxScore
        Points per component, the score 0–7 (None if a lab is missing), the known points, the
        highest possible score and the risk group (low 0–1, high ≥ 2) when decided.

    Raises
    ------
    ValidationError
        For a key that is not one of the five labs (the known keys are listed), a value that is
        not a number, a negative value, or one outside the range a record holds for the lab
        (a hemoglobin of 89, in g/L rather than g/dL; the lab and its unit are named).

    Examples
    --------
    >>> s = hematotox_score({"platelets": 42_000, "anc": 900, "hemoglobin": 8.9,
    ...                      "crp": 6, "ferritin": 890})
    >>> s.score, s.risk
    (5, 'high')
    >>> s = hematotox_score({"platelets": 200_000, "anc": 3000, "hemoglobin": 12, "crp": 5})
    >>> s.score, s.points_known, s.points_possible, s.risk, s.missing
    (None, 0, 2, None, ('host.ferritin',))
    """
    values = _lab_values(labs)
    components = []
    for band in COMPONENTS:
        value = values[band.name]
        if value is None:
            components.append(
                HematotoxComponent(
                    name=band.name, field=band.field, value=None, unit=band.unit, points=None
                )
            )
            continue
        points, text = band.score(value)
        components.append(
            HematotoxComponent(
                name=band.name,
                field=band.field,
                value=value,
                unit=band.unit,
                points=points,
                band=text,
            )
        )
    known = sum(c.points or 0 for c in components)
    missing = tuple(c.field for c in components if c.points is None)
    possible = known + sum(
        b.max_points for b, c in zip(COMPONENTS, components, strict=True) if c.points is None
    )
    if known >= HIGH_RISK_MIN:
        risk: RiskGroup | None = "high"
    elif possible < HIGH_RISK_MIN:
        risk = "low"
    else:
        risk = None
    return HematotoxScore(
        components=tuple(components),
        score=None if missing else known,
        points_known=known,
        points_possible=possible,
        risk=risk,
        missing=missing,
    )


def car_hematotox(record: PatientRecord) -> HematotoxScore:
    """Score CAR-HEMATOTOX from a record's host labs (taken as the pre-lymphodepletion labs).

    Parameters
    ----------
    record
        A patient record; ``host.blood.platelets``, ``host.blood.neutrophils``,
        ``host.blood.hemoglobin``, ``host.crp`` and ``host.ferritin`` are read. The score is
        defined on labs taken before lymphodepleting chemotherapy: record those.

    Returns
    -------
    HematotoxScore
        See :func:`hematotox_score`.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> s = car_hematotox(ip.read_patient(ip.data.example_path("ball_cd19.json")))
    >>> [(c.name, c.points) for c in s.components], s.score, s.risk
    ([('platelets', 2), ('anc', 1), ('hemoglobin', 1), ('crp', 0), ('ferritin', 1)], 5, 'high')
    """
    host = record.host

    def value(q: object) -> float | None:
        return getattr(q, "value", None)

    return hematotox_score(
        {
            "platelets": value(host.blood.platelets),
            "anc": value(host.blood.neutrophils),
            "hemoglobin": value(host.blood.hemoglobin),
            "crp": value(host.crp),
            "ferritin": value(host.ferritin),
        }
    )
