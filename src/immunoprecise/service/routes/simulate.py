"""``POST /api/v1/simulate``: tumor–effector trajectories of one or many virtual patients."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from immunoprecise.dynamics import Trajectories, simulate
from immunoprecise.dynamics.dosing import REFERENCE_BODY_SURFACE_M2, REFERENCE_BODY_WEIGHT_KG
from immunoprecise.dynamics.schedule import virtual_patients
from immunoprecise.dynamics.simulate import resolve_model
from immunoprecise.errors import ModelError
from immunoprecise.records.scalars import Number, WholeNumber, received
from immunoprecise.service.deps import Anyone, AuthorizedRoute
from immunoprecise.service.errors import error_responses
from immunoprecise.service.payloads import named_in_body

__all__ = [
    "MAX_DAYS",
    "MAX_PATIENT_SERIES",
    "MAX_VIRTUAL_PATIENTS",
    "SimulateRequest",
    "finite",
    "router",
]

router = APIRouter(
    route_class=AuthorizedRoute, tags=["simulate"], responses=error_responses(401, 429, 500)
)

MAX_VIRTUAL_PATIENTS = 1000
"""Most virtual patients one request may simulate."""
MAX_DAYS = 3650
"""Longest simulated time one request may ask for (10 years)."""
MAX_PATIENT_SERIES = 10
"""Daily series are returned for this many patients at most (quantiles cover all)."""


def _numbers(value: Any) -> Any:
    """Refuse ``true``/``false`` and text where a number, or a list of numbers, is expected."""
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, int | float):
            got = received(item, "; write the number without quotes")
            where = f"item {i + 1}: " if isinstance(value, list) else ""
            raise ValueError(
                f"{where}expected a number (or a list of numbers, one per patient), got {got}"
            )
    return value


PerPatient = Annotated[float | list[float], BeforeValidator(_numbers)]
"""A number for every patient, or a list of numbers (one per patient)."""
Values = dict[str, PerPatient]
"""Per-name values of a request; ``true``/``false`` or a number in quotes is refused (422), not
read as 1/0 or as a number."""


def finite(value: Any) -> Any:
    """JSON-safe numbers: NaN and infinities become ``None`` (recursively, numpy included).

    Examples
    --------
    >>> finite({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    if isinstance(value, np.generic):
        return finite(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def check_days(t_end: float) -> float:
    """Refuse simulated times that are not positive or longer than :data:`MAX_DAYS`."""
    if not math.isfinite(t_end) or t_end <= 0:
        raise ValueError("t_end must be a positive number of days")
    if t_end > MAX_DAYS:
        raise ValueError(
            f"t_end = {t_end:g} days is more than this service simulates per request "
            f"(at most {MAX_DAYS:,} days, 10 years)"
        )
    return t_end


def check_patients(n: int) -> int:
    """Refuse clouds larger than :data:`MAX_VIRTUAL_PATIENTS`."""
    if n > MAX_VIRTUAL_PATIENTS:
        raise ValueError(
            f"{n:,} virtual patients is more than this service simulates per request "
            f"(at most {MAX_VIRTUAL_PATIENTS:,}); split the run or use the Python API"
        )
    return n


def _positive(name: str, expected: str) -> Callable[[float], float]:
    """A check that a body size is finite and > 0, worded as :func:`immunoprecise.simulate`
    words it (``body_weight_kg must be a positive number of kilograms, e.g. 70, not 0``)."""

    def check(value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be {expected}, not {value!r}")
        return value

    return check


BodyWeight = Annotated[
    Number,
    AfterValidator(_positive("body_weight_kg", "a positive number of kilograms, e.g. 70")),
    Field(json_schema_extra={"exclusiveMinimum": 0}),
]
"""Body weight in kg: finite and > 0, the range :func:`immunoprecise.simulate` accepts."""
BodySurface = Annotated[
    Number,
    AfterValidator(_positive("body_surface_m2", "a positive body surface area in m², e.g. 1.8")),
    Field(json_schema_extra={"exclusiveMinimum": 0}),
]
"""Body surface area in m²: finite and > 0, the range :func:`immunoprecise.simulate` accepts."""


SimulatedDays = Annotated[
    Number,
    AfterValidator(check_days),
    Field(json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_DAYS}),
]
"""Days to simulate, checked by :func:`check_days` (its bounds are in the JSON Schema)."""
VirtualPatientCount = Annotated[
    WholeNumber,
    AfterValidator(check_patients),
    Field(json_schema_extra={"maximum": MAX_VIRTUAL_PATIENTS}),
]
"""Size of a virtual-patient cloud, checked by :func:`check_patients` (its bound is in the JSON
Schema)."""


def _patients_in(values: Values | None) -> int:
    return max((len(v) for v in (values or {}).values() if isinstance(v, list)), default=1)


class SimulateRequest(BaseModel):
    """A simulation: model, regimen, time, and the virtual patients."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=64, examples=["cartmath2021"])
    regimen: str | None = Field(
        default=None, max_length=2000, examples=["CAR-T 1e6 cells d42"], description="Regimen text."
    )
    t_end: SimulatedDays = Field(
        description=f"Days simulated (at most {MAX_DAYS:,}).", examples=[120]
    )
    n_virtual: VirtualPatientCount = Field(
        default=1,
        ge=1,
        description=f"Virtual patients drawn around the published parameters (lognormal, "
        f"seeded; at most {MAX_VIRTUAL_PATIENTS:,}). 1: the published parameters only.",
    )
    seed: WholeNumber = Field(default=0, ge=0, description="Seed of the virtual patients.")
    parameter_set: str | None = Field(default=None, max_length=64)
    params: Values | None = Field(
        default=None,
        description="Parameter values: a number for all patients, or a list (one per patient).",
    )
    initial: Values | None = Field(default=None, description="Initial states, as params.")
    body_weight_kg: BodyWeight | None = Field(
        default=None,
        description="Body weight (kg) for per-kg doses (mg/kg, cells/kg): a finite number > 0. "
        f"Default: {REFERENCE_BODY_WEIGHT_KG:g} kg, the ICRP Publication 23 reference adult.",
        examples=[82],
    )
    body_surface_m2: BodySurface | None = Field(
        default=None,
        description="Body surface area (m²) for per-m² doses (mg/m2, cells/m2): a finite "
        f"number > 0. Default: {REFERENCE_BODY_SURFACE_M2:g} m², the ICRP Publication 23 "
        "reference adult.",
        examples=[2.1],
    )

    @model_validator(mode="after")
    def _lists(self) -> SimulateRequest:
        check_patients(max(_patients_in(self.params), _patients_in(self.initial)))
        return self


_SETTINGS_SHOWN = ("method", "rtol", "atol", "body_weight_kg", "body_surface_m2")
"""The simulation's settings an answer shows: the integrator's, and the body size its per-kg
and per-m² doses were given for."""


def _quantiles(values: npt.NDArray[np.float64]) -> dict[str, Any]:
    if values.shape[0] == 0:
        return {"median": None, "p5": None, "p95": None}
    return {
        "median": finite(np.median(values, axis=0)),
        "p5": finite(np.percentile(values, 5, axis=0)),
        "p95": finite(np.percentile(values, 95, axis=0)),
    }


def trajectories_json(tr: Trajectories) -> dict[str, Any]:
    """Summary, daily quantiles, the first patients' daily series and the notes of a
    simulation."""
    ok = tr.ok
    tumor = effectors = None
    with contextlib.suppress(ModelError):  # a model without a tumor or effector state
        tumor = np.asarray(tr.tumor, dtype=np.float64)
    with contextlib.suppress(ModelError):
        effectors = np.asarray(tr.effectors, dtype=np.float64)
    series: dict[str, Any] = {"t": finite(tr.t)}
    if tumor is not None:
        series["tumor_cells"] = _quantiles(tumor[ok])
    if effectors is not None:
        series["effector_cells"] = _quantiles(effectors[ok])
    first = []
    for i, pid in enumerate(tr.patients[:MAX_PATIENT_SERIES]):
        item: dict[str, Any] = {"patient": pid, "ok": bool(ok[i])}
        if tumor is not None:
            item["tumor_cells"] = finite(tumor[i])
        if effectors is not None:
            item["effector_cells"] = finite(effectors[i])
        first.append(item)
    summary = tr.summary().to_dict(orient="records")
    return {
        "n_patients": len(tr),
        "n_ok": int(ok.sum()),
        "eradicated_fraction": float(np.mean(tr.eradicated[ok])) if ok.any() else None,
        "summary": finite(summary),
        "series": series,
        "patient_series": first,
        "dose_days": finite(dict(tr.dose_days)),
        "settings": finite({k: v for k, v in tr.settings.items() if k in _SETTINGS_SHOWN}),
        # what was simulated as written but may not be meant (doses of one agent that add up)
        "notes": list(tr.notes),
    }


@router.post(
    "/simulate", summary="Simulate tumor–effector dynamics", responses=error_responses(400)
)
def simulate_regimen(caller: Anyone, request: SimulateRequest) -> dict[str, Any]:
    """Simulate one model under a regimen for one or many virtual patients.

    Returns a summary per patient (start, nadir and end tumor, eradication day), daily median
    and 5–95% band of tumor and effector cells, and the daily series of the first
    10 patients. Requests are capped at 1,000 virtual patients and 3,650 days (422 beyond).
    Per-kg and per-m² doses are given for ``body_weight_kg`` and ``body_surface_m2`` (default:
    the 70 kg, 1.8 m² ICRP reference adult); the answer names the values used.
    """
    model = resolve_model(request.model)
    params: Any = request.params
    if request.n_virtual > 1:
        cloud = virtual_patients(
            model, request.n_virtual, seed=request.seed, parameter_set=request.parameter_set
        )
        for key, value in (request.params or {}).items():
            if isinstance(value, list) and len(value) != request.n_virtual:
                raise ModelError(
                    f"params[{key!r}] has {len(value)} values for {request.n_virtual} patients"
                )
            cloud[key] = value
        params = cloud
    with named_in_body(SimulateRequest):  # the regimen text, read by simulate
        tr = simulate(
            model,
            t_end=request.t_end,
            regimen=request.regimen,
            params=params,
            initial=request.initial,
            parameter_set=request.parameter_set,
            body_weight_kg=(
                REFERENCE_BODY_WEIGHT_KG
                if request.body_weight_kg is None
                else request.body_weight_kg
            ),
            body_surface_m2=(
                REFERENCE_BODY_SURFACE_M2
                if request.body_surface_m2 is None
                else request.body_surface_m2
            ),
        )
    return {
        "model": model.id,
        "regimen": None if tr.regimen is None else str(tr.regimen),
        "t_end": request.t_end,
        "seed": request.seed,
        "body_weight_kg": tr.settings["body_weight_kg"],
        "body_surface_m2": tr.settings["body_surface_m2"],
        **trajectories_json(tr),
    }
