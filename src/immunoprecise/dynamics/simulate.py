"""``simulate``: run a model for one or many virtual patients under a regimen."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, cast, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.dynamics.dosing import (
    REFERENCE_BODY_SURFACE_M2,
    REFERENCE_BODY_WEIGHT_KG,
    body_surface_problem,
    body_weight_problem,
    to_model_units,
)
from immunoprecise.dynamics.integrator import (
    METHODS,
    Crossing,
    Direction,
    IntegrationResult,
    Method,
    Segment,
    integrate,
)
from immunoprecise.dynamics.model import Array, Model
from immunoprecise.dynamics.models import get_model
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.trajectories import Trajectories
from immunoprecise.errors import ImmunopreciseError, ModelError, UnitError, repeated
from immunoprecise.wording import counted

__all__ = [
    "MAX_OUTPUT_POINTS",
    "MAX_T_END_DAYS",
    "Threshold",
    "check_output_size",
    "dose_overlap_notes",
    "dose_timing_notes",
    "dosing_segments",
    "late_doses_fix",
    "output_times",
    "resolve_model",
    "simulate",
]

PatientValues = Mapping[str, Any] | pd.DataFrame | None
Threshold = tuple[str, float] | tuple[str, float, Direction]
"""A threshold of :func:`simulate`: ``(state, value)`` or ``(state, value, direction)``."""
DIRECTIONS: tuple[str, ...] = get_args(Direction)
MAX_T_END_DAYS = 36_525.0
"""Longest simulated time, 100 years: a lifetime. A longer ``t_end`` (a typo such as 1e12) would
make the daily output grid alone exhaust memory."""
MAX_OUTPUT_POINTS = 20_000_000
"""Most output points — patients × output times — one simulation keeps in memory.

Each point holds one 8-byte number per state (the integrator's output array), and the tumor,
effector and effector:tumor arrays read from it add about three more: 20 million points of a
6-state model (de Pillis 2006, fl_adcc) take about 1 GB (20·10⁶ × 9 × 8 bytes), the memory a
laptop can spare. That is 10,000 patients over 5 years of daily output, or 100,000 patients
over a year of weekly output. A larger run is refused before anything is integrated, naming the
numbers and their product: give fewer output times (``t_eval``, e.g. weekly) or fewer patients,
or run a virtual trial (:func:`~immunoprecise.dynamics.trials.run_trial`), which simulates a
large population in chunks."""


def resolve_model(model: str | Model) -> Model:
    """A model object from an id such as ``depillis2006`` (or the object itself)."""
    return model if isinstance(model, Model) else get_model(model)


def _initial_state_problem(model: Model, y0: Array, ids: Sequence[str]) -> str:
    """The initial states that are not finite or below 0, each named with its value, unit and
    the first patient holding it (of several: how many)."""
    said: list[str] = []
    for j, st in enumerate(model.states):
        rows = np.flatnonzero(~np.isfinite(y0[:, j]) | (y0[:, j] < 0))
        if rows.size == 0:
            continue
        who = f" (patient {ids[rows[0]]}" + (
            f" and {rows.size - 1} more)" if rows.size > 1 else ")"
        )
        said.append(f"{st.name} = {y0[rows[0], j]:g} {st.unit}{who if len(ids) > 1 else ''}")
    return "initial states must be finite and ≥ 0 (cells, concentrations): " + "; ".join(said)


def simulate(
    model: str | Model,
    *,
    t_end: float,
    regimen: Regimen | str | None = None,
    params: PatientValues = None,
    initial: PatientValues = None,
    t_eval: Sequence[float] | Array | None = None,
    parameter_set: str | None = None,
    method: Method | Literal["auto"] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    thresholds: Mapping[str, Threshold] | None = None,
    body_weight_kg: float = REFERENCE_BODY_WEIGHT_KG,
    body_surface_m2: float = REFERENCE_BODY_SURFACE_M2,
    progress: Callable[[float], None] | None = None,
    t_end_name: str = "t_end",
) -> Trajectories:
    """Simulate tumor and effector trajectories of one or many virtual patients.

    Parameters
    ----------
    model
        A model id (``kuznetsov1994``, ``depillis2005``, ``depillis2006``, ``cartmath2021``,
        ``stein2019``, or a modified id such as ``kuznetsov1994+checkpoint``) or a
        :class:`~immunoprecise.dynamics.model.Model`.
    t_end
        Simulated time (days from the start, day 0): a number > 0, at most
        :data:`MAX_T_END_DAYS` (36,525 days, 100 years).
    regimen
        Doses over time: a :class:`~immunoprecise.dynamics.regimen.Regimen` or its text, e.g.
        ``"chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12"``. ``None``: no treatment. Doses after
        ``t_end`` fall outside the simulation and are not given; a regimen whose every dose
        does is refused.
    params
        Parameter values that differ from the model's defaults: a mapping for one patient (or of
        equal-length sequences for several), or a DataFrame with one row per patient (its index,
        or a ``patient`` column, names the patients).
    initial
        Initial states (state units), as ``params``; states not given take the model's defaults.
        When ``params`` and ``initial`` are both DataFrames naming their patients (a
        ``patient`` column or an index of ids), rows are matched by id, whatever their order;
        ids in only one of them, or repeated, are refused.
    t_eval
        Output times (days): a 1-D sequence of finite numbers, strictly increasing, within
        ``[0, t_end]``. Default: every day from 0 to ``t_end``. Patients × output times may
        be at most :data:`MAX_OUTPUT_POINTS` (20 million; e.g. 10,000 patients over 5 years of
        daily output): give weekly times for a larger population over years.
    parameter_set
        A published parameter set to start from (e.g. ``patient9`` of ``depillis2006``).
    method
        ``auto`` (``dopri5``, with patients whose problem turns stiff rerun by ``rodas4``),
        ``dopri5`` (explicit), ``rodas4`` (stiff) or ``rosenbrock23`` (stiff, low order);
        default: the model's own choice (``rodas4`` for the de Pillis models, else ``auto``).
    rtol, atol
        Per-patient error tolerances: ``rtol`` relative, a finite number in (0, 1); ``atol``
        absolute in state units, a finite number > 0 (with 0 a state that is 0, such as a drug
        before its first dose, could not be error-controlled).
    thresholds
        Name → ``(state, value)`` or ``(state, value, direction)``: the first day each patient's
        state crosses the value (NaN if it never does). ``direction`` is ``"up"`` (from below to
        at or above), ``"down"`` (from above to at or below) or ``"both"`` (default). A dose that
        makes the state jump across the value counts as a crossing on the day of the dose.
    body_weight_kg
        Body weight for per-kg doses (default: the 70 kg ICRP reference adult): a finite
        number from :data:`~immunoprecise.dynamics.dosing.MIN_BODY_WEIGHT_KG` to
        :data:`~immunoprecise.dynamics.dosing.MAX_BODY_WEIGHT_KG` (0.2 to 650 kg; a weight in
        grams, such as 70000, is refused).
    body_surface_m2
        Body surface area for per-m² doses (``mg/m2``; default: the 1.8 m² ICRP reference
        adult): a finite number from
        :data:`~immunoprecise.dynamics.dosing.MIN_BODY_SURFACE_M2` to
        :data:`~immunoprecise.dynamics.dosing.MAX_BODY_SURFACE_M2` (0.03 to 6 m²; an area in
        cm², such as 18000, is refused).
    progress
        A callable, called with the fraction of simulated time done.
    t_end_name
        The name ``notes`` and errors give the end time by: ``t_end`` (default), or the name the
        caller's user knows it by, e.g. ``--t-end`` on the command line (see
        :func:`dose_timing_notes`).

    Returns
    -------
    Trajectories
        States of every patient at the output times; ``to_frame()`` gives a long table.
        ``notes`` names what was simulated as written but may not be meant: doses starting
        after ``t_end`` (not given), an infusion still running at ``t_end`` (only its days
        before ``t_end`` given; see :func:`dose_timing_notes`), and two regimen items giving
        one agent at the same time (their doses add up; see :func:`dose_overlap_notes`).

    Raises
    ------
    ModelError
        An option of the wrong type or out of range (``t_end``, ``t_eval``, ``rtol``, ``atol``,
        ``thresholds``, ``body_weight_kg``, ``body_surface_m2``, ``progress``, ``method``,
        ``t_end_name``),
        naming the option, the value received and what is expected; a ``params`` or
        ``initial`` table without rows or with a repeated patient id, or the two naming
        different patients; a ``t_end`` beyond :data:`MAX_T_END_DAYS`; patients × output times
        beyond :data:`MAX_OUTPUT_POINTS` (before anything is integrated); unknown parameters
        or states; a regimen the model cannot take (``UnitError`` for a dose in the wrong
        unit).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> tr = ip.simulate("kuznetsov1994", t_end=60, initial={"T": 1e5})
    >>> tr.to_frame().shape
    (61, 4)
    >>> bool(tr.tumor[0, -1] < 1e8)  # held far below the carrying capacity 1/b = 5e8 cells
    True
    """
    mdl = resolve_model(model)
    if not isinstance(t_end_name, str) or not t_end_name.strip():
        raise ModelError(
            f"t_end_name must be the name of the end time shown in notes and errors, such as "
            f"'t_end' or '--t-end', not {t_end_name!r}"
        )
    t_end = _number(t_end_name, t_end, "a positive number of days", _positive)
    if t_end > MAX_T_END_DAYS:
        raise ModelError(
            f"{t_end_name} must be at most {MAX_T_END_DAYS:,.0f} days (100 years), not {t_end:g}"
        )
    rtol = _number(
        "rtol", rtol, "a number between 0 and 1 (the relative tolerance), e.g. 1e-6", _fraction
    )
    atol = _number(
        "atol",
        atol,
        "a positive number (the absolute tolerance in state units), e.g. 1e-6; with 0 a state "
        "that is 0, such as a drug before its first dose, could not be error-controlled",
        _positive,
    )
    body_weight_kg = _number(
        "body_weight_kg", body_weight_kg, "a positive number of kilograms, e.g. 70", _positive
    )
    weight_problem = body_weight_problem(body_weight_kg)
    if weight_problem:
        raise ModelError(f"body_weight_kg {weight_problem}")
    body_surface_m2 = _number(
        "body_surface_m2",
        body_surface_m2,
        "a positive body surface area in m², e.g. 1.8",
        _positive,
    )
    surface_problem = body_surface_problem(body_surface_m2)
    if surface_problem:
        raise ModelError(f"body_surface_m2 {surface_problem}")
    if progress is not None and not callable(progress):
        raise ModelError(
            f"progress must be a function called with the fraction of time done (or None), "
            f"not {progress!r}"
        )
    reg = _regimen(regimen)
    _check_doses_within(reg, t_end, t_end_name)
    ids, param_values, init_values = _patients(mdl, params, initial)
    n = len(ids)
    p = mdl.parameter_arrays(n, param_values, parameter_set=parameter_set, patients=ids)
    y0 = np.empty((n, len(mdl.states)))
    for j, st in enumerate(mdl.states):
        y0[:, j] = np.asarray(init_values.get(st.name, mdl.initial[st.name]), dtype=np.float64)
    if not np.all(np.isfinite(y0)) or np.any(y0 < 0):
        raise ModelError(_initial_state_problem(mdl, y0, ids))
    times = output_times(t_end) if t_eval is None else _output_times(t_eval, t_end)
    check_output_size(n, times.size, daily=t_eval is None)
    segments = dosing_segments(
        mdl, reg, t_end, body_weight_kg=body_weight_kg, body_surface_m2=body_surface_m2
    )
    notes = (
        *dose_timing_notes(reg, t_end, t_end_name=t_end_name),
        *dose_overlap_notes(mdl, reg, t_end),
    )
    crossings = _crossings(mdl, thresholds)
    chosen = method or mdl.method
    common: dict[str, Any] = {
        "rtol": rtol,
        "atol": atol,
        "tumor_state": None if mdl.tumor_state is None else mdl.state_index(mdl.tumor_state),
        "crossings": crossings,
        "clocks": [(mdl.state_index(c.state), c.parameter) for c in mdl.clocks],
        "jacobian": mdl.jacobian,
        "state_names": [st.name for st in mdl.states],
        "nonnegative": [st.nonnegative for st in mdl.states],
    }
    methods = np.full(n, "rodas4" if chosen == "auto" else chosen, dtype=object)
    # a patient whose solution blows up is reported in status and messages, with the day and
    # state; numpy's overflow warnings on the way there would only repeat it, unreadably
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if chosen == "auto":
            result = integrate(
                mdl.rhs,
                y0,
                p,
                segments,
                times,
                method="dopri5",
                detect_stiffness=True,
                max_steps=50_000,
                progress=progress,
                **common,
            )
            # stiff, or failed for another reason: the implicit method is the more robust one
            stiff = np.flatnonzero(result.status != 0)
            methods[:] = "dopri5"
            methods[stiff] = "rodas4"
            if stiff.size:
                rerun = integrate(
                    mdl.rhs,
                    y0[stiff],
                    {k: v[stiff] for k, v in p.items()},
                    segments,
                    times,
                    method="rodas4",
                    **common,
                )
                _merge(result, rerun, stiff)
        else:
            if chosen not in METHODS:
                raise ModelError(
                    f"method must be auto or one of {', '.join(METHODS)}, not {chosen!r}"
                )
            result = integrate(
                mdl.rhs,
                y0,
                p,
                segments,
                times,
                method=chosen,  # type: ignore[arg-type]
                progress=progress,
                **common,
            )
    dose_days: dict[str, list[float]] = {}
    for dose in reg.doses() if reg is not None else ():
        if dose.start <= t_end:
            dose_days.setdefault(dose.agent, []).append(dose.start)
    return Trajectories(
        model=mdl,
        t=result.t,
        y=result.y,
        patients=ids,
        regimen=reg,
        status=result.status,
        messages=tuple(result.messages),
        eradication_day=result.eradication_time,
        crossing_days=result.crossing_times,
        dose_days={k: tuple(v) for k, v in dose_days.items()},
        settings={
            "method": chosen,
            "methods_used": methods,
            "rtol": rtol,
            "atol": atol,
            "parameter_set": parameter_set,
            "body_weight_kg": body_weight_kg,
            "body_surface_m2": body_surface_m2,
            "steps": result.steps,
            "rejected_steps": result.rejected,
            "rhs_evaluations": result.rhs_evaluations,
        },
        notes=notes,
    )


def output_times(t_end: float) -> Array:
    """The default output times of :func:`simulate`: every day from 0, and ``t_end`` itself.

    Parameters
    ----------
    t_end
        Simulated time (days, > 0).

    Returns
    -------
    numpy.ndarray
        Days ``0, 1, …, floor(t_end)``, then ``t_end`` when it is not a whole day.

    Examples
    --------
    >>> output_times(3.5).tolist()
    [0.0, 1.0, 2.0, 3.0, 3.5]
    """
    times = np.arange(0.0, np.floor(t_end) + 1.0)
    return times if times[-1] >= t_end else np.append(times, t_end)


def check_output_size(
    n_patients: int,
    n_times: int,
    *,
    runs: int = 1,
    what: str = "simulate",
    daily: bool = False,
    fix: str | None = None,
    patients_text: str | None = None,
    times_text: str | None = None,
) -> None:
    """Refuse, before anything is integrated, an output of more than :data:`MAX_OUTPUT_POINTS`.

    Parameters
    ----------
    n_patients
        Virtual patients simulated at once.
    n_times
        Output times of each patient.
    runs
        Simulations whose outputs are all kept (e.g. one per regimen compared).
    what
        The function or command named in the message.
    daily
        Whether the output times are the default daily grid (the message then says so).
    fix
        What to change, in the caller's words; default: fewer output times or patients.
    patients_text, times_text
        How the message names the two factors, in the caller's words (e.g. ``"10,000 patients
        (chunk_size)"`` and the output grid of a trial); default: ``"N patients"`` and
        ``"N output times"``.

    Raises
    ------
    ModelError
        Naming the numbers, their product, the limit and what to change.

    Examples
    --------
    >>> check_output_size(1000, 366)
    >>> check_output_size(100_000, 3651, daily=True)
    Traceback (most recent call last):
    ...
    immunoprecise.errors.ModelError: simulate: 100,000 patients × 3,651 daily output times = ...
    """
    points = runs * n_patients * n_times
    if points <= MAX_OUTPUT_POINTS:
        return
    factors = [
        patients_text or counted(n_patients, "patient"),
        times_text or counted(n_times, f"{'daily ' if daily else ''}output time"),
    ]
    if runs > 1:
        factors.insert(0, f"{runs:,} regimens")
    advice = fix or (
        "give fewer output times (t_eval, e.g. weekly: numpy.arange(0, t_end + 1, 7)) or fewer "
        "patients, or run a virtual trial (ip.virtual_trial), which simulates a large "
        "population in chunks"
    )
    raise ModelError(
        f"{what}: {' × '.join(factors)} = {points:,} output points, more than the "
        f"{MAX_OUTPUT_POINTS:,} kept in memory (an 8-byte number per state and point, and the "
        f"tumor and effector arrays read from them: about {points * 9 * 8 / 1e9:.1f} GB for a "
        f"6-state model); {advice}"
    )


def _merge(result: IntegrationResult, rerun: IntegrationResult, rows: npt.NDArray[np.intp]) -> None:
    """Put the rerun patients' results into ``result`` (in place)."""
    result.y[rows] = rerun.y
    result.status[rows] = rerun.status
    for j, i in enumerate(rows.tolist()):
        result.messages[i] = rerun.messages[j]
    for name, times in rerun.crossing_times.items():
        result.crossing_times[name][rows] = times
    result.eradication_time[rows] = rerun.eradication_time
    result.steps[rows] += rerun.steps
    result.rejected[rows] += rerun.rejected
    result.rhs_evaluations += rerun.rhs_evaluations


def _positive(x: float) -> bool:
    return x > 0


def _fraction(x: float) -> bool:
    return 0 < x < 1


def _number(name: str, value: object, expected: str, ok: Callable[[float], bool]) -> float:
    """``value`` as a float when it is a finite real number meeting ``ok``; else a ModelError
    naming the option, the value received and what is expected."""
    number = math.nan
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        number = float(value)
    if not (math.isfinite(number) and ok(number)):
        shown = value.item() if isinstance(value, np.generic) else value
        raise ModelError(f"{name} must be {expected}, not {shown!r}")
    return number


def _output_times(t_eval: object, t_end: float) -> Array:
    """``t_eval`` as a 1-D float array of finite days, strictly increasing, in ``[0, t_end]``."""
    try:
        times = np.asarray(t_eval, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelError(f"t_eval = {t_eval!r}: must be a 1-D sequence of numbers (days)") from None
    if times.ndim != 1:
        raise ModelError(
            f"t_eval has shape {times.shape}: must be a 1-D sequence of numbers (days)"
        )
    if times.size == 0:
        raise ModelError(
            "t_eval is empty: give at least one output time in days, or leave it out for daily "
            "output from day 0 to t_end"
        )
    if not np.all(np.isfinite(times)):
        k = int(np.argmax(~np.isfinite(times)))
        raise ModelError(f"t_eval[{k}] = {float(times[k])}: output times must be finite days")
    outside = (times < 0) | (times > t_end + 1e-9)
    if np.any(outside):
        k = int(np.argmax(outside))
        raise ModelError(
            f"t_eval[{k}] = {float(times[k]):g}: output times must lie within [0, t_end] = "
            f"[0, {t_end:g}] days"
        )
    if times.size > 1 and np.any(np.diff(times) <= 0):
        k = int(np.argmax(np.diff(times) <= 0)) + 1
        raise ModelError(
            f"t_eval[{k}] = {float(times[k]):g}: output times must be strictly increasing "
            f"(t_eval[{k - 1}] = {float(times[k - 1]):g})"
        )
    return times


def _crossings(model: Model, thresholds: object) -> list[Crossing]:
    """The thresholds as crossings, each checked: a name, a known state, a finite value and a
    direction."""
    if thresholds is None:
        return []
    form = "(state, value) or (state, value, direction)"
    if not isinstance(thresholds, Mapping):
        raise ModelError(
            f"thresholds = {thresholds!r}: must be a mapping of name → {form}, e.g. "
            "{'T below 1e6': ('T', 1e6, 'down')}"
        )
    out = []
    for name, spec in thresholds.items():
        where = f"thresholds[{name!r}]"
        if (
            isinstance(spec, str | bytes)
            or not isinstance(spec, Sequence)
            or len(spec) not in (2, 3)
        ):
            raise ModelError(f"{where} = {spec!r}: must be {form}")
        state, value = spec[0], spec[1]
        direction = spec[2] if len(spec) == 3 else "both"
        if not isinstance(state, str):
            raise ModelError(f"{where}: the state must be a state name, not {state!r}")
        column = model.state_index(state)  # an unknown state is named with the model's states
        try:
            level = float(value)
        except (TypeError, ValueError):
            level = math.nan
        if not math.isfinite(level):
            raise ModelError(
                f"{where}: the value {value!r} must be a finite number ({state} units)"
            )
        if direction not in DIRECTIONS:
            raise ModelError(
                f"{where}: the direction {direction!r} must be one of {', '.join(DIRECTIONS)}"
            )
        out.append(Crossing(str(name), column, level, cast(Direction, direction)))
    return out


def _check_doses_within(regimen: Regimen | None, t_end: float, t_end_name: str = "t_end") -> None:
    """Refuse a regimen none of whose doses starts by ``t_end``: it would simulate no treatment."""
    first = regimen.first_day if regimen is not None else None
    if first is not None and first > t_end:
        raise ModelError(
            f"regimen {str(regimen)!r}: its first dose is on day {first:g}, after "
            f"{t_end_name} = {t_end:g} days, so no dose would be given; lengthen {t_end_name} or "
            "start the regimen earlier"
        )


def _regimen(regimen: Regimen | str | None) -> Regimen | None:
    if regimen is None or isinstance(regimen, Regimen):
        return regimen
    if isinstance(regimen, str):
        return Regimen.parse(regimen)
    raise ModelError(f"regimen must be a Regimen or its text, not {type(regimen).__name__}")


def _patients(
    model: Model, params: PatientValues, initial: PatientValues
) -> tuple[tuple[str, ...], dict[str, Array], dict[str, Array]]:
    """Patient ids and per-patient parameter / initial-state columns from dicts or DataFrames.

    Two DataFrames that both name their patients (a ``patient`` column or an index of ids) are
    matched by id, not by row: the rows of ``initial`` are put in the order of ``params``, and
    ids found in only one of them are refused."""
    p_ids, p_cols, p_named = _columns(params, "params")
    i_ids, i_cols, i_named = _columns(initial, "initial")
    if p_named and i_named and p_ids is not None and i_ids is not None and p_ids != i_ids:
        i_cols = {k: v[_matching_rows(p_ids, i_ids)] for k, v in i_cols.items()}
        i_ids = p_ids
    sizes = {len(x) for x in (p_ids, i_ids) if x is not None}
    if len(sizes) > 1:
        raise ModelError(
            f"params describe {len(p_ids or ())} patients but initial describes "
            f"{len(i_ids or ())}; give one row per patient in both"
        )
    ids = (i_ids if i_named and not p_named else p_ids or i_ids) or ("1",)
    n = len(ids)
    for name, cols in (("params", p_cols), ("initial", i_cols)):
        for key, arr in cols.items():
            if arr.shape[0] not in (1, n):
                raise ModelError(f"{name}[{key!r}] has {arr.shape[0]} values for {n} patients")
    for key in i_cols:
        model.state_index(key)  # names an unknown state clearly
    return ids, p_cols, {k: np.broadcast_to(v, (n,)) for k, v in i_cols.items()}


def _matching_rows(p_ids: tuple[str, ...], i_ids: tuple[str, ...]) -> npt.NDArray[np.intp]:
    """Row of ``initial`` for each patient of ``params``, matched by id; ids in only one of the
    two tables are refused, naming the first few."""
    in_p, in_i = set(p_ids), set(i_ids)
    only_p = [x for x in p_ids if x not in in_i]
    only_i = [x for x in i_ids if x not in in_p]
    if only_p or only_i:
        parts = [
            f"{what} only: {', '.join(repr(x) for x in ids[:5])}{', …' if len(ids) > 5 else ''}"
            for what, ids in (("in params", only_p), ("in initial", only_i))
            if ids
        ]
        raise ModelError(
            "params and initial name different patients ("
            + "; ".join(parts)
            + "): their rows are matched by patient id, so give the same ids in both"
        )
    row = {x: j for j, x in enumerate(i_ids)}
    return np.asarray([row[x] for x in p_ids], dtype=np.intp)


def _columns(
    values: PatientValues, what: str
) -> tuple[tuple[str, ...] | None, dict[str, Array], bool]:
    """Patient ids (``None``: not given), columns, and whether the ids were named by the user
    (a DataFrame's ``patient`` column or an index other than ``0, 1, …``)."""
    if values is None:
        return None, {}, False
    if isinstance(values, pd.DataFrame):
        frame = values
        named = True
        if "patient" in frame.columns:
            ids = tuple(str(x) for x in frame["patient"])
            frame = frame.drop(columns="patient")
        elif isinstance(frame.index, pd.RangeIndex):
            ids = tuple(str(i + 1) for i in range(len(frame)))
            named = False
        else:
            ids = tuple(str(x) for x in frame.index)
        if not ids:
            raise ModelError(
                f"{what} is a table without rows: give one row per patient, or leave {what} out "
                "for one patient with the model's defaults"
            )
        twice = repeated(ids) if named else []
        if twice:
            shown = ", ".join(repr(x) for x in twice[:5]) + (", …" if len(twice) > 5 else "")
            raise ModelError(
                f"{what}: patient ids repeat ({shown}); give each patient one row, with its own id"
            )
        cols: dict[str, Array] = {}
        for c in frame.columns:
            try:
                cols[str(c)] = frame[c].to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                raise ModelError(f"{what} column {c!r} must hold numbers") from None
        return ids, cols, named
    out: dict[str, Array] = {}
    lengths = set()
    for key, v in values.items():
        try:
            arr = np.atleast_1d(np.asarray(v, dtype=np.float64))
        except (TypeError, ValueError):
            raise ModelError(f"{what}[{key!r}] must be a number, not {v!r}") from None
        if arr.ndim != 1:
            raise ModelError(f"{what}[{key!r}] must be a number or a list of numbers")
        out[str(key)] = arr
        lengths.add(arr.shape[0])
    n = max(lengths, default=1)
    if lengths - {1, n}:
        raise ModelError(f"{what}: lists of different lengths {sorted(lengths)}")
    return (tuple(str(i + 1) for i in range(n)) if n > 1 else None), out, False


def dosing_segments(
    model: Model,
    regimen: Regimen | None,
    t_end: float,
    *,
    body_weight_kg: float = REFERENCE_BODY_WEIGHT_KG,
    body_surface_m2: float = REFERENCE_BODY_SURFACE_M2,
) -> list[Segment]:
    """Split ``[0, t_end]`` at every dose so that rates are constant within each segment.

    Doses are converted to the model's input units (``UnitError`` naming the agent otherwise).
    """
    doses = [d for d in (regimen.doses() if regimen is not None else ()) if d.start <= t_end]
    cuts = {0.0, float(t_end)}
    for d in doses:
        cuts.add(d.start)
        if d.is_infusion and d.end < t_end:
            cuts.add(d.end)
    times = sorted(cuts)
    converted = []
    in_model_units: dict[tuple[str, float, str, bool], tuple[int, float]] = {}
    for d in doses:
        key = (d.agent, d.amount, d.unit, d.is_infusion)
        if key in in_model_units:  # a schedule repeats the same dose: convert it once
            converted.append((d, *in_model_units[key]))
            continue
        k = model.input_index(d.agent)
        inp = model.inputs[k]
        try:
            amount = inp.scale * to_model_units(
                d.amount,
                d.unit,
                inp.unit,
                infusion=d.is_infusion,
                volume_liters=inp.volume_L,
                body_weight_kg=body_weight_kg,
                body_surface_m2=body_surface_m2,
            )
        except ImmunopreciseError as err:
            kind = "a rate in " + inp.unit + " per day" if d.is_infusion else inp.unit
            raise UnitError(
                f"dose of {d.agent} ({d.amount:g} {d.unit}) cannot be given to model "
                f"{model.id}: its input {inp.name} takes {kind} ({err})"
            ) from None
        if not math.isfinite(amount):
            raise ModelError(
                f"dose of {d.agent} ({d.amount:g} {d.unit}) is too large to simulate: in the "
                f"model's unit ({inp.unit}{' per day' if d.is_infusion else ''}) it exceeds "
                "the largest number (about 1.8e308); check the amount and its unit"
            )
        in_model_units[key] = (k, amount)
        converted.append((d, k, amount))
    # each dose goes to the segments it touches, found by bisection (linear in the doses, where
    # testing every dose against every segment took minutes for a daily schedule of years)
    n_segments = len(times) - 1
    rates_of = np.zeros((max(n_segments, 0), len(model.inputs)))
    boluses_of: list[list[tuple[int, float]]] = [[] for _ in range(n_segments)]
    resets_of: list[list[int]] = [[] for _ in range(n_segments)]
    for d, k, amount in converted:
        inp = model.inputs[k]
        if d.is_infusion:
            first = bisect.bisect_left(times, d.start)
            stop = min(bisect.bisect_left(times, d.end), n_segments)
            rates_of[first:stop, k] += amount
            continue
        first = bisect.bisect_left(times, d.start - 1e-12)
        stop = min(bisect.bisect_right(times, d.start + 1e-12), n_segments)
        for i in range(first, stop):
            if abs(d.start - times[i]) < 1e-12:
                boluses_of[i].append((model.state_index(inp.state), amount))
                if inp.resets:
                    resets_of[i].append(model.state_index(inp.resets))
    segments = [
        Segment(a, b, rates_of[i].copy(), tuple(boluses_of[i]), tuple(resets_of[i]))
        for i, (a, b) in enumerate(itertools.pairwise(times))
    ]
    if not segments:
        segments.append(Segment(0.0, float(t_end), np.zeros(len(model.inputs))))
    # a bolus on the last day (t_end) still shows in the final output
    last = [
        (model.state_index(model.inputs[k].state), amount)
        for d, k, amount in converted
        if not d.is_infusion and abs(d.start - t_end) < 1e-12 and t_end > 0
    ]
    if last:
        segments.append(
            Segment(float(t_end), float(t_end), np.zeros(len(model.inputs)), tuple(last))
        )
    return segments


def late_doses_fix(t_end_name: str = "t_end") -> str:
    """How the note on doses after the end of the simulation ends (see :func:`dose_timing_notes`).

    Parameters
    ----------
    t_end_name
        The name the caller's user knows the end time by (``t_end`` in Python, ``--t-end`` on
        the command line).

    Returns
    -------
    str
        The remedy, e.g. ``lengthen --t-end to include them``; a surface recognises the note by it.

    Examples
    --------
    >>> late_doses_fix("--t-end")
    'lengthen --t-end to include them'
    """
    return f"lengthen {t_end_name} to include them"


LATE_DOSES_FIX = late_doses_fix()
"""How the note on doses after ``t_end`` ends, as :func:`simulate` words it (see
:func:`late_doses_fix` for another name of the end time)."""


def dose_timing_notes(
    regimen: Regimen | None, t_end: float, *, t_end_name: str = "t_end"
) -> list[str]:
    """Notes on the doses of a regimen that the simulation to ``t_end`` gives only in part.

    A dose that starts after ``t_end`` falls outside the simulation and is not given; an
    infusion still running at ``t_end`` is given only for its days before ``t_end``. Both are
    simulated as written (nothing is refused), but a regimen written for a longer run, or a
    ``t_end`` shorter than meant, changes what the patient received, so each is named.

    Parameters
    ----------
    regimen
        The regimen (``None``: no treatment, no note).
    t_end
        Last simulated day (days from the start, day 0).
    t_end_name
        The name the notes give the end time by: ``t_end`` (default, as :func:`simulate` takes
        it), ``--t-end`` for the command line, ``follow_up_days`` for a trial design.

    Returns
    -------
    list of str
        First, when any dose starts after ``t_end``, one note giving how many, the agents and
        their days (the first of them included) and ``t_end``; it ends with
        :func:`late_doses_fix` of ``t_end_name``. Then one note per infusion cut short by ``t_end``, in item
        order, naming the item, the infusion's days and the part given. Empty when every dose
        is given whole.

    Examples
    --------
    >>> reg = Regimen.parse("IL2 5e6 IU/d d8-12; CAR-T 1e6 cells d0 q21d x3")
    >>> for note in dose_timing_notes(reg, 10):
    ...     print(note)
    2 doses start after day 10 and are not simulated (CAR-T on days 21, 42); lengthen t_end to include them
    Infusion cut short: item 1 (IL2 5e6 IU/d d8-12) runs from day 8 to 13, but the simulation ends on day 10 (t_end), so only 2 of its 5 days (day 8 to 10) are given
    """  # noqa: E501
    if regimen is None:
        return []
    from immunoprecise.wording import counted

    notes = []
    late = regimen.late_doses_text(t_end)
    if late:
        notes.append(f"{late}; {late_doses_fix(t_end_name)}")
    for number, item in enumerate(regimen.items, start=1):
        for dose in item.doses():
            if not dose.is_infusion or not dose.start <= t_end < dose.end - _DAY_TOLERANCE:
                continue
            given = t_end - dose.start
            part = (
                "so none of it is given (it starts on the last simulated day)"
                if given <= _DAY_TOLERANCE
                else f"so only {round(given, 9):g} of its {counted(dose.duration, 'day')} "
                f"(day {dose.start:g} to {t_end:g}) {'is' if round(given, 9) == 1 else 'are'} given"
            )
            notes.append(
                f"Infusion cut short: item {number} ({item}) runs from day {dose.start:g} to "
                f"{dose.end:g}, but the simulation ends on day {t_end:g} ({t_end_name}), {part}"
            )
    return notes


OVERLAP_PERIODS_SHOWN = 4
"""Overlapping periods a note lists per pair of items; a longer list shows the first three,
``…`` and the last (two weekly schedules of years could overlap every week)."""
_DAY_TOLERANCE = 1e-9  # the regimen's day resolution (``regimen.DAY_DECIMALS``)


def dose_overlap_notes(model: Model, regimen: Regimen | None, t_end: float) -> list[str]:
    """Notes on doses of one agent from different regimen items given at the same time.

    Two items dosing the same input of the model (the same agent, or two of its names such as
    ``IL2`` and ``IL-2``) whose administrations overlap in time — boluses on the same day,
    infusions running at once, or a bolus during an infusion — add up in the model, as
    concurrent infusions would. That is simulated as written (nothing is refused or changed);
    each note names the agent, both items and the overlapping days, so that a typo (a day or an
    item written twice) does not go unnoticed. Only doses starting by ``t_end`` count, as only
    they are simulated.

    Parameters
    ----------
    model
        The model the regimen is given to (its dosing inputs decide which agents are the same).
    regimen
        The regimen (``None``: no treatment, no note).
    t_end
        Last simulated day.

    Returns
    -------
    list of str
        One note per pair of overlapping items, in item order; empty when nothing overlaps.

    Raises
    ------
    ModelError
        An agent the model cannot take (as :func:`simulate` raises).

    Examples
    --------
    >>> from immunoprecise.dynamics.models import get_model
    >>> reg = Regimen.parse("IL2 5e6 IU/d d8-12; IL-2 1e6 IU/d d10-14")
    >>> dose_overlap_notes(get_model("depillis2006"), reg, 60)  # doctest: +NORMALIZE_WHITESPACE
    ["Overlapping doses of IL2 / IL-2: item 1 (IL2 5e6 IU/d d8-12) and item 2 (IL-2 1e6 IU/d
      d10-14) are both given from day 10 to 13; they add up in the model's input IL-2, as
      concurrent administrations would; change one item's days if that is not intended"]
    """
    if regimen is None:
        return []
    spans: list[tuple[int, list[tuple[float, float, bool]]]] = []
    for item in regimen.items:
        doses = [
            (d.start, min(d.end, t_end), d.is_infusion) for d in item.doses() if d.start <= t_end
        ]
        # an infusion starting on the last day gives nothing: it has no time to run
        spans.append((model.input_index(item.agent), [s for s in doses if not s[2] or s[1] > s[0]]))
    notes = []
    for i, j in itertools.combinations(range(len(spans)), 2):
        (k, first), (other, second) = spans[i], spans[j]
        if k != other or not first or not second:
            continue
        periods = _overlaps(first, second)
        if not periods:
            continue
        a, b = regimen.items[i], regimen.items[j]
        agents = a.agent if a.agent == b.agent else f"{a.agent} / {b.agent}"
        notes.append(
            f"Overlapping doses of {agents}: item {i + 1} ({a}) and item {j + 1} ({b}) are both "
            f"given {_periods_text(periods)}; they add up in the model's input "
            f"{model.inputs[k].name}, as concurrent administrations would; change one item's "
            "days if that is not intended"
        )
    return notes


def _overlaps(
    first: list[tuple[float, float, bool]], second: list[tuple[float, float, bool]]
) -> list[tuple[float, float]]:
    """Days (``(t, t)``) or periods (``(a, b)``) in which doses of the two items overlap, merged
    and sorted. Each item's doses are disjoint and sorted by start (the regimen grammar refuses
    an item whose own doses overlap), so each dose is checked against its few neighbours."""
    tol = _DAY_TOLERANCE
    starts = [s for s, _, _ in second]
    longest = max(e - s for s, e, _ in second)
    found = []
    for start, end, infusion in first:
        lo = bisect.bisect_left(starts, start - longest - tol)
        hi = bisect.bisect_right(starts, end + tol)
        for s, e, other_infusion in second[lo:hi]:
            if infusion and other_infusion:
                a, b = max(start, s), min(end, e)
                if b - a > tol:
                    found.append((a, b))
            elif infusion:  # a bolus of the other item during this infusion
                if start - tol <= s < end - tol:
                    found.append((s, s))
            elif other_infusion:
                if s - tol <= start < e - tol:
                    found.append((start, start))
            elif abs(start - s) <= tol:
                found.append((start, start))
    merged: list[tuple[float, float]] = []
    for a, b in sorted(found):
        if merged and a <= merged[-1][1] + tol and (b > a or merged[-1][1] > merged[-1][0]):
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif not merged or (a, b) != merged[-1]:
            merged.append((a, b))
    return merged


def _periods_text(periods: list[tuple[float, float]]) -> str:
    """``on day 0``, ``from day 10 to 13`` or ``on days 0, 21, 42, …, 105``."""
    shown = [f"{a:g}" if a == b else f"{a:g} to {b:g}" for a, b in periods]
    if len(shown) > OVERLAP_PERIODS_SHOWN:
        shown = [*shown[: OVERLAP_PERIODS_SHOWN - 1], "…", shown[-1]]
    if len(periods) == 1:
        a, b = periods[0]
        return f"on day {a:g}" if a == b else f"from day {a:g} to {b:g}"
    return "on days " + ", ".join(shown)
