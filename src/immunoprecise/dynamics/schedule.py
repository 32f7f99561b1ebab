"""Schedule choice: compare candidate regimens for one patient and search a regimen's timing.

A patient is simulated as a small cloud of virtual patients — parameter vectors from a
calibration (:meth:`~immunoprecise.dynamics.calibration.Calibration.sample_parameters`) or, without
data, the published parameters with a lognormal spread — so that every prediction comes with its
uncertainty: the share of the cloud whose tumor is eradicated, the best RECIST 1.1 response of
the median trajectory and its distribution, time to progression (Kaplan–Meier median) and the
effector:tumor ratio. Virtual patients whose simulation failed are counted (``n_failed``) and
left out of every share and median, whose denominator is ``n − n_failed``.

Examples
--------
>>> cmp = compare_regimens("cartmath2021", {"day 0": "CAR-T 1e6 cells d0",
...                        "day 42": "CAR-T 1e6 cells d42"}, t_end=150, n_virtual=8, seed=1)
>>> cmp.table["regimen"].tolist()
['no treatment', 'day 0', 'day 42']
>>> cmp.table["eradicated_fraction"].tolist()
[0.0, 0.875, 0.875]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.dynamics.model import Model
from immunoprecise.dynamics.regimen import DAY_DECIMALS, Regimen
from immunoprecise.dynamics.simulate import (
    MAX_T_END_DAYS,
    check_output_size,
    output_times,
    resolve_model,
    simulate,
)
from immunoprecise.dynamics.trajectories import Trajectories
from immunoprecise.errors import ModelError

__all__ = [
    "CONTROL_LABEL",
    "MAX_COMPARED_PATIENTS",
    "RegimenComparison",
    "TimingSearch",
    "compare_regimens",
    "kaplan_meier_median",
    "lognormal_spread",
    "search_timing",
    "virtual_patients",
]

CONTROL_LABEL = "no treatment"
"""Label of the untreated row that ``compare_regimens(..., control=True)`` adds."""

MAX_COMPARED_PATIENTS = 10_000
"""Most virtual patients :func:`compare_regimens` draws (``n_virtual``): it keeps every patient's
daily trajectory of every regimen in memory (10,000 patients of a 4-state model over a year take
about 120 MB per regimen). A larger population is a virtual trial
(:func:`~immunoprecise.dynamics.trials.run_trial`), which runs in chunks of bounded memory."""

PARAMETER_SPREAD_CV = 0.3
"""Default between-patient spread of every parameter (lognormal σ = 0.3, CV ≈ 31%): the order of
the inter-individual variability of fitted kinetic parameters in Stein et al. 2019 (Table 1,
ω² 0.38–2.4 on the log scale is larger; 0.3 is a conservative cloud around published values)."""


def virtual_patients(
    model: str | Model,
    n: int,
    *,
    seed: int,
    parameter_set: str | None = None,
    cv: float = PARAMETER_SPREAD_CV,
    vary: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``n`` parameter vectors around a model's published values (lognormal, seeded).

    Parameters
    ----------
    model
        Model or id.
    n
        Number of virtual patients.
    seed
        Seed of ``numpy.random.default_rng``.
    parameter_set
        Published set to centre on.
    cv
        Lognormal σ of each parameter (0: all identical).
    vary
        Parameters to vary (default: all except clocks' thresholds and exponents fixed at 0).

    Returns
    -------
    pandas.DataFrame
        One row per virtual patient, one column per varied parameter; first row = the centre.

    Raises
    ------
    ModelError
        ``n`` or ``seed`` that is not a whole number (``n`` ≥ 1, ``seed`` ≥ 0), a ``cv`` that
        is not a finite number ≥ 0, or a name in ``vary`` that is not a parameter of the model.

    Examples
    --------
    >>> virtual_patients("kuznetsov1994", 3, seed=1, vary=["s"]).shape
    (3, 1)
    >>> virtual_patients("kuznetsov1994", 3, seed=1, vary=["nope"])
    Traceback (most recent call last):
    ...
    immunoprecise.errors.ModelError: vary names 'nope', not a parameter of kuznetsov1994 ...
    """
    mdl = resolve_model(model)
    for name, value, least in (("n", n, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise ModelError(f"{name} must be a whole number ≥ {least}, not {value!r}")
    if (
        isinstance(cv, bool)
        or not isinstance(cv, int | float | np.integer | np.floating)
        or not (math.isfinite(cv) and cv >= 0)
    ):
        raise ModelError(
            f"cv must be a finite number ≥ 0 (the lognormal σ; 0: all identical), not {cv!r}"
        )
    centre = mdl.defaults(parameter_set)
    if isinstance(vary, str):
        raise ModelError(f"vary must be a list of parameter names, not the text {vary!r}")
    names = list(vary) if vary is not None else [k for k, v in centre.items() if v != 0]
    unknown = [k for k in names if k not in centre]
    if unknown:
        raise ModelError(
            f"vary names {', '.join(repr(k) for k in unknown)}, not a parameter of {mdl.id} "
            f"(parameters: {', '.join(centre)})"
        )
    spread = lognormal_spread(
        mdl, {k: centre[k] for k in names}, n, np.random.default_rng(seed), cv, keep_centre=True
    )
    return pd.DataFrame(spread, columns=names)


def lognormal_spread(
    model: Model,
    centre: Mapping[str, float],
    n: int,
    rng: np.random.Generator,
    cv: float,
    *,
    keep_centre: bool = False,
) -> dict[str, np.ndarray]:
    """``n`` values of each named quantity: ``centre · exp(N(0, cv²))``, clipped to bounds.

    Parameters
    ----------
    model
        The model whose parameter bounds clip the values (initial states are not clipped).
    centre
        Name → median (parameter or initial state, in its unit); drawn in this order.
    n
        Values per name.
    rng
        The random generator (one ``lognormal`` draw of ``n`` per name, in order).
    cv
        Lognormal σ (0: every value equals the centre).
    keep_centre
        Make the first value the centre itself (the published patient).

    Returns
    -------
    dict
        Name → array of shape ``[n]``.
    """
    bounds = {p.name: p.bounds for p in model.parameters}
    out: dict[str, np.ndarray] = {}
    for name, median in centre.items():
        values = median * rng.lognormal(0.0, cv, n)
        if keep_centre and n:
            values[0] = median
        limits = bounds.get(name)
        out[name] = values if limits is None else np.clip(values, limits[0], limits[1])
    return out


@dataclass(frozen=True)
class RegimenComparison:
    """Predicted outcomes of candidate regimens for one patient's cloud of virtual patients.

    ``table`` has one row per regimen: ``regimen`` (label), ``text``, ``n`` (virtual patients
    simulated), ``n_failed`` (of them, those whose simulation failed: left out of every column
    below, whose denominator is ``n − n_failed``), ``eradicated_fraction``, ``best_response``
    (RECIST 1.1, of the median trajectory), ``response_rate`` (share with CR or PR),
    ``progression_fraction``, ``ttp_median_days`` (Kaplan–Meier median time to progression, a
    patient without progression censored at the last assessment; NaN when it is not reached,
    i.e. fewer than half progress), ``tumor_change_percent`` median and 5–95% interval at the
    end, ``min_et_ratio`` (median over the cloud of the lowest effector:tumor ratio while the
    tumor is present).
    """

    model: Model
    table: pd.DataFrame
    trajectories: dict[str, Trajectories]
    seed: int
    n_virtual: int


def compare_regimens(
    model: str | Model,
    regimens: Mapping[str, Regimen | str],
    *,
    t_end: float,
    params: pd.DataFrame | None = None,
    initial: Mapping[str, float] | None = None,
    parameter_set: str | None = None,
    n_virtual: int = 50,
    seed: int = 0,
    control: bool = True,
) -> RegimenComparison:
    """Simulate each candidate regimen on the same virtual patients and tabulate outcomes.

    Parameters
    ----------
    model
        Model or id.
    regimens
        Label → regimen (text or :class:`Regimen`).
    t_end
        Days simulated.
    params
        Parameter vectors (one row per virtual patient), e.g. from a calibration; default:
        :func:`virtual_patients` with ``n_virtual`` and ``seed``.
    initial
        Initial states shared by the virtual patients.
    parameter_set
        Published set to centre the virtual patients on.
    n_virtual, seed
        Size (1 to :data:`MAX_COMPARED_PATIENTS`, 10,000) and seed of the default cloud; for a
        larger population run a virtual trial (:func:`~immunoprecise.virtual_trial`).
    control
        Add a ``no treatment`` row (:data:`CONTROL_LABEL`); a regimen may then not take that
        label.

    Returns
    -------
    RegimenComparison

    Raises
    ------
    ModelError
        If every virtual patient's simulation of a regimen failed; an ``n_virtual`` that is not
        a whole number from 1 to :data:`MAX_COMPARED_PATIENTS`, or a ``seed`` < 0; regimens ×
        patients × daily output times beyond
        :data:`~immunoprecise.dynamics.simulate.MAX_OUTPUT_POINTS` (every trajectory of every
        regimen is kept), refused before anything is simulated.

    Examples
    --------
    >>> compare_regimens("cartmath2021", {"day 0": "CAR-T 1e6 cells d0"}, t_end=60,
    ...                  n_virtual=10**9)
    Traceback (most recent call last):
    ...
    immunoprecise.errors.ModelError: n_virtual = 1000000000 is more than the 10,000 virtual ...
    """
    mdl = resolve_model(model)
    if params is None:
        for name, value, least in (("n_virtual", n_virtual, 1), ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
                raise ModelError(f"{name} must be a whole number ≥ {least}, not {value!r}")
        if n_virtual > MAX_COMPARED_PATIENTS:
            raise ModelError(
                f"n_virtual = {n_virtual} is more than the {MAX_COMPARED_PATIENTS:,} virtual "
                "patients compare_regimens keeps in memory (every trajectory of every regimen); "
                "give n_virtual at most "
                f"{MAX_COMPARED_PATIENTS:,}, or run a virtual trial (ip.virtual_trial), which "
                "simulates large populations in chunks"
            )
    cloud = (
        params
        if params is not None
        else virtual_patients(mdl, n_virtual, seed=seed, parameter_set=parameter_set)
    )
    arms: dict[str, Regimen | None] = {CONTROL_LABEL: None} if control else {}
    if control and CONTROL_LABEL in regimens:
        raise ModelError(
            f"regimen label {CONTROL_LABEL!r} is the untreated control row's; name the regimen "
            "otherwise, or pass control=False"
        )
    for label, given in regimens.items():
        arms[label] = given if isinstance(given, Regimen) else Regimen.parse(given)
    if not arms:
        raise ModelError(
            "no regimen to compare: give at least one regimen, or control=True for the "
            "untreated row"
        )
    n = len(cloud)
    if n == 0:
        raise ModelError("params has no rows: give one row per virtual patient")
    tumor = mdl.tumor_state
    if tumor is not None and initial is not None and tumor in initial:
        start = initial[tumor]
        try:
            start_cells = float(start)
        except (TypeError, ValueError):
            start_cells = float("nan")
        if isinstance(start, bool) or not start_cells > 0:
            raise ModelError(
                f"initial[{tumor!r}] = {start!r}: the regimens are compared by how the tumor "
                "changes from its start, which needs a tumor of more than 0 cells"
            )
    if (
        isinstance(t_end, int | float | np.integer | np.floating)
        and not isinstance(t_end, bool)
        and 0 < t_end <= MAX_T_END_DAYS  # else simulate names the problem with t_end
    ):
        check_output_size(
            n,
            output_times(float(t_end)).size,
            runs=len(arms),
            what="compare_regimens",
            daily=True,
            fix="give a smaller n_virtual (or fewer rows of params), a shorter t_end or fewer "
            "regimens (every trajectory of every regimen is kept), or run a virtual trial "
            "(ip.virtual_trial), which simulates a large population in chunks",
        )
    init = {k: [v] * n for k, v in (initial or {}).items()} or None
    rows, runs = [], {}
    for label, arm in arms.items():
        tr = simulate(
            mdl, t_end=t_end, regimen=arm, params=cloud, initial=init, parameter_set=parameter_set
        )
        runs[label] = tr
        rows.append({"regimen": label, "text": "" if arm is None else str(arm), **_outcomes(tr)})
    return RegimenComparison(mdl, pd.DataFrame(rows), runs, seed, n)


def kaplan_meier_median(times: npt.ArrayLike, events: npt.ArrayLike) -> float:
    """Kaplan–Meier median: the first time at which the survival estimate falls to ≤ 0.5.

    Parameters
    ----------
    times
        Event or censoring time of each subject.
    events
        Whether each subject's time is an event (``True``) or a censoring (``False``). At a
        tied time, events come before censorings (the usual convention).

    Returns
    -------
    float
        The median, or NaN when it is not reached (the estimate stays above 0.5: fewer than
        half have had the event by the last time). Kaplan EL, Meier P. J Am Stat Assoc
        1958;53:457–481; the definition of lifelines' ``median_survival_time_``, except that
        an estimate of exactly 0.5 counts as reached (lifelines' floating-point product may
        land a hair above it and report the median as not reached).

    Examples
    --------
    >>> kaplan_meier_median([56, 56, 112, 168, 168], [True, True, True, False, False])
    112.0
    >>> kaplan_meier_median([56, 168, 168], [True, False, False])
    nan
    """
    t = np.asarray(times, dtype=np.float64)
    d = np.asarray(events, dtype=bool)
    survival = 1.0
    for day in np.unique(t[d]):
        at_risk = int(np.count_nonzero(t >= day))
        survival *= 1.0 - np.count_nonzero(d & (t == day)) / at_risk
        if survival <= 0.5 + 1e-12:
            return float(day)
    return math.nan


def _outcomes(tr: Trajectories) -> dict[str, Any]:
    from immunoprecise.dynamics.response import assess_response

    ok = tr.ok
    if not ok.any() or tr.model.tumor_state is None:
        raise ModelError(
            f"model {tr.model.id}: no tumor outcome to compare"
            + ("" if ok.any() else f" (every simulation failed: {tr.messages[0]})")
        )
    # every share and median below is over the patients whose simulation succeeded
    tumor = np.maximum(tr.tumor[ok], 0.0)  # interpolation may dip a hair below 0 after eradication
    start = tumor[:, :1]
    change = 100.0 * (tumor[:, -1] - start[:, 0]) / start[:, 0]
    response = assess_response(tr.t, tumor, kind="cells")
    median = np.median(tumor, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        et = np.where(tumor >= 1.0, tr.effectors[ok] / tumor, np.nan)
    min_et = np.nanmin(np.where(np.isnan(et), np.inf, et), axis=1)
    best = str(assess_response(tr.t, median, kind="cells").best_response[0])
    ttp = np.where(
        response.progressed,
        response.time_to_progression_days,
        response.assessment_days[-1],  # censored at the last assessment
    )
    ttp_median = kaplan_meier_median(ttp, response.progressed)
    return {
        "n": int(ok.size),
        "n_failed": int(np.count_nonzero(~ok)),
        "eradicated_fraction": float(np.mean(tr.eradicated[ok])),
        "best_response": best,
        "response_rate": float(np.mean(np.isin(response.best_response, ("CR", "PR")))),
        "progression_fraction": float(np.mean(response.progressed)),
        "ttp_median_days": None if math.isnan(ttp_median) else ttp_median,
        "tumor_change_percent": float(np.median(change)),
        "tumor_change_p5": float(np.percentile(change, 5)),
        "tumor_change_p95": float(np.percentile(change, 95)),
        "min_et_ratio": float(np.median(min_et[np.isfinite(min_et)]))
        if np.isfinite(min_et).any()
        else None,
    }


@dataclass(frozen=True)
class TimingSearch:
    """Outcomes of a regimen as its timing varies; ``best_day`` by the stated objective."""

    comparison: RegimenComparison
    days: tuple[float, ...]
    best_day: float
    objective: str


def search_timing(
    model: str | Model,
    template: str,
    days: Sequence[float],
    *,
    t_end: float,
    objective: str = "tumor_change_percent",
    **options: Any,
) -> TimingSearch:
    """Try a regimen with ``{day}`` at each day and pick the best predicted outcome.

    Parameters
    ----------
    model
        Model or id.
    template
        Regimen text with ``{day}`` where the varied day goes, e.g.
        ``"chemo 1 mg/kg d0; TIL 1e9 cells d{day}"`` (when to give the cell product relative
        to debulking).
    days
        Days to try (at most 9 decimals, the schedule's resolution; a day written finer is
        refused naming it).
    t_end
        Days simulated.
    objective
        ``tumor_change_percent`` (median at the end, lower is better), ``eradicated_fraction``
        (higher is better) or ``response_rate`` (higher is better).
    options
        Passed to :func:`compare_regimens` (``params``, ``initial``, ``parameter_set``,
        ``n_virtual``, ``seed``).

    Returns
    -------
    TimingSearch
        The comparison table (one row per day) and the best day.

    Examples
    --------
    >>> s = search_timing("cartmath2021", "CAR-T 1e6 cells d{day}", [0, 60], t_end=150,
    ...                   n_virtual=4, seed=1)
    >>> s.best_day in (0.0, 60.0)
    True
    """
    if "{day}" not in template:
        raise ModelError(
            "the regimen template needs a {day} placeholder, e.g. 'TIL 1e9 cells d{day}'"
        )
    if objective not in ("tumor_change_percent", "eradicated_fraction", "response_rate"):
        raise ModelError(f"unknown objective {objective!r}")
    days = list(days)
    bad = [
        d
        for d in days
        if isinstance(d, bool)
        or not isinstance(d, int | float | np.integer | np.floating)
        or not math.isfinite(d)
        or d < 0
    ]
    if not days or bad:
        raise ModelError(
            "days must be a non-empty list of days ≥ 0 to try"
            + (f"; not {bad[0]!r}" if bad else "")
        )
    if len(set(days)) < len(days):
        twice = next(d for i, d in enumerate(days) if d in days[:i])
        raise ModelError(f"day {twice:g} is given twice in days; give each day to try once")
    # every digit of the day (a day such as 1000.125 must not be rounded, nor 1e6 written 1e+06)
    texts = [np.format_float_positional(float(d), trim="-") for d in days]
    for k, text in enumerate(texts):
        decimals = len(text.partition(".")[2])
        if decimals > DAY_DECIMALS:
            raise ModelError(
                f"days[{k}] = {text} has {decimals} decimals, more than the {DAY_DECIMALS} a "
                f"regimen's schedule keeps (1e-{DAY_DECIMALS} day); round the days to try, e.g. "
                f"{round(float(days[k]), 3):g}"
            )
    regimens = {f"day {t}": template.replace("{day}", t) for t in texts}
    cmp = compare_regimens(model, regimens, t_end=t_end, control=False, **options)
    values = cmp.table[objective].astype(float).to_numpy()
    pick = int(
        np.nanargmin(values) if objective == "tumor_change_percent" else np.nanargmax(values)
    )
    return TimingSearch(cmp, tuple(float(d) for d in days), float(days[pick]), objective)
