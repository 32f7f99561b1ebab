"""Risk of severe CRS from early fever and cytokines: :func:`crs_risk`, models declared as data.

The models live in ``immunoprecise/safety/data/crs_risk.yaml`` (or a file of the same layout
passed in): each is a conjunction of criteria over the observations of the first days after the
infusion. The shipped file holds the classification tree of Hay et al. (Blood 2017;130(21):
2295-2306, doi:10.1182/blood-2017-06-793141): fever ≥ 38.9 °C and serum MCP-1 ≥ 1,343.5 pg/mL
within 36 hours of the infusion mark a high risk of grade ≥ 4 CRS. Those split values could not
be checked against the paper's text (the model says so: ``verified: false``). The logistic models
of Teachey et al. (Cancer Discov 2016;6(6):664-679) are left out: their coefficients could not
be verified.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.records import PatientRecord, ToxicityObservation
from immunoprecise.records.validation import validate_model

__all__ = [
    "CriterionResult",
    "CrsRiskCriterion",
    "CrsRiskModel",
    "CrsRiskResult",
    "crs_risk",
    "crs_risk_models",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CrsRiskCriterion(_Frozen):
    """One criterion: the highest value of ``input`` in the window reaches ``at_least``."""

    input: str = Field(
        pattern=r"^(temperature|cytokine:[A-Z0-9]+)$",
        description="'temperature' (°C) or 'cytokine:NAME' (pg/mL, toxicity[].cytokines).",
    )
    label: str
    at_least: float
    unit: str
    every_day: bool = Field(
        description="Whether 'not met' needs a value on every day of the window (a vital sign) "
        "or one value (a lab drawn once)."
    )


class _Window(_Frozen):
    first_day: int
    last_day: int
    note: str = ""


class CrsRiskModel(_Frozen):
    """A published early-risk model of severe CRS, declared as data."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    outcome: str
    reference: str
    doi: str | None = None
    verified: bool = Field(description="Whether the cut-offs were checked against the paper.")
    verification: str
    window: _Window
    criteria: tuple[CrsRiskCriterion, ...] = Field(min_length=1)


class _File(_Frozen):
    models: tuple[CrsRiskModel, ...]


class CriterionResult(_Frozen):
    """How one criterion came out: met True/False, or None (unknown) with what is missing."""

    label: str
    at_least: float
    unit: str
    value: float | None = Field(description="Highest value recorded in the window.")
    met: bool | None
    missing: tuple[str, ...] = ()


class CrsRiskResult(_Frozen):
    """The result of one model for one patient."""

    model_id: str
    name: str
    high_risk: bool | None = Field(description="None when missing values could decide it.")
    criteria: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    rationale: str
    reference: str
    verified: bool


@functools.cache
def _shipped() -> tuple[CrsRiskModel, ...]:
    text = resources.files("immunoprecise.safety").joinpath("data/crs_risk.yaml").read_text("utf-8")
    return validate_model(_File, yaml.safe_load(text), source="crs_risk.yaml").models


def crs_risk_models(path: str | Path | None = None) -> tuple[CrsRiskModel, ...]:
    """The early CRS-risk models: the shipped ones, or those of a YAML file of the same layout.

    Raises
    ------
    KnowledgeBaseError
        If the file cannot be read as YAML.
    ValidationError
        If a model does not follow the layout (the field is named).

    Examples
    --------
    >>> [(m.id, m.criteria[1].at_least, m.verified) for m in crs_risk_models()]
    [('hay2017_tree', 1343.5, False)]
    """
    if path is None:
        return _shipped()
    try:
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"cannot read CRS-risk models from {path}: {exc}") from exc
    return validate_model(_File, raw, source=str(path)).models


def _values(obs: ToxicityObservation, source: str) -> float | None:
    if source == "temperature":
        return obs.temperature.value if obs.temperature is not None else None
    q = obs.cytokines.get(source.removeprefix("cytokine:"))
    return q.value if q is not None else None


def _field(source: str) -> str:
    if source == "temperature":
        return "toxicity[].temperature"
    return f"toxicity[].cytokines.{source.removeprefix('cytokine:')}"


def _criterion(
    c: CrsRiskCriterion, window: Sequence[ToxicityObservation], days: range
) -> CriterionResult:
    by_day = {o.day: _values(o, c.input) for o in window}
    recorded = [v for v in by_day.values() if v is not None]
    top = max(recorded, default=None)
    if top is not None and top >= c.at_least:
        met: bool | None = True
        missing: tuple[str, ...] = ()
    else:
        unrecorded = [d for d in days if by_day.get(d) is None]
        complete = not unrecorded if c.every_day else bool(recorded)
        met = False if complete else None
        if complete:
            missing = ()
        elif c.every_day:
            missing = (f"{_field(c.input)} (day {', '.join(map(str, unrecorded))})",)
        else:
            missing = (f"{_field(c.input)} (days {days.start}–{days.stop - 1})",)
    return CriterionResult(
        label=c.label, at_least=c.at_least, unit=c.unit, value=top, met=met, missing=missing
    )


def crs_risk(
    data: PatientRecord | Sequence[ToxicityObservation],
    *,
    models: Sequence[CrsRiskModel] | None = None,
) -> tuple[CrsRiskResult, ...]:
    """Evaluate the early severe-CRS risk models on a patient's first days after infusion.

    Parameters
    ----------
    data
        A patient record (its ``toxicity`` observations) or the observations.
    models
        The models; the shipped ones (:func:`crs_risk_models`) when omitted.

    Returns
    -------
    tuple of CrsRiskResult
        Per model: high risk True (every criterion met), False (a criterion known not to be met)
        or None (undecided, naming the missing observations), with each criterion's highest
        value in the window.

    Examples
    --------
    >>> from immunoprecise.records import ToxicityObservation as Obs
    >>> days = [Obs(day=0, temperature=37.8), Obs(day=1, temperature=39.2,
    ...                                          cytokines={"MCP-1": 1500})]
    >>> r = crs_risk(days)[0]
    >>> r.high_risk, [c.met for c in r.criteria]
    (True, [True, True])
    """
    observations = data.toxicity if isinstance(data, PatientRecord) else data
    results = []
    for model in models if models is not None else crs_risk_models():
        days = range(model.window.first_day, model.window.last_day + 1)
        window = [o for o in observations if o.day in days]
        criteria = tuple(_criterion(c, window, days) for c in model.criteria)
        states = [c.met for c in criteria]
        high: bool | None = False if False in states else (None if None in states else True)
        missing = () if high is not None else tuple(m for c in criteria for m in c.missing)
        shown = "; ".join(
            f"{c.label} {'—' if c.value is None else f'{c.value:g}'} {c.unit} "
            f"(≥ {c.at_least:g}: {'unknown' if c.met is None else ('yes' if c.met else 'no')})"
            for c in criteria
        )
        undecided = "undecided whether high risk"
        verdict = {True: "high risk", False: "not high risk", None: undecided}[high]
        caveat = "" if model.verified else " Cut-offs not verified against the paper's text."
        results.append(
            CrsRiskResult(
                model_id=model.id,
                name=model.name,
                high_risk=high,
                criteria=criteria,
                missing=missing,
                rationale=f"{model.name}: {verdict} of {model.outcome.split(' (')[0]} — "
                f"{shown}, days {days.start}–{days.stop - 1}.{caveat}",
                reference=model.reference,
                verified=model.verified,
            )
        )
    return tuple(results)
