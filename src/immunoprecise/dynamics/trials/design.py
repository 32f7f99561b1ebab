"""A virtual-trial design as data: arms, model, population, size, follow-up, endpoints, seed.

A design is written in YAML and validated as a whole: every invalid field is named with the value
received and what is expected, and regimens are parsed with the regimen grammar
(:class:`~immunoprecise.dynamics.Regimen`). :func:`design_hash` identifies a design for the
records every result carries (same design and seed → same numbers).

Examples
--------
>>> design = TrialDesign.model_validate({
...     "name": "CAR-T timing", "model": "cartmath2021", "seed": 7, "n_per_arm": 100,
...     "follow_up_days": 180,
...     "arms": [{"id": "early", "regimen": "CAR-T 1e6 cells d0"},
...              {"id": "late", "regimen": "CAR-T 1e6 cells d42"}]})
>>> [arm.id for arm in design.arms], design.endpoints
(['early', 'late'], ('orr', 'cr_rate', 'pfs'))
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pydantic
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from immunoprecise.documents import load_yaml
from immunoprecise.dynamics.dosing import (
    REFERENCE_BODY_SURFACE_M2,
    REFERENCE_BODY_WEIGHT_KG,
    body_size_used,
    body_surface_problem,
    body_weight_problem,
)
from immunoprecise.dynamics.model import Model
from immunoprecise.dynamics.regimen import Regimen, RegimenSyntaxError
from immunoprecise.dynamics.response import (
    CELLS_PER_CM3,
    LUGANO_CR_NODE_MM,
    cells_to_diameter_mm,
    diameter_mm_to_cells,
    lugano_measurable,
)
from immunoprecise.dynamics.schedule import PARAMETER_SPREAD_CV
from immunoprecise.dynamics.simulate import (
    MAX_OUTPUT_POINTS,
    check_output_size,
    dosing_segments,
    resolve_model,
)
from immunoprecise.dynamics.trials.population import (
    Constraint,
    ParameterDistribution,
    PopulationSpec,
    _located_in,
    _named,
    not_a_flag,
)
from immunoprecise.errors import (
    FieldProblem,
    ImmunopreciseError,
    ModelError,
    ValidationError,
    repeated,
)
from immunoprecise.wording import counted

__all__ = [
    "MAX_ARMS",
    "MAX_FOLLOW_UP_DAYS",
    "MAX_PATIENTS_PER_ARM",
    "MAX_SEED",
    "SEED_RANGE",
    "ObservedResult",
    "TrialArm",
    "TrialDesign",
    "TrialPopulation",
    "TrialStratum",
    "arm_count_refusal",
    "design_hash",
    "load_trial_design",
    "seed_refusal",
]

MAX_ARMS = 10
"""Most arms one design may compare."""
MAX_PATIENTS_PER_ARM = 10_000_000
"""Most virtual patients per arm (the trial runs in chunks; memory does not grow with it)."""
MAX_FOLLOW_UP_DAYS = 3650
"""Longest follow-up simulated (10 years)."""
MAX_SEED = 2**32 - 1
"""Largest seed of a virtual trial (a design's ``seed``, and the REST trial's): seeds are whole
numbers from 0 to 2³² − 1."""
SEED_RANGE = f"a whole number from 0 to {MAX_SEED}"
"""What a trial's seed is, in the words of every refusal of one."""
CHUNK_SIZE_MIN = 100
"""Fewest patients per chunk a design may ask for."""
LETHAL_BURDEN_CELLS = 1e12
"""Tumor burden taken as lethal for overall survival: about 10¹² cells (≈ 1 kg of tumor).

Friberg S, Mattson S. On the growth rates of human malignant tumors: implications for medical
decision making. J Surg Oncol 1997;65(4):284–297 (a tumor of ~10¹² cells is lethal)."""

Slug = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")]


def _finite(value: Any) -> Any:
    """Refuse ``true``/``false`` and NaN/infinity (checked before any range, whose message would
    mislead: "nan should be ≤ 3650")."""
    not_a_flag(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # not a number at all: pydantic says what it expected
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value}")
    return value


def _a_list(example: str) -> BeforeValidator:
    """Refuse a mapping or a single text where a design lists items (YAML ``- `` lines), saying
    how to write the list instead of pydantic's "Input should be a valid tuple"."""

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            keys = ", ".join(map(str, value)) or "none"
            raise ValueError(
                f"expected a list (a '- ' line per item, or [..., ...]), e.g. {example}; got a "
                f"mapping (keys: {keys})"
            )
        if isinstance(value, str):
            raise ValueError(
                f"expected a list (a '- ' line per item, or [..., ...]), e.g. {example}; got a text"
            )
        return value

    return BeforeValidator(check)


Count = Annotated[int, BeforeValidator(not_a_flag)]
"""A whole number of a design; ``true``/``false`` refused."""
Amount = Annotated[float, BeforeValidator(_finite)]
"""A finite number of a design (YAML's ``.nan``/``.inf`` refused); ``true``/``false`` refused.
Text such as ``1e11``, which YAML 1.1 reads as text for want of a dot, is still read."""


def seed_refusal(value: Any) -> str | None:
    """Why a number cannot be a trial's seed (outside 0 to :data:`MAX_SEED`, at any size:
    ``1e30`` or ``99999999999999999999``); ``None`` for a seed in range, and for a value that is
    not a whole number at all (its type check words that).

    Examples
    --------
    >>> seed_refusal(99999999999999999999)
    'expected a whole number from 0 to 4294967295, e.g. 7'
    >>> seed_refusal(7) is None, seed_refusal("seven") is None
    (True, True)
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    refusal = f"expected {SEED_RANGE}, e.g. 7"
    number: int | float
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if text.lstrip("+-").isdecimal() else float(text)
        except ValueError:  # not a number (or more digits than Python reads): a range is moot
            return refusal if text.lstrip("+-").isdecimal() else None
    else:
        number = value
    if isinstance(number, float) and not (math.isfinite(number) and number.is_integer()):
        return None  # a fraction, NaN or infinity: refused as such by the number check
    return None if 0 <= number <= MAX_SEED else refusal


def _a_seed(value: Any) -> Any:
    refusal = seed_refusal(value)
    if refusal:
        raise ValueError(refusal)
    return value


def _measured(expected: str, *, whole: bool = False) -> BeforeValidator:
    """Refuse a value that is not a number (``"200 patients"``, ``12 weeks``, a list) saying
    what the field expects, with its unit and an example, instead of pydantic's "Input should
    be a valid integer"; ``true``/``false`` and NaN/infinity are refused as for any number."""

    def check(value: Any) -> Any:
        not_a_flag(value)
        if isinstance(value, int):  # whole and finite; its range is the field's (ge/le)
            return value
        if isinstance(value, float):
            number = value
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"expected {expected}") from None
        else:
            raise ValueError(f"expected {expected}, not a {type(value).__name__}")
        if whole and math.isfinite(number) and not number.is_integer():
            raise ValueError(f"expected {expected}")
        return _finite(value)

    return BeforeValidator(check)


# Numbers of a design with a unit, each refused with what it expects.
_Share = Annotated[float, _measured("a share of the population above 0 and at most 1, e.g. 0.5")]
_Responders = Annotated[
    int, _measured("a whole number of responding patients, e.g. 12", whole=True)
]
_ObservedPatients = Annotated[int, _measured("a whole number of patients, e.g. 20", whole=True)]
_PatientsPerArm = Annotated[
    int, _measured("a whole number of patients per arm, e.g. 200", whole=True)
]
_FollowUpDays = Annotated[float, _measured("a number of days, e.g. 84")]
_IntervalDays = Annotated[float, _measured("a number of days between assessments, e.g. 56")]
_Seed = Annotated[int, BeforeValidator(_a_seed), _measured(f"{SEED_RANGE}, e.g. 7", whole=True)]
"""A trial's seed: a whole number from 0 to :data:`MAX_SEED`, refused at any size above it with
the range (pydantic would say of ``1e30`` only that it cannot read it)."""
_ChunkPatients = Annotated[
    int, _measured("a whole number of patients per chunk, e.g. 10000", whole=True)
]
_KeptPatients = Annotated[int, _measured("a whole number of patients, e.g. 100", whole=True)]
_Cells = Annotated[float, _measured("a number of tumor cells, e.g. 1e12")]
_BodyWeightKg = Annotated[float, _measured("a body weight in kg, e.g. 70")]
_BodySurfaceM2 = Annotated[float, _measured("a body surface area in m², e.g. 1.8")]
_Sigma = Annotated[float, _measured("a lognormal σ from 0 to 3, e.g. 0.3")]


def arm_count_refusal(n: int) -> str | None:
    """Why ``n`` arms (or regimens) cannot be compared in one trial; ``None`` when they can.

    The one wording of the limit (1 to :data:`MAX_ARMS`), said alike by a trial design, the
    CLI and the REST service.

    Examples
    --------
    >>> arm_count_refusal(11)
    'give 1 to 10 arms, not 11'
    >>> arm_count_refusal(2) is None
    True
    """
    if 1 <= n <= MAX_ARMS:
        return None
    return f"give 1 to {MAX_ARMS} arms, not {n}"


class _DesignFieldError(ValueError):
    """Design fields that do not fit the rest of the design, each named with its path."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class TrialArm(_Frozen):
    """One arm: an id, a label for tables and plots, and the regimen in the text grammar."""

    id: Slug = Field(description="Short id: letters, digits, '_ . + -' (e.g. 'R', 'R+gd').")
    label: str | None = Field(default=None, max_length=120, description="Name shown in reports.")
    regimen: str = Field(
        description="Regimen text, e.g. 'chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12'; '' = none."
    )

    @field_validator("regimen", mode="before")
    @classmethod
    def _given(cls, value: Any) -> Any:
        if value is None:  # YAML "regimen:" with nothing after it
            raise ValueError(
                "the regimen is missing (an empty 'regimen:' reads as null); write the regimen "
                "text, or regimen: '' for an untreated control arm"
            )
        return value

    @field_validator("regimen")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            Regimen.parse(value)
        except RegimenSyntaxError as exc:  # the design's message shows the text already
            token = value[exc.position :].split(maxsplit=1)[:1]
            at = f" (at {token[0]!r})" if token else ""
            line = f", line {exc.line}" if "\n" in value else ""
            where = f"item {exc.item}{line}, column {exc.column}{at}"
            raise ValueError(f"{where}: {exc.reason}") from None
        except ImmunopreciseError as exc:
            raise ValueError(str(exc).replace("\n", " ")) from None
        return value

    @property
    def name(self) -> str:
        """The label, or the id when no label is given."""
        return self.label or self.id


class TrialStratum(_Frozen):
    """A subgroup of the virtual population, e.g. a FLIPI risk group.

    A share ``proportion`` of the patients is assigned to the stratum (at random, seeded); its
    patients' sampled parameters and initial states are multiplied by ``scale`` (e.g. a larger
    tumor burden ``T: 3`` for a poor-risk group), which must cite its ``source``.
    """

    name: str = Field(min_length=1, max_length=64, description="Name, e.g. 'low FLIPI'.")
    proportion: _Share = Field(gt=0, le=1, description="Share of the population (0–1].")
    scale: dict[str, Amount] = Field(
        default_factory=dict,
        description="Parameter or initial state → multiplier (> 0) within the stratum.",
    )
    source: str | None = Field(
        default=None, min_length=3, description="Citation or reason for the multipliers."
    )

    @model_validator(mode="after")
    def _scaled(self) -> TrialStratum:
        bad = {k: v for k, v in self.scale.items() if not (v > 0 and v < float("inf"))}
        if bad:
            raise ValueError(f"scale multipliers must be finite numbers > 0; got {bad}")
        if self.scale and not self.source:
            raise ValueError("a stratum that scales parameters needs a source")
        return self


class TrialPopulation(_Frozen):
    """Who is simulated: a spread around a model's published parameters, or sampled distributions.

    Parameters named in ``vary`` (default: every non-zero parameter when no ``spec`` is given,
    none when it is) are lognormal around their published value with log-scale SD ``cv``
    (``dynamics.schedule.PARAMETER_SPREAD_CV`` by default) and clipped to the parameter's
    bounds. A ``spec`` (:class:`~immunoprecise.dynamics.trials.PopulationSpec`) samples its
    parameters — or initial states, by state name — by Latin hypercube with its copula and keeps
    the patients meeting its constraints (rejections are counted). ``initial`` fixes initial
    states shared by everybody; ``strata`` split the population into subgroups.
    ``body_weight_kg`` and ``body_surface_m2`` are the body size every patient's per-kg and
    per-m² doses are given for (as ``simulate``'s: a body weight from 0.2 to 650 kg and a body
    surface area from 0.03 to 6 m², so that grams typed as kg and cm² typed as m² are refused);
    left out, the ICRP
    reference adult's (70 kg, 1.8 m²), which the result's notes then state.
    """

    parameter_set: str | None = Field(default=None, description="Published parameter set.")
    cv: _Sigma = Field(
        default=PARAMETER_SPREAD_CV, ge=0, le=3, description="Lognormal σ of each parameter."
    )
    vary: tuple[str, ...] | None = Field(
        default=None, description="Parameters spread lognormally around their published value."
    )
    spec: PopulationSpec | None = Field(
        default=None, description="Sampled distributions, correlation and constraints."
    )
    initial: dict[str, Amount] = Field(
        default_factory=dict, description="Initial states shared by every patient (state units)."
    )
    strata: Annotated[tuple[TrialStratum, ...], _a_list("- {name: low FLIPI, proportion: 0.5}")] = (
        Field(default=(), description="Subgroups and their shares.")
    )
    body_weight_kg: _BodyWeightKg | None = Field(
        default=None,
        gt=0,
        description=(
            "Body weight (kg) every patient's per-kg doses (mg/kg, cells/kg) are given for; "
            f"default: {REFERENCE_BODY_WEIGHT_KG:g} kg, the ICRP reference adult."
        ),
    )
    body_surface_m2: _BodySurfaceM2 | None = Field(
        default=None,
        gt=0,
        description=(
            "Body surface area (m²) every patient's per-m² doses (mg/m2, cells/m2) are given "
            f"for; default: {REFERENCE_BODY_SURFACE_M2:g} m², the ICRP reference adult."
        ),
    )

    @field_validator("body_weight_kg")
    @classmethod
    def _human_body_weight(cls, value: float | None) -> float | None:
        problem = None if value is None else body_weight_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("body_surface_m2")
    @classmethod
    def _human_body_surface(cls, value: float | None) -> float | None:
        problem = None if value is None else body_surface_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("vary", mode="before")
    @classmethod
    def _names_listed(cls, value: Any) -> Any:
        if isinstance(value, str):  # "vary: rho" for "vary: [rho]"
            raise ValueError(
                f"expected a list of parameter or state names, e.g. vary: [{value}], not the "
                f"text {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrialPopulation:
        # each refusal names its field by its path in a trial design (population.…)
        if self.spec is not None:
            problems = self.spec._problems()  # nested dicts are validated without __init__
            if problems:
                raise _DesignFieldError(
                    [
                        FieldProblem(f"population.spec.{p.field}", p.value, p.message)
                        for p in problems
                    ]
                )
            functions = [
                FieldProblem(
                    f"population.spec.constraints[{k}]",
                    None,
                    "constraints of a trial design must be data, not functions",
                )
                for k, c in enumerate(self.spec.constraints)
                if not isinstance(c, BaseModel)
            ]
            if functions:
                raise _DesignFieldError(functions)
        if self.strata:
            names = [s.name for s in self.strata]
            twice = repeated(names)
            if twice:
                raise _DesignFieldError(
                    [
                        FieldProblem(
                            f"population.strata[{k}].name",
                            name,
                            f"stratum names must be unique; got {names}",
                        )
                        for k, name in enumerate(names)
                        if name in twice and names.index(name) < k
                    ]
                )
            total = sum(s.proportion for s in self.strata)
            if abs(total - 1.0) > 1e-6:
                shares = ", ".join(f"{s.proportion:g}" for s in self.strata)
                raise _DesignFieldError(
                    [
                        FieldProblem(
                            "population.strata",
                            None,
                            f"stratum proportions must add up to 1; they add up to {total:g} "
                            f"({shares})",
                        )
                    ]
                )
        bad = [
            FieldProblem(
                f"population.initial.{k}", v, "initial states must be finite and ≥ 0 (state units)"
            )
            for k, v in self.initial.items()
            if not (0 <= v < float("inf"))
        ]
        if bad:
            raise _DesignFieldError(bad)
        return self

    @property
    def varied(self) -> tuple[str, ...] | None:
        """Parameters spread lognormally (``None``: the model's non-zero parameters)."""
        if self.vary is not None:
            return self.vary
        return () if self.spec is not None else None

    @property
    def body_size(self) -> dict[str, float]:
        """Body weight (kg) and surface (m²) the doses are given for: the stated values, else
        the ICRP reference adult's (:data:`~immunoprecise.dynamics.dosing.REFERENCE_BODY_WEIGHT_KG`,
        :data:`~immunoprecise.dynamics.dosing.REFERENCE_BODY_SURFACE_M2`).

        Examples
        --------
        >>> TrialPopulation(body_weight_kg=20).body_size
        {'body_weight_kg': 20.0, 'body_surface_m2': 1.8}
        """
        return {
            "body_weight_kg": float(
                REFERENCE_BODY_WEIGHT_KG if self.body_weight_kg is None else self.body_weight_kg
            ),
            "body_surface_m2": float(
                REFERENCE_BODY_SURFACE_M2 if self.body_surface_m2 is None else self.body_surface_m2
            ),
        }

    def names(self) -> set[str]:
        """Every parameter or state name the population refers to."""
        named = set(self.vary or ()) | set(self.initial)
        named |= set(self.spec.names if self.spec is not None else ())
        for s in self.strata:
            named |= set(s.scale)
        return named


class ObservedResult(_Frozen):
    """A published result the simulation is compared with (reported beside it, never fitted
    silently)."""

    arm: str = Field(description="Arm id it corresponds to.")
    endpoint: Literal["orr", "cr_rate"]
    responders: _Responders = Field(ge=0)
    n: _ObservedPatients = Field(ge=1)
    stratum: str | None = Field(
        default=None, description="Population stratum it corresponds to, e.g. 'low FLIPI'."
    )
    source: str = Field(min_length=3, description="Citation (authors, year, journal/DOI).")
    note: str | None = Field(default=None, max_length=500, description="Caveats of the number.")

    @model_validator(mode="after")
    def _count(self) -> ObservedResult:
        if self.responders > self.n:
            raise ValueError(f"responders ({self.responders}) exceed n ({self.n})")
        return self


class TrialDesign(_Frozen):
    """A virtual trial: arms compared on one seeded virtual population.

    Every arm sees the same virtual patients (a within-patient comparison), so differences
    between arms are the regimens', not the sampling's.

    Besides each field's range, a design is refused when its follow-up is shorter than the
    assessment interval (no scan would fall within it); when the initial tumor of the population
    or of a stratum (its median, after the stratum's ``scale``) is already at or above
    ``lethal_burden_cells``; and, with ``response_criteria: lugano``, when that initial tumor is
    not a measurable node (longest diameter > 15 mm as one sphere at 10⁹ cells/cm³, more than
    1.77 × 10⁹ cells; Cheson et al. 2014). Patients whose own sampled baseline is not measurable
    are kept, with best response ``NE``, and counted in the result's notes. A chunk's patients
    (``chunk_size``, or ``n_per_arm`` when smaller) × output times (weekly, and every assessment
    up to the follow-up) may be at most
    :data:`~immunoprecise.dynamics.simulate.MAX_OUTPUT_POINTS` (20 million): a larger chunk is
    refused with the ``chunk_size`` that fits.
    """

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    model: str = Field(min_length=1, max_length=64, description="Dynamics model id.")
    arms: Annotated[
        tuple[TrialArm, ...], _a_list("- {id: R, regimen: 'rituximab 375 mg/m2 d0'}")
    ] = Field(description=f"1 to {MAX_ARMS} arms.")
    population: TrialPopulation = Field(default_factory=TrialPopulation)
    n_per_arm: _PatientsPerArm = Field(
        ge=1, le=MAX_PATIENTS_PER_ARM, description="Virtual patients per arm."
    )
    follow_up_days: _FollowUpDays = Field(
        gt=0, le=MAX_FOLLOW_UP_DAYS, description="Days simulated."
    )
    assessment_interval_days: _IntervalDays = Field(
        default=56,
        gt=0,
        le=365,
        validate_default=True,  # the default interval must fit in the follow-up too
        description="Days between tumor assessments (RECIST/Lugano), at most follow_up_days.",
    )
    response_criteria: Literal["recist", "lugano"] = "recist"
    endpoints: Annotated[
        tuple[Literal["orr", "cr_rate", "pfs", "os"], ...], _a_list("[orr, cr_rate, pfs]")
    ] = ("orr", "cr_rate", "pfs")
    seed: _Seed = Field(ge=0, le=MAX_SEED, description="Randomization seed (required).")
    chunk_size: _ChunkPatients = Field(
        default=10_000,
        ge=CHUNK_SIZE_MIN,
        le=1_000_000,
        description="Patients per chunk of work (memory, resuming); numbers do not depend on it.",
    )
    observed: Annotated[
        tuple[ObservedResult, ...],
        _a_list("- {arm: R, endpoint: orr, responders: 12, n: 20, source: ...}"),
    ] = ()
    keep_trajectories: _KeptPatients = Field(
        default=100, ge=0, le=10_000, description="Patients whose trajectories are kept for plots."
    )
    lethal_burden_cells: _Cells = Field(
        default=LETHAL_BURDEN_CELLS,
        gt=0,
        description=(
            "Tumor cells taken as death for overall survival (default 1e12): a patient dies "
            "when the tumor rises to it."
        ),
    )

    @field_validator("assessment_interval_days")
    @classmethod
    def _scan_within_follow_up(cls, value: float, info: ValidationInfo) -> float:
        follow_up = info.data.get("follow_up_days")  # absent when itself invalid
        if follow_up is not None and follow_up < value:
            raise ValueError(
                f"the first tumor assessment, at day {value:g}, falls after the end of follow-up "
                f"(follow_up_days = {follow_up:g}): every patient's response would be not "
                "evaluable; make assessment_interval_days at most follow_up_days"
            )
        return value

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        try:
            resolve_model(value)
        except ImmunopreciseError as exc:
            raise ValueError(str(exc).split("\n")[0]) from None
        return value

    @model_validator(mode="after")
    def _arms(self) -> TrialDesign:
        # Each refusal names the field the user must change (its path in the design), as the
        # field validators' do; a plain ValueError here would be shown at the design's top level.
        refusal = arm_count_refusal(len(self.arms))
        if refusal:
            raise _DesignFieldError([FieldProblem("arms", None, refusal)])
        ids = [a.id for a in self.arms]
        twice = repeated(ids)
        if twice:
            raise _DesignFieldError(
                [
                    FieldProblem(
                        f"arms[{k}].id", a.id, f"arm ids must be unique; repeated: {twice}"
                    )
                    for k, a in enumerate(self.arms)
                    if a.id in twice and ids.index(a.id) < k
                ]
            )
        no_arm = [
            FieldProblem(
                f"observed[{k}].arm",
                o.arm,
                f"observed results name arms that do not exist: [{o.arm!r}]; "
                f"the arms are {', '.join(ids)}",
            )
            for k, o in enumerate(self.observed)
            if o.arm not in ids
        ]
        if no_arm:
            raise _DesignFieldError(no_arm)
        twice_listed = [
            FieldProblem(f"endpoints[{k}]", e, "each endpoint may be listed once")
            for k, e in enumerate(self.endpoints)
            if self.endpoints.index(e) < k
        ]
        if twice_listed:
            raise _DesignFieldError(twice_listed)
        late = [
            FieldProblem(
                f"arms[{k}].regimen",
                a.regimen,
                f"no dose within follow_up_days = {self.follow_up_days:g}: arm {a.id!r} (first "
                f"dose on day {first:g}); lengthen the follow-up or start the regimen earlier",
            )
            for k, a in enumerate(self.arms)
            if (first := Regimen.parse(a.regimen).first_day) is not None
            and first > self.follow_up_days
        ]
        if late:
            raise _DesignFieldError(late)
        model = resolve_model(self.model)
        if model.tumor_state is None:
            raise _DesignFieldError(
                [
                    FieldProblem(
                        "model", self.model, "the model has no tumor state: a trial needs one"
                    )
                ]
            )
        unknown = _names_not_in_model(model, self.population)
        if unknown:
            raise _DesignFieldError(unknown)
        if self.population.parameter_set is not None:  # before the limits, which read it
            try:
                model.parameter_set(self.population.parameter_set)
            except ImmunopreciseError as exc:
                raise _DesignFieldError(
                    [
                        FieldProblem(
                            "population.parameter_set", self.population.parameter_set, str(exc)
                        )
                    ]
                ) from None
        outside = _units_not_the_models(model, self.population) or _draws_outside_limits(
            model, self.population
        )
        if outside:
            raise _DesignFieldError(outside)
        body = self.population.body_size
        untakeable = []
        for k, arm in enumerate(self.arms):  # a dose the model cannot take is refused now
            try:
                dosing_segments(
                    model,
                    Regimen.parse(arm.regimen),
                    float(self.follow_up_days),
                    body_weight_kg=body["body_weight_kg"],
                    body_surface_m2=body["body_surface_m2"],
                )
            except ImmunopreciseError as exc:
                untakeable.append(
                    FieldProblem(f"arms[{k}].regimen", arm.regimen, f"arm {arm.id!r}: {exc}")
                )
        if untakeable:
            raise _DesignFieldError(untakeable)
        strata = [s.name for s in self.population.strata]
        missing = [
            FieldProblem(
                f"observed[{k}].stratum",
                o.stratum,
                f"observed results name strata that the population does not define: "
                f"[{o.stratum!r}]; its strata are {', '.join(map(repr, strata)) or 'none'}",
            )
            for k, o in enumerate(self.observed)
            if o.stratum and o.stratum not in strata
        ]
        if missing:
            raise _DesignFieldError(missing)
        self._check_initial_tumor(model)
        self._check_chunk_output()
        return self

    def _check_chunk_output(self) -> None:
        """Refuse a chunk whose patients × output times exceed ``MAX_OUTPUT_POINTS`` (a chunk
        simulates its patients at once under each arm, on the weekly grid and every assessment),
        or kept trajectories (patients × output times × arms, in the result) beyond it."""
        from immunoprecise.dynamics.trials.outcomes import TRAJECTORY_STEP_DAYS, time_grid

        patients = min(self.chunk_size, self.n_per_arm)
        kept = min(self.keep_trajectories, self.n_per_arm) * len(self.arms)
        scans = int(self.follow_up_days // self.assessment_interval_days + 1e-9) + 1
        weeks = int(self.follow_up_days // TRAJECTORY_STEP_DAYS) + 1
        bound = scans + weeks + 1  # the union of both grids and the end of follow-up
        if max(patients, kept) * bound <= MAX_OUTPUT_POINTS:
            return
        times = time_grid(self).size if scans <= 1_000_000 else bound
        grid = (
            f"{counted(times, 'output time')} (every {TRAJECTORY_STEP_DAYS:g} days and every "
            f"assessment, each {counted(float(self.assessment_interval_days), 'day')}, over "
            f"follow_up_days = {self.follow_up_days:g})"
        )
        which = "chunk_size" if self.chunk_size <= self.n_per_arm else "n_per_arm"
        fit = MAX_OUTPUT_POINTS // times
        advice = (
            f"lower chunk_size to at most {fit:,} (the patients, and so the numbers, do not "
            "depend on it) or lengthen assessment_interval_days"
            if fit >= CHUNK_SIZE_MIN
            else "lengthen assessment_interval_days (fewer scans) or shorten follow_up_days"
        )
        try:  # the check simulate makes, with the trial's factors and advice
            check_output_size(
                patients,
                times,
                what="a chunk of the trial",
                fix=advice,
                patients_text=f"{counted(patients, 'patient')} ({which})",
                times_text=grid,
            )
        except ModelError as exc:
            field = "chunk_size" if fit >= CHUNK_SIZE_MIN else "assessment_interval_days"
            value = getattr(self, field)
            raise _DesignFieldError([FieldProblem(field, value, str(exc))]) from None
        if kept * times > MAX_OUTPUT_POINTS:
            shown = min(self.keep_trajectories, self.n_per_arm)
            fit = MAX_OUTPUT_POINTS // (times * len(self.arms))
            raise _DesignFieldError(
                [
                    FieldProblem(
                        "keep_trajectories",
                        self.keep_trajectories,
                        f"{counted(shown, 'patient')} × "
                        f"{counted(len(self.arms), 'arm')} × {grid} = "
                        f"{kept * times:,} rows of kept trajectories, more than the "
                        f"{MAX_OUTPUT_POINTS:,} a result keeps in memory; lower "
                        f"keep_trajectories to at most {fit:,} or lengthen "
                        "assessment_interval_days",
                    )
                ]
            )

    def initial_tumor(self) -> dict[str, tuple[float, str]]:
        """Median initial tumor (cells) of the population or of each stratum, and how it is made.

        Keys are the stratum names (``""`` for a population without strata); values the median
        initial tumor after the stratum's ``scale`` and a description of where it comes from
        (the model's default, ``population.initial``, a sampled distribution, the multiplier).

        Examples
        --------
        >>> d = TrialDesign(name="t", model="fl_adcc", seed=1, n_per_arm=10,
        ...                 follow_up_days=84, arms=(TrialArm(id="R", regimen=""),))
        >>> d.initial_tumor()
        {'': (100000000000.0, 'the model default')}
        """
        return self._initial_tumor(resolve_model(self.model))

    def _initial_tumor(self, model: Model) -> dict[str, tuple[float, str]]:
        state = model.tumor_state
        if state is None:  # refused in _arms; kept for mypy
            return {}
        pop = self.population
        centre = float(model.initial[state])
        origin = "the model default"
        if state in pop.initial:
            centre, origin = float(pop.initial[state]), f"population.initial.{state}"
        for d in pop.spec.distributions if pop.spec is not None else ():
            if d.name == state:
                centre = float(d.ppf(np.array([0.5]))[0])
                origin = f"the median of population.spec's {state} distribution"
        if not pop.strata:
            return {"": (centre, origin)}
        out = {}
        for s in pop.strata:
            factor = s.scale.get(state, 1.0)
            how = origin if factor == 1.0 else f"{centre:.3g} from {origin} × scale {factor:g}"
            out[s.name] = (centre * factor, how)
        return out

    def _tumor_field(self, state: str, stratum: str) -> tuple[str, object]:
        """Where the design sets the initial tumor of the population or of ``stratum``, and the
        value written there (``None`` for the model's default, which the design does not write)."""
        pop = self.population
        for k, s in enumerate(pop.strata):
            if s.name == stratum and s.scale.get(state, 1.0) != 1.0:
                return f"population.strata[{k}].scale.{state}", s.scale[state]
        for k, d in enumerate(pop.spec.distributions if pop.spec is not None else ()):
            if d.name == state:
                return f"population.spec.distributions[{k}]", None
        return f"population.initial.{state}", pop.initial.get(state)

    def _check_initial_tumor(self, model: Model) -> None:
        """Refuse an initial tumor already at the lethal burden, or not measurable by Lugano,
        naming the field that sets it (or ``lethal_burden_cells``, when the tumor is the model's
        default)."""
        state = model.tumor_state
        if state is None:  # refused in _arms; kept for mypy
            return
        problems: dict[str, FieldProblem] = {}
        for stratum, (cells, how) in self._initial_tumor(model).items():
            where = f"stratum {stratum!r}" if stratum else "the population"
            field, value = self._tumor_field(state, stratum)
            if cells >= self.lethal_burden_cells:
                if how == "the model default":  # the design wrote only the lethal burden
                    field, value = "lethal_burden_cells", self.lethal_burden_cells
                message = (
                    f"{where}: the initial tumor {state} = {cells:.3g} cells ({how}) is at or "
                    f"above lethal_burden_cells = {self.lethal_burden_cells:.3g}: every patient "
                    "would start at the lethal burden, and overall survival could not be "
                    f"read; lower the initial tumor (population.initial.{state} or the "
                    "stratum's scale) or raise lethal_burden_cells"
                )
            elif cells < 1.0:
                message = (
                    f"{where}: the initial tumor {state} = {cells:.3g} cells ({how}) is below one "
                    "cell: there is no tumor to assess, and every patient's response would be "
                    f"not evaluable; give population.initial.{state} (or the stratum's scale) "
                    "of at least one cell"
                )
            elif self.response_criteria == "lugano" and not lugano_measurable(
                (diameter := cells_to_diameter_mm(cells)) ** 2
            ):
                needed = diameter_mm_to_cells(LUGANO_CR_NODE_MM)
                message = (
                    f"{where}: response_criteria 'lugano' needs a measurable node at baseline, "
                    f"a longest diameter of more than {LUGANO_CR_NODE_MM:g} mm (Cheson et al. "
                    f"2014, J Clin Oncol 32:3059), i.e. more than {needed:.3g} tumor cells as "
                    f"one sphere at {CELLS_PER_CM3:g} cells/cm³; the initial tumor {state} = "
                    f"{cells:.3g} cells ({how}) is a node of {diameter:.3g} mm, which Lugano "
                    "would read as a complete response however it grows; raise "
                    f"population.initial.{state} (or the stratum's scale) or use "
                    "response_criteria: recist"
                )
            else:
                continue
            problems.setdefault(field, FieldProblem(field, value, message))  # once per field
        if problems:
            raise _DesignFieldError(list(problems.values()))

    def body_size_notes(self) -> list[str]:
        """What body size the arms' per-kg and per-m² doses were given for, one note per size
        that a dose depends on (none for flat doses only).

        A size the design does not state is the ICRP reference adult's, and the note says so;
        a size stated but used by no dose is named as unused.

        Examples
        --------
        >>> d = TrialDesign(name="t", model="depillis2006", seed=1, n_per_arm=10,
        ...                 follow_up_days=60, arms=(TrialArm(id="c", regimen="chemo 1 mg/kg d0"),))
        >>> d.body_size_notes()  # doctest: +NORMALIZE_WHITESPACE
        ['Per-kg doses (arm c) were given for a body weight of 70 kg, the ICRP reference adult
          (ICRP Publication 23, 1975): the design states no population.body_weight_kg.']
        """
        model = resolve_model(self.model)
        users: dict[str, list[str]] = {"body_weight_kg": [], "body_surface_m2": []}
        for arm in self.arms:
            regimen = Regimen.parse(arm.regimen)
            used: set[str] = set()
            for dose in regimen.doses():
                if dose.start > self.follow_up_days:
                    continue
                inp = model.inputs[model.input_index(dose.agent)]
                used |= body_size_used(
                    dose.unit, inp.unit, infusion=dose.is_infusion, volume_liters=inp.volume_L
                )
            for key in used:
                users[key].append(arm.id)
        size = self.population.body_size
        notes = []
        for key, unit, what in (
            ("body_weight_kg", "kg", "body weight"),
            ("body_surface_m2", "m²", "body surface area"),
        ):
            stated = getattr(self.population, key) is not None
            arms = users[key]
            if arms:
                which = f"arm{'s' if len(arms) > 1 else ''} {', '.join(arms)}"
                source = (
                    f"population.{key}"
                    if stated
                    else "the ICRP reference adult (ICRP Publication 23, 1975): the design "
                    f"states no population.{key}"
                )
                notes.append(
                    f"Per-{unit} doses ({which}) were given for a {what} of {size[key]:g} {unit}, "
                    f"{source}."
                )
            elif stated:
                notes.append(
                    f"population.{key} = {size[key]:g} {unit} is not used: no arm has a "
                    f"per-{unit} dose."
                )
        return notes

    @property
    def n_chunks(self) -> int:
        """Chunks of ``chunk_size`` patients the trial is run in."""
        return -(-self.n_per_arm // self.chunk_size)

    def chunk_bounds(self, index: int) -> tuple[int, int]:
        """First and one-past-last patient index of chunk ``index``."""
        if not 0 <= index < self.n_chunks:
            raise ValidationError(
                [FieldProblem("chunk", index, f"must be in 0…{self.n_chunks - 1}")]
            )
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.n_per_arm)

    def assessment_days(self) -> tuple[float, ...]:
        """Scheduled tumor assessments: day 0 and every interval up to the follow-up."""
        step = self.assessment_interval_days
        count = int(self.follow_up_days // step + 1e-9)
        return tuple(float(k * step) for k in range(count + 1))


_BODY_SIZE = ("body_weight_kg", "body_surface_m2")


def _names_not_in_model(model: Model, population: TrialPopulation) -> list[FieldProblem]:
    """Population names that are neither parameters nor states of the model, each named where
    the design writes it (``population.vary[0]``, ``population.initial.X``,
    ``population.spec.distributions[1].name``, ``population.strata[0].scale.X``)."""
    known = [*model.parameter_names, *model.state_names]
    listing = (
        f"(parameters: {', '.join(model.parameter_names)}; states: {', '.join(model.state_names)})"
    )
    # (path, name, value shown): a name written as a key is named by the path alone
    written: list[tuple[str, str, str | None]] = [
        (f"population.vary[{k}]", name, name) for k, name in enumerate(population.vary or ())
    ]
    written += [(f"population.initial.{name}", name, None) for name in population.initial]
    spec = population.spec
    written += [
        (f"population.spec.distributions[{k}].name", d.name, d.name)
        for k, d in enumerate(spec.distributions if spec is not None else ())
    ]
    for k, stratum in enumerate(population.strata):
        written += [(f"population.strata[{k}].scale.{name}", name, None) for name in stratum.scale]
    problems = []
    for field, name, value in written:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.append(
            FieldProblem(
                field,
                value,
                f"{name!r} is neither a parameter nor a state of {model.id}; {hint}{listing}",
            )
        )
    return problems


def _units_not_the_models(model: Model, population: TrialPopulation) -> list[FieldProblem]:
    """Spec distributions written in another unit than the model's (values are not converted).

    ``1/day`` for ``1/d`` is the same unit and is taken; ``1/h`` for ``1/d`` or ``percent`` for
    a fraction would be read as the model's unit, 24 or 100 times off, so they are refused.
    """
    from immunoprecise.records.units import convert

    if population.spec is None:
        return []
    units = {p.name: p.unit for p in model.parameters} | {s.name: s.unit for s in model.states}
    problems = []
    for k, dist in enumerate(population.spec.distributions):
        unit = units.get(dist.name)
        if unit is None:
            continue
        try:
            factor = convert(1.0, dist.unit, unit)
        except ImmunopreciseError:
            factor = math.nan
        if factor == 1.0:
            continue
        known = "" if math.isnan(factor) else f" (1 {dist.unit} = {factor:g} {unit})"
        named = "unit 1 (a plain number)" if unit == "1" else unit
        problems.append(
            FieldProblem(
                f"population.spec.distributions[{k}].unit",
                dist.unit,
                f"{dist.name} is in {named} in model {model.id}{known}, and a distribution's "
                f"values are not converted: write them in {unit} and set unit: {unit!r}",
            )
        )
    return problems


def _scaled_outside_limits(model: Model, population: TrialPopulation) -> list[FieldProblem]:
    """Strata whose ``scale`` takes a parameter outside its limits (a fraction above 1).

    A parameter's range before the scale: its spec distribution's support, its calibration
    bounds when varied (the spread is clipped to them), else its published value.
    """
    defaults = model.defaults(population.parameter_set)
    varied = population.varied
    spread = {k for k, v in defaults.items() if v != 0} if varied is None else set(varied)
    dists = {d.name: d for d in population.spec.distributions} if population.spec else {}
    problems = []
    for par in model.parameters:
        if par.name in dists:
            lo, hi = dists[par.name].support()
        elif par.name in spread:
            lo, hi = par.bounds if par.bounds is not None else (0.0, math.inf)
        else:
            lo = hi = defaults[par.name]
        for k, stratum in enumerate(population.strata):
            factor = stratum.scale.get(par.name)
            if factor is None:
                continue
            low, high = lo * factor, hi * factor
            if par.limits.allows(low) and par.limits.allows(high):
                continue
            unit = "" if par.unit == "1" else f" {par.unit}"
            shown = f"{low:g}{unit}" if low == high else f"{low:g} to {high:g}{unit}"
            problems.append(
                FieldProblem(
                    f"population.strata[{k}].scale.{par.name}",
                    factor,
                    f"stratum {stratum.name!r}: scale {par.name}: {factor:g} makes "
                    f"{par.name} {shown}, outside its allowed range {par.limits.text(par.unit)} "
                    f"({par.limits.why})",
                )
            )
    return problems


def _draws_outside_limits(model: Model, population: TrialPopulation) -> list[FieldProblem]:
    """Spec distributions that can draw a parameter value outside the parameter's limits.

    The spec's constraints on the parameter alone (``min``/``max``, no ``ratio_to``) narrow what
    is kept; a continuous distribution never draws its lower end exactly, so ``lower: 0`` (or
    ``min: 0``) suffices for a parameter that must be > 0.
    """
    spec = population.spec
    declared = {p.name: p for p in model.parameters}
    problems = _scaled_outside_limits(model, population)
    if spec is None:
        return problems
    for k, dist in enumerate(spec.distributions):
        par = declared.get(dist.name)
        if par is None:
            continue  # an initial state
        lo, hi = dist.support()
        for c in spec.constraints:
            if isinstance(c, Constraint) and c.parameter == dist.name and c.ratio_to is None:
                lo = lo if c.min is None else max(lo, float(c.min))
                hi = hi if c.max is None else min(hi, float(c.max))
        lim = par.limits
        fixed = dist.kind == "fixed"
        if not (bool(lim.allows(lo)) if fixed else lim.low <= lo and hi <= lim.high):
            unit = "" if par.unit == "1" else f" {par.unit}"
            problems.append(
                FieldProblem(
                    f"population.spec.distributions[{k}]",
                    dist.name,
                    f"spec distribution {dist.name!r} ({dist.kind}) can draw {dist.name} from "
                    f"{lo:g} to {hi:g}{unit}, outside its allowed range {lim.text(par.unit)} "
                    f"({lim.why}); truncate it with lower/upper (e.g. lower: {lim.low:g}"
                    f"{'' if math.isinf(lim.high) else f', upper: {lim.high:g}'}) or change it",
                )
            )
    return problems


_SPEC_ITEMS: dict[str, type[ParameterDistribution] | type[Constraint]] = {
    "distributions": ParameterDistribution,
    "constraints": Constraint,
}
"""The lists of a spec whose items are models, by the spec's field name."""


def _spec_problems(
    located: tuple[tuple[tuple[str | int, ...], FieldProblem], ...],
) -> list[FieldProblem]:
    """A refused ``population.spec`` as problems at their paths in the design.

    Each problem of the spec is named from its location in the spec (pydantic's ``loc`` of the
    spec, extended by the location within a distribution or constraint):
    ``population.spec.distributions[1].unit``. A field unknown to a distribution or a constraint
    is named with the fields it allows.
    """
    problems: list[FieldProblem] = []
    for loc, p in located:
        message = p.message
        kind = _SPEC_ITEMS.get(str(loc[0])) if len(loc) > 2 and isinstance(loc[1], int) else None
        if message == "Field required":
            message = "required field is missing"
        elif message == "Extra inputs are not permitted" and kind is not None:
            allowed = list(kind.model_fields)  # the unknown field is the location's last part
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            message = f"unknown field; {hint}allowed here: {', '.join(allowed)}"
        value = None if isinstance(p.value, dict) else p.value
        problems.append(FieldProblem(_named("population.spec", loc), value, message))
    return problems


def design_hash(design: TrialDesign) -> str:
    """SHA-256 of the design's canonical JSON (sorted keys): what every result records.

    Examples
    --------
    >>> d = TrialDesign(name="t", model="kuznetsov1994", seed=1, n_per_arm=10,
    ...                 follow_up_days=60, arms=(TrialArm(id="none", regimen=""),))
    >>> len(design_hash(d)), design_hash(d) == design_hash(d.model_copy())
    (64, True)
    """
    data = design.model_dump(mode="json")
    for key in _BODY_SIZE:  # unstated, they leave the hash of designs written before them as it was
        if data["population"].get(key) is None:
            data["population"].pop(key, None)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_trial_design(source: str | Path | dict[str, Any]) -> TrialDesign:
    """Read and validate a trial design (YAML file or mapping), naming every invalid field.

    Parameters
    ----------
    source
        A YAML file path, or the parsed mapping.

    Returns
    -------
    TrialDesign

    Raises
    ------
    ValidationError
        The file is missing, empty (blanks or comments only) or not YAML, or fields are invalid
        (each is named with the value received and what is expected).

    Examples
    --------
    >>> load_trial_design({"name": "x", "model": "nosuchmodel", "seed": 1, "n_per_arm": 5,
    ...                    "follow_up_days": 60, "arms": [{"id": "a", "regimen": ""}]})
    Traceback (most recent call last):
    ...
    immunoprecise.errors.ValidationError: trial design: 1 invalid field
      - model = 'nosuchmodel': ...
    """
    from immunoprecise.records.validation import field_problems

    name = "trial design"
    if isinstance(source, str | Path):
        path = Path(source)
        name = str(path)
        if not path.is_file():
            problem = "is a folder, not a design file" if path.is_dir() else "no such file"
            raise ValidationError([FieldProblem("file", str(path), problem)], source=name)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            from immunoprecise.records.readers import binary_content

            problem = binary_content(path) or (
                f"is not UTF-8 text (byte {exc.start}); save it as UTF-8 text"
            )
            raise ValidationError([FieldProblem("file", path.name, problem)], source=name) from None
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            raise ValidationError(
                [FieldProblem("file", path.name, f"not valid YAML ({exc})".replace("\n", " "))],
                source=name,
            ) from None
    else:
        data = source
    if data is None and isinstance(source, str | Path):
        raise ValidationError(
            [
                FieldProblem(
                    "file",
                    str(source),
                    "is empty (only blanks or comments): a design is a mapping of fields "
                    "(name, model, arms, n_per_arm, follow_up_days, seed); see the shipped "
                    "example with `immunoprecise trial --example`",
                )
            ],
            source=name,
        )
    if not isinstance(data, dict):
        raise ValidationError(
            [FieldProblem("(design)", type(data).__name__, "expected a mapping of fields")],
            source=name,
        )
    try:
        return TrialDesign.model_validate(data)
    except pydantic.ValidationError as exc:
        problems: list[FieldProblem] = []
        for error, found in zip(
            exc.errors(include_url=False), field_problems(exc, TrialDesign), strict=True
        ):
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, _DesignFieldError):
                problems.extend(cause.problems)
            elif (located := _located_in(cause)) and tuple(error["loc"]) == ("population", "spec"):
                problems.extend(_spec_problems(located))
            else:
                problems.append(found)
        raise ValidationError(problems, source=name) from None
