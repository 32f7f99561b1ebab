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

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.schedule import PARAMETER_SPREAD_CV
from immunoprecise.dynamics.simulate import resolve_model
from immunoprecise.errors import FieldProblem, ImmunopreciseError, ValidationError

__all__ = [
    "MAX_ARMS",
    "MAX_FOLLOW_UP_DAYS",
    "MAX_PATIENTS_PER_ARM",
    "ObservedResult",
    "TrialArm",
    "TrialDesign",
    "TrialPopulation",
    "design_hash",
    "load_trial_design",
]

MAX_ARMS = 10
"""Most arms one design may compare."""
MAX_PATIENTS_PER_ARM = 10_000_000
"""Most virtual patients per arm (the trial runs in chunks; memory does not grow with it)."""
MAX_FOLLOW_UP_DAYS = 3650
"""Longest follow-up simulated (10 years)."""

Slug = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class TrialArm(_Frozen):
    """One arm: an id, a label for tables and plots, and the regimen in the text grammar."""

    id: Slug = Field(description="Short id: letters, digits, '_ . + -' (e.g. 'R', 'R+gd').")
    label: str | None = Field(default=None, max_length=120, description="Name shown in reports.")
    regimen: str = Field(
        description="Regimen text, e.g. 'chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12'; '' = none."
    )

    @field_validator("regimen")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            Regimen.parse(value)
        except ImmunopreciseError as exc:
            raise ValueError(str(exc).replace("\n", " ")) from None
        return value

    @property
    def name(self) -> str:
        """The label, or the id when no label is given."""
        return self.label or self.id


class TrialPopulation(_Frozen):
    """Who is simulated: spread around a model's published parameters.

    Each varied parameter is lognormal around its published value with log-scale SD ``cv``
    (``dynamics.schedule.PARAMETER_SPREAD_CV`` by default).
    """

    parameter_set: str | None = Field(default=None, description="Published parameter set.")
    cv: float = Field(
        default=PARAMETER_SPREAD_CV, ge=0, le=3, description="Lognormal σ of each parameter."
    )
    vary: tuple[str, ...] | None = Field(
        default=None, description="Parameters to vary (default: the model's usual set)."
    )


class ObservedResult(_Frozen):
    """A published result the simulation is compared with (reported beside it, never fitted
    silently)."""

    arm: str = Field(description="Arm id it corresponds to.")
    endpoint: Literal["orr", "cr_rate"]
    responders: int = Field(ge=0)
    n: int = Field(ge=1)
    stratum: str | None = Field(default=None, description="Subgroup, e.g. 'low FLIPI'.")
    source: str = Field(min_length=3, description="Citation (authors, year, journal/DOI).")

    @model_validator(mode="after")
    def _count(self) -> ObservedResult:
        if self.responders > self.n:
            raise ValueError(f"responders ({self.responders}) exceed n ({self.n})")
        return self


class TrialDesign(_Frozen):
    """A virtual trial: arms compared on one seeded virtual population.

    Every arm sees the same virtual patients (a within-patient comparison), so differences
    between arms are the regimens', not the sampling's.
    """

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    model: str = Field(min_length=1, max_length=64, description="Dynamics model id.")
    arms: tuple[TrialArm, ...] = Field(description=f"1 to {MAX_ARMS} arms.")
    population: TrialPopulation = Field(default_factory=TrialPopulation)
    n_per_arm: int = Field(ge=1, le=MAX_PATIENTS_PER_ARM, description="Virtual patients per arm.")
    follow_up_days: float = Field(gt=0, le=MAX_FOLLOW_UP_DAYS, description="Days simulated.")
    assessment_interval_days: float = Field(
        default=56, gt=0, le=365, description="Days between tumor assessments (RECIST/Lugano)."
    )
    response_criteria: Literal["recist", "lugano"] = "recist"
    endpoints: tuple[Literal["orr", "cr_rate", "pfs", "os"], ...] = ("orr", "cr_rate", "pfs")
    seed: int = Field(ge=0, le=2**32 - 1, description="Randomization seed (required).")
    chunk_size: int = Field(
        default=10_000, ge=100, le=1_000_000, description="Patients per chunk of work."
    )
    observed: tuple[ObservedResult, ...] = ()

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
        if not 1 <= len(self.arms) <= MAX_ARMS:
            raise ValueError(f"give 1 to {MAX_ARMS} arms, not {len(self.arms)}")
        ids = [a.id for a in self.arms]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"arm ids must be unique; repeated: {twice}")
        unknown = sorted({o.arm for o in self.observed} - set(ids))
        if unknown:
            raise ValueError(f"observed results name arms that do not exist: {unknown}")
        if len(set(self.endpoints)) != len(self.endpoints):
            raise ValueError("each endpoint may be listed once")
        return self


def design_hash(design: TrialDesign) -> str:
    """SHA-256 of the design's canonical JSON (sorted keys): what every result records.

    Examples
    --------
    >>> d = TrialDesign(name="t", model="kuznetsov1994", seed=1, n_per_arm=10,
    ...                 follow_up_days=30, arms=(TrialArm(id="none", regimen=""),))
    >>> len(design_hash(d)), design_hash(d) == design_hash(d.model_copy())
    (64, True)
    """
    canonical = json.dumps(design.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
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
        The file is missing or not YAML, or fields are invalid (each is named with the value
        received and what is expected).

    Examples
    --------
    >>> load_trial_design({"name": "x", "model": "nosuchmodel", "seed": 1, "n_per_arm": 5,
    ...                    "follow_up_days": 30, "arms": [{"id": "a", "regimen": ""}]})
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
            raise ValidationError([FieldProblem("file", str(path), "no such file")], source=name)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ValidationError(
                [FieldProblem("file", path.name, f"not valid YAML ({exc})".replace("\n", " "))],
                source=name,
            ) from None
    else:
        data = source
    if not isinstance(data, dict):
        raise ValidationError(
            [FieldProblem("(design)", type(data).__name__, "expected a mapping of fields")],
            source=name,
        )
    try:
        return TrialDesign.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(field_problems(exc, TrialDesign), source=name) from None
