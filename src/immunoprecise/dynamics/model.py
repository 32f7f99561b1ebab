"""How a tumor–immune model is declared: states, parameters, dosing inputs, batched dynamics.

A :class:`Model` is data plus one function. The right-hand side takes the state of a whole batch of
virtual patients at once — an array of shape ``[n_patients, n_states]`` — with their parameters as
one array per parameter (shape ``[n_patients]``) and the current infusion rates, and returns the
time derivatives in the same shape. One integrator (:mod:`immunoprecise.dynamics.integrator`) runs
every model; adding a model is adding one file to :mod:`immunoprecise.dynamics.models`.

Examples
--------
>>> import numpy as np
>>> from immunoprecise.dynamics.models import get_model
>>> model = get_model("kuznetsov1994")
>>> model.state_names
('E', 'T')
>>> p = model.parameter_arrays(1)
>>> dy = model.rhs(np.zeros(1), np.array([[3.2e5, 1e7]]), p, np.zeros((1, 0)))
>>> dy.shape
(1, 2)
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from immunoprecise.errors import ModelError

__all__ = [
    "FRACTION",
    "HALF_SATURATION",
    "NONNEGATIVE",
    "Array",
    "Clock",
    "DosingInput",
    "Jacobian",
    "Limits",
    "Model",
    "Parameter",
    "ParameterSet",
    "Params",
    "RightHandSide",
    "State",
]

Array = npt.NDArray[np.float64]
Params = Mapping[str, Array]
"""Parameters of a batch: one array of shape ``[n_patients]`` per parameter name."""


class RightHandSide(Protocol):
    """``rhs(t, y, p, u) -> dy/dt`` over a batch of patients.

    ``t``: times, shape ``[n]`` (days); ``y``: states, ``[n, n_states]``; ``p``: parameters, one
    ``[n]`` array per name; ``u``: infusion rates of the dosing inputs, ``[n, n_inputs]`` (input
    unit per day). Returns ``[n, n_states]`` in state units per day.
    """

    def __call__(self, t: Array, y: Array, p: Params, u: Array, /) -> Array: ...


class Jacobian(Protocol):
    """``jacobian(t, y, p, u) -> ∂(dy/dt)/∂y`` over a batch of patients.

    Same arguments as :class:`RightHandSide`; returns ``[n, n_states, n_states]`` with
    ``[:, i, j] = ∂f_i/∂y_j`` (per day).
    """

    def __call__(self, t: Array, y: Array, p: Params, u: Array, /) -> Array: ...


@dataclass(frozen=True)
class State:
    """One state variable: its name as in the paper, unit and meaning.

    ``nonnegative`` (default): a population or concentration, which cannot fall below zero; a
    simulation in which it does stops with a diagnosis (:func:`~immunoprecise.simulate`).
    """

    name: str
    unit: str
    description: str
    nonnegative: bool = True


@dataclass(frozen=True)
class Limits:
    """The values a parameter can take at all, and why: its domain, wider than ``bounds``.

    A value outside is not a patient the model can describe (a negative rate reverses the process
    it stands for; a zero divisor divides by zero) and is refused wherever parameters come in.

    Parameters
    ----------
    low, high
        The allowed range (the parameter's unit); ``high`` may be infinite.
    low_open
        ``True``: ``low`` itself is not allowed (the value must be > ``low``).
    why
        The reason, for the error message.

    Examples
    --------
    >>> NONNEGATIVE.text("1/d")
    '≥ 0 1/d'
    >>> FRACTION.text("1")
    '0 to 1'
    """

    low: float = 0.0
    high: float = math.inf
    low_open: bool = False
    why: str = ""

    def allows(self, values: Array | float) -> npt.NDArray[np.bool_]:
        """Which values lie within the limits (elementwise)."""
        v = np.asarray(values, dtype=np.float64)
        above = v > self.low if self.low_open else v >= self.low
        return np.asarray(above & (v <= self.high))

    def text(self, unit: str) -> str:
        """The range in words, e.g. ``≥ 0 1/d``, ``> 0 cells``, ``0 to 1``."""
        shown = "" if unit == "1" else f" {unit}"
        if math.isinf(self.high):
            return f"{'>' if self.low_open else '≥'} {self.low:g}{shown}"
        low = f"above {self.low:g}" if self.low_open else f"{self.low:g}"
        return f"{low} to {self.high:g}{shown}"


NONNEGATIVE = Limits(
    why="a rate, source or size: 0 switches its term off, below 0 it would reverse the process"
)
"""The limits of most parameters (rates, sources, kill and death rates, inverse capacities)."""

HALF_SATURATION = Limits(
    low_open=True,
    why="a half-saturation constant divides (x/(K + x)): at 0 it divides by zero when x is 0, "
    "below 0 the term changes sign",
)
"""The limits of a half-saturation (or steepness) constant: > 0."""

FRACTION = Limits(0.0, 1.0, why="a fraction of a population or of an effect")
"""The limits of a fraction: 0 to 1."""


@dataclass(frozen=True)
class Parameter:
    """One parameter: name as in the paper, default value, unit, meaning and source.

    ``bounds`` are the physiologically plausible range used by calibration (same unit);
    ``limits`` are the values the model can take at all (:class:`Limits`; default
    :data:`NONNEGATIVE`), checked wherever parameters come in.
    """

    name: str
    value: float
    unit: str
    description: str
    source: str
    bounds: tuple[float, float] | None = None
    limits: Limits = NONNEGATIVE

    def problem(self, value: float) -> str | None:
        """What is wrong with a value of this parameter (``None``: within its limits).

        Examples
        --------
        >>> Parameter("s", 1.3e4, "cells/d", "influx", "x").problem(-1)
        'parameter s = -1 cells/d is outside its allowed range ≥ 0 cells/d (a rate, source or size: 0 switches its term off, below 0 it would reverse the process)'
        """  # noqa: E501
        if bool(self.limits.allows(value)):
            return None
        unit = "" if self.unit == "1" else f" {self.unit}"
        return (
            f"parameter {self.name} = {value:g}{unit} is outside its allowed range "
            f"{self.limits.text(self.unit)} ({self.limits.why})"
        )


@dataclass(frozen=True)
class ParameterSet:
    """A named set of published parameter values that differ from the defaults (e.g. a patient)."""

    name: str
    values: Mapping[str, float]
    source: str
    description: str = ""


@dataclass(frozen=True)
class DosingInput:
    """A way a drug or cell product enters the model.

    A bolus of ``amount`` (in ``unit``) adds ``amount * scale`` to ``state``; an infusion at a rate
    (``unit`` per day) adds ``rate * scale`` to that state's derivative (the right-hand side reads
    the rate from ``u[:, k]`` for input ``k``).

    ``aliases`` are the agent names a regimen may use for this input (case-insensitive).
    ``resets`` names a state set to 0 at each bolus (a clock such as days since infusion).
    ``volume_L`` turns an amount (mg, IU) into a concentration state (mg/L, IU/L): the volume
    the dose is distributed in.
    """

    name: str
    state: str
    unit: str
    description: str
    aliases: tuple[str, ...] = ()
    scale: float = 1.0
    resets: str | None = None
    volume_L: float | None = None

    def matches(self, agent: str) -> bool:
        """Whether a regimen's agent name refers to this input (case- and hyphen-insensitive)."""
        key = _agent_key(agent)
        return key in {_agent_key(a) for a in (self.name, *self.aliases)}


def _agent_key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


@dataclass(frozen=True)
class Clock:
    """A state counting days (``d/dt = 1``) that switches the dynamics when it reaches a parameter.

    The integrator never steps across the switch: it ends a step exactly where ``state`` reaches
    ``parameter``, so a piecewise right-hand side (e.g. expansion until Tmax) is integrated exactly.
    """

    state: str
    parameter: str


@dataclass(frozen=True)
class Model:
    """A tumor–immune model declared once and run by the batched integrator.

    Parameters
    ----------
    id
        Short identifier used by :func:`immunoprecise.simulate` (``kuznetsov1994``).
    title
        Authors, year and the model's subject.
    reference
        Citation with DOI.
    states, parameters, inputs
        Declarations; names are those of the paper.
    rhs
        The batched right-hand side (see :class:`RightHandSide`).
    initial
        Default initial state (state units).
    tumor_state
        Name of the tumor-cell state (``None`` for pure kinetics models); reaching fewer than one
        cell is eradication.
    effector_states
        States counted as killer effectors (for the effector:tumor ratio).
    parameter_sets
        Published alternatives (e.g. patient 9 and 10).
    assumptions
        What the implementation adds or chooses beyond the paper, each with its reason.
    clocks
        Day-counting states that switch the dynamics (see :class:`Clock`).
    inactivation_parameter
        The parameter of effector inactivation by tumor cells, which checkpoint blockade lowers
        (see :mod:`immunoprecise.dynamics.models.modifications`).
    method
        The integration method that suits the model: ``auto`` (explicit ``dopri5``, switching a
        patient to ``rodas4`` when its problem turns stiff) or ``rodas4`` for models that are
        stiff from the start.
    jacobian
        Optional analytic Jacobian of ``rhs`` (see :class:`Jacobian`) for the stiff methods;
        without it they use one batched forward-difference Jacobian per step.
    """

    id: str
    title: str
    reference: str
    states: tuple[State, ...]
    parameters: tuple[Parameter, ...]
    rhs: RightHandSide
    initial: Mapping[str, float]
    inputs: tuple[DosingInput, ...] = ()
    tumor_state: str | None = None
    effector_states: tuple[str, ...] = ()
    parameter_sets: tuple[ParameterSet, ...] = ()
    assumptions: tuple[str, ...] = ()
    clocks: tuple[Clock, ...] = ()
    inactivation_parameter: str | None = None
    method: str = "auto"
    jacobian: Jacobian | None = None
    _index: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.states]
        if len(set(names)) != len(names):
            raise ModelError(f"model {self.id}: state names repeat: {names}")
        pnames = [p.name for p in self.parameters]
        if len(set(pnames)) != len(pnames):
            raise ModelError(f"model {self.id}: parameter names repeat: {pnames}")
        missing = set(names) - set(self.initial)
        if missing:
            raise ModelError(f"model {self.id}: no initial value for {sorted(missing)}")
        for inp in self.inputs:
            if inp.state not in names or (inp.resets and inp.resets not in names):
                raise ModelError(f"model {self.id}: input {inp.name} targets an unknown state")
        for ps in self.parameter_sets:
            unknown = set(ps.values) - set(pnames)
            if unknown:
                raise ModelError(f"model {self.id}: set {ps.name} has unknown {sorted(unknown)}")
        of = {p.name: p for p in self.parameters}
        for par in self.parameters:
            lim = par.limits
            if par.bounds is not None and not (
                bool(lim.allows(par.bounds[0])) and par.bounds[0] <= par.bounds[1] <= lim.high
            ):
                raise ModelError(
                    f"model {self.id}: calibration bounds ({par.bounds[0]:g}, {par.bounds[1]:g}) "
                    f"of {par.name} lie outside its allowed range {lim.text(par.unit)}"
                )
        for where, values in (
            ("defaults", {p.name: p.value for p in self.parameters}),
            *((f"set {ps.name}", ps.values) for ps in self.parameter_sets),
        ):
            for name, value in values.items():
                problem = of[name].problem(value)
                if problem:
                    raise ModelError(f"model {self.id}, {where}: {problem}")
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})

    @property
    def state_names(self) -> tuple[str, ...]:
        """The state names, in column order of the state array."""
        return tuple(s.name for s in self.states)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The parameter names, in declaration order."""
        return tuple(p.name for p in self.parameters)

    def state_index(self, name: str) -> int:
        """Column of a state in the state array; :class:`ModelError` naming the known states."""
        try:
            return self._index[name]
        except KeyError:
            known = ", ".join(self.state_names)
            raise ModelError(f"model {self.id} has no state {name!r}; states: {known}") from None

    def defaults(self, parameter_set: str | None = None) -> dict[str, float]:
        """Default parameter values, optionally overlaid with a published parameter set."""
        values = {p.name: p.value for p in self.parameters}
        if parameter_set is not None:
            values.update(self.parameter_set(parameter_set).values)
        return values

    def parameter_set(self, name: str) -> ParameterSet:
        """A published parameter set by name; :class:`ModelError` listing the known ones."""
        for ps in self.parameter_sets:
            if ps.name == name:
                return ps
        known = ", ".join(ps.name for ps in self.parameter_sets) or "none"
        raise ModelError(f"model {self.id} has no parameter set {name!r}; known: {known}")

    def parameter_arrays(
        self,
        n: int,
        values: Mapping[str, float | Sequence[float] | Array] | None = None,
        *,
        parameter_set: str | None = None,
        patients: Sequence[str] | None = None,
    ) -> dict[str, Array]:
        """Parameters of ``n`` patients as one float array of shape ``[n]`` per name.

        Parameters
        ----------
        n
            Number of patients.
        values
            Overrides: a scalar (same for all) or a length-``n`` sequence per parameter name.
        parameter_set
            A published parameter set to start from instead of the defaults.
        patients
            Patient ids (``n`` of them), to name a patient whose value is refused.

        Returns
        -------
        dict
            Name → array of shape ``[n]``.

        Raises
        ------
        ModelError
            An unknown parameter, a value of the wrong shape or not finite, or a value outside
            the parameter's :class:`Limits` (see :meth:`check_parameters`).
        """
        base = self.defaults(parameter_set)
        out = {k: np.full(n, v, dtype=np.float64) for k, v in base.items()}
        for key, v in (values or {}).items():
            if key not in out:
                known = ", ".join(self.parameter_names)
                raise ModelError(f"model {self.id} has no parameter {key!r}; parameters: {known}")
            arr = np.asarray(v, dtype=np.float64)
            if arr.ndim == 0:
                out[key] = np.full(n, float(arr))
            elif arr.shape == (n,):
                out[key] = arr.copy()
            else:
                raise ModelError(
                    f"parameter {key}: expected one value or {n} values, got shape {arr.shape}"
                )
            if not np.all(np.isfinite(out[key])):
                raise ModelError(f"parameter {key}: values must be finite numbers")
        self.check_parameters(out, patients=patients)
        return out

    def check_parameters(
        self,
        values: Mapping[str, float | Sequence[float] | Array],
        *,
        patients: Sequence[str] | None = None,
    ) -> None:
        """Refuse parameter values outside their declared :class:`Limits`.

        Parameters
        ----------
        values
            Parameter name → one value or one value per patient (the parameter's unit).
        patients
            Patient ids, to name the patient whose value is refused (else its position).

        Raises
        ------
        ModelError
            For the first parameter with a value outside its limits: names the model, the
            parameter, the value, the unit, the allowed range and why, and the patient.

        Examples
        --------
        >>> from immunoprecise.dynamics.models import get_model
        >>> get_model("kuznetsov1994").check_parameters({"s": -1})
        Traceback (most recent call last):
        ...
        immunoprecise.errors.ModelError: model kuznetsov1994: parameter s = -1 cells/d is outside its allowed range ≥ 0 cells/d (a rate, source or size: 0 switches its term off, below 0 it would reverse the process)
        """  # noqa: E501
        of = {p.name: p for p in self.parameters}
        for name, v in values.items():
            if name not in of:
                continue  # unknown names are refused by the callers, with the known ones
            arr = np.atleast_1d(np.asarray(v, dtype=np.float64))
            bad = np.flatnonzero(~of[name].limits.allows(arr) & ~np.isnan(arr))
            if not bad.size:
                continue
            k = int(bad[0])
            who = ""
            if arr.size > 1:
                label = patients[k] if patients is not None and k < len(patients) else None
                who = f" (patient {label})" if label is not None else f" (patient {k + 1})"
                if bad.size > 1:
                    who = f"{who[:-1]} and {bad.size - 1} more)"
            raise ModelError(f"model {self.id}{who}: {of[name].problem(float(arr[k]))}")

    def input_index(self, agent: str) -> int:
        """Position of the dosing input a regimen agent refers to; error lists what is accepted."""
        for k, inp in enumerate(self.inputs):
            if inp.matches(agent):
                return k
        accepted = "; ".join(f"{i.name} ({', '.join(i.aliases)})" for i in self.inputs) or "none"
        names = {_agent_key(a): a for i in self.inputs for a in (i.name, *i.aliases)}
        key = _agent_key(agent)  # a misspelling (pembrolizumb) or a short form (pembro)
        started = [n for n in names if len(key) >= 3 and n.startswith(key)]
        close = started[:1] if len(started) == 1 else []
        close = close or difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
        hint = f"; did you mean {names[close[0]]!r}?" if close else ""
        raise ModelError(
            f"model {self.id} cannot take agent {agent!r}: its dosing inputs are {accepted}{hint}"
        )

    def derivative(self, y: Array, p: Params, u: Array | None = None, t: float = 0.0) -> Array:
        """The right-hand side at one or many states (convenience for analysis and tests).

        Parameters
        ----------
        y
            States, shape ``[n_states]`` or ``[n, n_states]``.
        p
            Parameters (arrays of shape ``[n]``).
        u
            Infusion rates ``[n, n_inputs]``; zero when omitted.
        t
            Time (days).
        """
        y2 = np.atleast_2d(np.asarray(y, dtype=np.float64))
        n = y2.shape[0]
        rates = np.zeros((n, len(self.inputs))) if u is None else np.atleast_2d(u)
        dy = self.rhs(np.full(n, t), y2, p, rates)
        return dy if np.ndim(y) == 2 else dy[0]
