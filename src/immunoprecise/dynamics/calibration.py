"""Calibrate a tumor–immune model to one patient's tumor burden: MAP fit and its uncertainty.

:func:`calibrate` fits chosen parameters of a model to measurements of the tumor burden over
time (a :class:`~immunoprecise.records.PatientRecord`'s ``disease.burden``, or a table of days
and cells / diameters / SPDs), optionally together with measured effector states, and returns a
:class:`Calibration`: the estimates, 95% intervals, which parameters the data identify, the
fit's diagnostics and methods to simulate with, sample from and tabulate the result.

The statistical model
---------------------
* Parameters are fitted on a log10 scale (``x = log10 θ``), inside each
  :class:`~immunoprecise.dynamics.model.Parameter`'s ``bounds`` (log-transformed). A lower bound
  of 0 cannot be log-transformed: it is replaced by the starting value × 10⁻⁶
  (:data:`ZERO_BOUND_FLOOR_FACTOR`); a parameter without bounds gets ±3 decades around its
  starting value (:data:`UNBOUNDED_SPAN_DECADES`).
* Measurement error is multiplicative: ``log10 y_obs = log10 y_model + ε``, ``ε ~ N(0, σ²)``
  with one σ (decades) shared by all observations. A value below the detection floor (default
  one cell, :data:`CELL_FLOOR`; 0 cells after eradication) is read as the floor, in the
  observation and in the model alike.
* Priors: ``log10 θ ~ N(log10 centre, sd²)``, the centre being the model default (or the
  ``parameter_set`` value) and ``sd`` one decade (:data:`DEFAULT_PRIOR_SD_LOG10`), overridable
  per parameter; ``priors=False`` gives a maximum-likelihood fit.
* The objective is ``Σ ε²/σ² + Σ ((x − centre)/sd)²`` (−2 log posterior up to a constant),
  minimised by :func:`scipy.optimize.least_squares` (trust-region reflective, bounded); σ is
  re-estimated from the residuals (``σ̂² = RSS/(n − k)``) and the fit repeated until σ̂ settles
  (σ is irrelevant to the optimum without priors). With no residual degrees of freedom
  (``n = k``) σ cannot be estimated: 0.1 decade (≈ 25%, the inter-observer variation of tumor
  measurements, Erasmus et al. 2003) is assumed, or ``noise_sd_log10`` if given.
* The initial value of the observed state is the first measurement (at day 0) unless
  ``initial`` gives it; that measurement then sets the start and is not a residual.

Batching
--------
The integrator runs many parameter vectors at once for about the cost of one, so everything
that needs many simulations is one batched call: the central-difference Jacobian (2k vectors),
the multi-start screen, every point of every profile (re-optimised together by a batched
Levenberg–Marquardt) and all bootstrap refits.

Uncertainty
-----------
``"profile"``
    Profile likelihood (Venzon & Moolgavkar 1988; Raue et al. 2009): each fitted parameter is
    fixed at points walking outward from the estimate (guided by its Laplace standard error,
    then +1 and +3 decades, then to the bound) and the others re-optimised; the 95% interval is
    where the objective (with σ at its estimate, less the profiled parameter's own prior) rises
    by less than χ²₁,₀.₉₅ = 3.84 above its minimum, refined twice by interpolation on √Δ. A side
    that never rises that far within the bounds makes the parameter not identifiable (the
    interval runs to the bound). Without its own prior the profile shows what the data (and the
    other parameters' priors) say, so a prior cannot make a parameter look identified.
``"bootstrap"``
    Parametric bootstrap: ``n_boot`` data sets drawn from the fitted curve with N(0, σ̂²) noise
    on log10 (the first measurement too, where it sets the start), all refitted (priors
    included) in one batch; 2.5–97.5 percentiles. Seeded through
    :func:`numpy.random.default_rng`. Identifiable: the Laplace rule below, and fewer than 2.5%
    of the refits on a bound.
``"none"``
    No intervals (NaN).

Always: Laplace (asymptotic) standard errors in log10 from the Jacobian at the optimum,
``Cov = (JᵀJ)⁻¹`` of the σ-scaled residuals and priors (``σ²(JᵀJ)⁻¹`` without priors).
Without a profile, a parameter is identifiable when the data alone (the Jacobian of the data
residuals) give it a standard error below its prior sd (1 decade without priors).

Examples
--------
>>> import pandas as pd
>>> import immunoprecise as ip
>>> tr = ip.simulate("kuznetsov1994", t_end=40, t_eval=[0, 10, 20, 30, 40],
...                  initial={"T": 1e7}, params={"a": 0.25})
>>> data = pd.DataFrame({"day": tr.t, "cells": tr.tumor[0]})
>>> cal = calibrate("kuznetsov1994", data, fit=["a"])
>>> round(cal.estimates["a"], 3), cal.identifiable["a"]
(0.25, True)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import least_squares  # type: ignore[import-untyped, unused-ignore]
from scipy.stats import qmc  # type: ignore[import-untyped, unused-ignore]

from immunoprecise.dynamics.model import Array, Model, Parameter
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.response import diameter_mm_to_cells
from immunoprecise.dynamics.simulate import resolve_model, simulate
from immunoprecise.dynamics.trajectories import Trajectories
from immunoprecise.errors import FieldProblem, ModelError, ValidationError
from immunoprecise.records.record import PatientRecord

__all__ = [
    "CELL_FLOOR",
    "CHI2_1_95",
    "DEFAULT_FIT",
    "DEFAULT_PRIOR_SD_LOG10",
    "UNBOUNDED_SPAN_DECADES",
    "ZERO_BOUND_FLOOR_FACTOR",
    "Calibration",
    "calibrate",
]

IntArray = npt.NDArray[np.intp]
Uncertainty = Literal["profile", "bootstrap", "none"]
ResidualFn = Callable[[Array, IntArray], Array]

#: 0.95 quantile of χ² with 1 degree of freedom: the profile-likelihood threshold of a 95%
#: interval. Venzon DJ, Moolgavkar SH. A method for computing profile-likelihood-based confidence
#: intervals. Appl Stat 1988;37(1):87–94, doi:10.2307/2347496; Raue A et al. Structural and
#: practical identifiability analysis of partially observed dynamical models by exploiting the
#: profile likelihood. Bioinformatics 2009;25(15):1923–1929, doi:10.1093/bioinformatics/btp358.
CHI2_1_95 = 3.841458820694124

#: Default prior sd of log10(parameter): one order of magnitude around the published value
#: (choice: a weakly informative prior; published values of the same parameter differ by
#: orders of magnitude between tumors, e.g. the kill rates of Kuznetsov et al. 1994,
#: doi:10.1007/BF02460644, and de Pillis et al. 2005, doi:10.1158/0008-5472.CAN-05-0564).
DEFAULT_PRIOR_SD_LOG10 = 1.0

#: Detection floor of observed and simulated states: one cell (below it the integrator counts the
#: tumor as eradicated and sets it to 0; see :mod:`immunoprecise.dynamics.integrator`).
CELL_FLOOR = 1.0

#: A lower bound of 0 is replaced by (starting value × this) for the log10 scale (choice: six
#: decades below the literature value, far below any value that changes the dynamics visibly).
ZERO_BOUND_FLOOR_FACTOR = 1e-6

#: Half-width (decades) of the search box of a parameter declared without bounds (choice).
UNBOUNDED_SPAN_DECADES = 3.0

#: Parameter fitted when ``fit`` is not given: the tumor growth rate of each model (the symbol of
#: the model's paper; see the model modules).
DEFAULT_FIT: Mapping[str, tuple[str, ...]] = {
    "kuznetsov1994": ("a",),
    "depillis2005": ("a",),
    "depillis2006": ("a",),
    "cartmath2021": ("r",),
}

# Central-difference step on log10(θ), decades. With an integration error of ~rtol the derivative
# error is ~rtol/h + h²: h ≈ rtol^(1/3) (≈ 5e-3 relative, 2e-3 decades) balances them (Nocedal
# J, Wright SJ. Numerical Optimization, 2nd ed. Springer 2006, §8.1,
# doi:10.1007/978-0-387-40065-5).
_FD_STEP_LOG10 = 2e-3
# Integrator tolerances for calibration: tighter than simulate's defaults so that the
# finite-difference Jacobian is not dominated by integration error (see _FD_STEP_LOG10).
_RTOL = 1e-7
_ATOL = 1e-6
# Starting guess of σ (decades) before it is estimated: about 25% multiplicative error, the size
# of inter-observer variation of tumor measurements (Erasmus JJ et al. J Clin Oncol
# 2003;21(13):2574–2582, doi:10.1200/JCO.2003.01.144).
_SIGMA_START_LOG10 = 0.1
# Smallest σ (decades) used to weight residuals: 0.02%, below any measurement's precision
# (choice; keeps exact synthetic data from dividing by zero).
_SIGMA_FLOOR_LOG10 = 1e-4
# Residual (decades) given to every observation of a parameter vector whose integration failed
# (choice: large enough that the optimiser never accepts such a vector).
_FAIL_RESIDUAL_LOG10 = 10.0
_MEASURES = ("cells", "diameter_mm", "sum_of_diameters_mm", "spd_mm2")
_UNCERTAINTY = ("profile", "bootstrap", "none")


# --- the result ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Calibration:
    """A model calibrated to one patient: estimates, intervals, diagnostics.

    Attributes
    ----------
    model
        The calibrated model.
    estimates
        Fitted parameter → MAP estimate (parameter units).
    fixed
        Every other parameter → the value used (defaults, ``parameter_set``, ``fixed``).
    intervals
        Fitted parameter → 95% interval (low, high) in parameter units; NaN when not computed.
        A side that reaches a bound is reported as the declared bound.
    identifiable
        Fitted parameter → whether the data bound it (see the module documentation).
    standard_errors_log10
        Laplace standard errors of log10(parameter) (decades); ``inf`` where the Jacobian is
        singular in that direction.
    diagnostics
        ``n_data``, ``n_parameters``, ``rss_log10``, ``rmse_log10``, ``sigma_log10``, ``r2``
        (log scale), ``aic``, ``bic`` (Gaussian on log10, counting σ), ``converged``,
        ``message``, ``n_function_evaluations`` (parameter vectors simulated), and more.
    data
        The observations used: ``day``, ``date``, ``state``, ``measure``, ``value`` (state
        units), ``role`` (``initial`` or ``fit``), ``fitted`` and ``residual_log10``.
    regimen
        The regimen the data were taken under (days from day 0).
    initial
        The initial state of every state variable (state units).
    seed
        Seed of the bootstrap and the default seed of :meth:`sample_parameters`.
    uncertainty
        ``profile``, ``bootstrap`` or ``none``.
    covariance_log10
        Laplace covariance of the log10 estimates (order of ``estimates``); regularised by the
        default prior where singular (``diagnostics["covariance_regularized"]``).
    bounds
        Fitted parameter → (low, high) searched, in parameter units (after the zero floor).
    priors
        Fitted parameter → (centre, sd of log10); empty without priors.
    profiles
        Profile points (``parameter``, ``value``, ``log10_value``, ``delta_objective``,
        ``side``, ``stage``) when ``uncertainty="profile"``.
    bootstrap
        Refitted estimates, one row per bootstrap replicate, when ``uncertainty="bootstrap"``.
    method
        Integration method (``None``: the model's own).
    observed
        The state the burden measurements are compared with.
    """

    model: Model
    estimates: dict[str, float]
    fixed: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    identifiable: dict[str, bool]
    standard_errors_log10: dict[str, float]
    diagnostics: dict[str, Any] = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    regimen: Regimen | None
    initial: dict[str, float]
    seed: int
    uncertainty: str = "profile"
    covariance_log10: Array = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    priors: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    profiles: pd.DataFrame | None = field(default=None, repr=False)
    bootstrap: pd.DataFrame | None = field(default=None, repr=False)
    method: str | None = None
    observed: str = "T"

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.estimates.items())
        return (
            f"Calibration(model={self.model.id!r}, {values}, "
            f"n_data={self.diagnostics.get('n_data')}, uncertainty={self.uncertainty!r})"
        )

    @property
    def parameters(self) -> dict[str, float]:
        """Every parameter value of the calibrated model: ``fixed`` overlaid with ``estimates``."""
        return {**self.fixed, **self.estimates}

    @property
    def unidentifiable(self) -> tuple[str, ...]:
        """The fitted parameters the data do not determine (their values come from priors,
        starting values or bounds); empty when the calibration is identified."""
        return tuple(name for name, ok in self.identifiable.items() if not ok)

    @property
    def warning(self) -> str | None:
        """What a result made with this calibration must carry when it is not identified."""
        weak = self.unidentifiable
        if not weak:
            return None
        return (
            f"calibration not identified: the data do not determine {', '.join(weak)} (values "
            "from priors, starting values or bounds); predictions depend on those choices"
        )

    def simulate(
        self,
        t_end: float,
        *,
        regimen: Regimen | str | None = None,
        t_eval: Sequence[float] | Array | None = None,
    ) -> Trajectories:
        """Simulate the calibrated patient from day 0.

        Parameters
        ----------
        t_end
            Simulated time (days from day 0 of the data).
        regimen
            Treatment to simulate; ``None``: the calibration regimen; ``""``: no treatment.
        t_eval
            Output times (days); default every day.

        Returns
        -------
        Trajectories
            One patient with the fitted parameters and the calibration's initial state. When a
            fitted parameter is not identifiable, ``settings["calibration_warning"]`` says so
            (:attr:`warning`) and ``settings["unidentifiable"]`` names them.

        Examples
        --------
        >>> import pandas as pd
        >>> data = pd.DataFrame({"day": [0, 10, 20], "cells": [1e7, 2.5e7, 5e7]})
        >>> cal = calibrate("kuznetsov1994", data, fit="a", uncertainty="none")
        >>> cal.simulate(30).tumor.shape
        (1, 31)
        """
        made = simulate(
            self.model,
            t_end=t_end,
            regimen=self.regimen if regimen is None else regimen,
            params=self.parameters,
            initial=self.initial,
            t_eval=t_eval,
            method=self.method,  # type: ignore[arg-type]
        )
        if self.warning is not None:
            made.settings["calibration_warning"] = self.warning
            made.settings["unidentifiable"] = list(self.unidentifiable)
        return made

    def sample_parameters(
        self, n: int, *, seed: int | None = None, include_fixed: bool = False
    ) -> pd.DataFrame:
        """Draw parameter vectors from the Laplace approximation (an uncertainty cloud).

        log10 of the fitted parameters ~ N(log10 estimates, ``covariance_log10``), clipped to the
        searched bounds. The table can be passed as ``params`` to
        :func:`~immunoprecise.dynamics.simulate.simulate` (one virtual patient per row; with
        ``include_fixed`` it also carries every non-fitted parameter).

        Parameters
        ----------
        n
            Number of vectors (≥ 1).
        seed
            Seed of :func:`numpy.random.default_rng`; default the calibration's ``seed``.
        include_fixed
            Add a column for every non-fitted parameter (its fixed value).

        Returns
        -------
        pandas.DataFrame
            ``n`` rows, one column per parameter (parameter units).

        Examples
        --------
        >>> import pandas as pd
        >>> data = pd.DataFrame({"day": [0, 10, 20], "cells": [1e7, 2.5e7, 5e7]})
        >>> cal = calibrate("kuznetsov1994", data, fit="a", uncertainty="none")
        >>> cal.sample_parameters(5, seed=1).shape
        (5, 1)
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValidationError([FieldProblem("n", n, "must be a whole number ≥ 1")])
        names = list(self.estimates)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        mean = np.log10([self.estimates[k] for k in names])
        cov = np.asarray(self.covariance_log10, dtype=np.float64)
        if cov.shape != (len(names), len(names)) or not np.all(np.isfinite(cov)):
            cov = np.eye(len(names)) * DEFAULT_PRIOR_SD_LOG10**2
        x = rng.multivariate_normal(mean, cov, size=int(n), method="eigh")
        lo = np.log10([self.bounds.get(k, (0.0, math.inf))[0] or 1e-300 for k in names])
        hi = np.log10([self.bounds.get(k, (0.0, math.inf))[1] for k in names])
        x = np.clip(x, lo, hi)
        frame = pd.DataFrame(10.0**x, columns=names)
        if include_fixed:
            for key, value in self.fixed.items():
                frame[key] = value
        return frame

    def to_frame(self) -> pd.DataFrame:
        """One row per fitted parameter: estimate, interval, identifiability, unit, source.

        Examples
        --------
        >>> import pandas as pd
        >>> data = pd.DataFrame({"day": [0, 10, 20], "cells": [1e7, 2.5e7, 5e7]})
        >>> cal = calibrate("kuznetsov1994", data, fit="a", uncertainty="none")
        >>> cal.to_frame().columns.tolist()[:5]
        ['estimate', 'low', 'high', 'identifiable', 'se_log10']
        """
        declared = {p.name: p for p in self.model.parameters}
        rows = []
        for name, value in self.estimates.items():
            par = declared[name]
            low, high = self.intervals.get(name, (math.nan, math.nan))
            centre, sd = self.priors.get(name, (math.nan, math.nan))
            rows.append(
                {
                    "parameter": name,
                    "estimate": value,
                    "low": low,
                    "high": high,
                    "identifiable": self.identifiable.get(name, False),
                    "se_log10": self.standard_errors_log10.get(name, math.nan),
                    "unit": par.unit,
                    "default": par.value,
                    "prior_center": centre,
                    "prior_sd_log10": sd,
                    "interval_method": self.uncertainty,
                    "description": par.description,
                    "source": f"fitted (MAP) to {self.diagnostics.get('n_data', 0)} "
                    f"observations; prior from {par.source}",
                }
            )
        return pd.DataFrame(rows).set_index("parameter")

    def summary(self) -> str:
        """A short text report of the fit and of every fitted parameter.

        Examples
        --------
        >>> import pandas as pd
        >>> data = pd.DataFrame({"day": [0, 10, 20], "cells": [1e7, 2.5e7, 5e7]})
        >>> print(calibrate("kuznetsov1994", data, fit="a").summary())  # doctest: +ELLIPSIS
        Calibration of kuznetsov1994 to 2 observations of T (1 fitted parameter)
        ...
        """
        d = self.diagnostics
        k = len(self.estimates)
        lines = [
            f"Calibration of {self.model.id} to {d['n_data']} observations of {self.observed} "
            f"({k} fitted parameter{'s' if k != 1 else ''})",
            f"  fit: RMSE {d['rmse_log10']:.3g} decades, R² (log10) {d['r2']:.3g}, "
            f"AIC {d['aic']:.4g}, BIC {d['bic']:.4g}, "
            f"{'converged' if d['converged'] else 'NOT converged'} ({d['message']})",
            f"  intervals: {self.uncertainty}; priors: "
            + ("none" if not self.priors else "lognormal, sd in decades as listed"),
        ]
        units = {p.name: p.unit for p in self.model.parameters}
        for name, value in self.estimates.items():
            low, high = self.intervals.get(name, (math.nan, math.nan))
            interval = (
                "95% interval not computed"
                if math.isnan(low) and math.isnan(high)
                else f"95% interval {low:.4g}–{high:.4g}"
            )
            flag = "identifiable" if self.identifiable.get(name) else "NOT identifiable"
            se = self.standard_errors_log10.get(name, math.nan)
            lines.append(
                f"  {name} = {value:.4g} {units[name]} ({interval}; SE {se:.2g} decades; {flag})"
            )
        weak = [n for n, ok in self.identifiable.items() if not ok]
        if weak:
            lines.append(
                f"  warning: the data do not determine {', '.join(weak)}; their values come "
                "from the priors or bounds, not from this patient"
            )
        return "\n".join(lines)


# --- entry point ---------------------------------------------------------------------------


def calibrate(
    model: str | Model,
    data: PatientRecord | pd.DataFrame | Mapping[str, Any],
    *,
    fit: str | Sequence[str] | None = None,
    regimen: Regimen | str | None = None,
    initial: Mapping[str, float] | None = None,
    parameter_set: str | None = None,
    fixed: Mapping[str, float] | None = None,
    priors: Mapping[str, tuple[float, float]] | bool | None = None,
    observed: str = "T",
    effector_data: pd.DataFrame | Mapping[str, Any] | None = None,
    uncertainty: Uncertainty = "profile",
    seed: int = 0,
    method: str | None = None,
    n_boot: int = 200,
    start_date: dt.date | None = None,
    noise_sd_log10: float | None = None,
    floor: float = CELL_FLOOR,
    n_starts: int = 16,
) -> Calibration:
    """Fit model parameters to one patient's tumor burden over time.

    Parameters
    ----------
    model
        A model id (see :func:`~immunoprecise.dynamics.simulate.simulate`) or a
        :class:`~immunoprecise.dynamics.model.Model`.
    data
        A :class:`~immunoprecise.records.PatientRecord` (its ``disease.burden``: ``cell_count``
        as cells; else ``sum_of_diameters`` (mm) as the diameter of one sphere of 10⁹ cells/cm³;
        else ``spd`` (mm²) as a squared diameter; other measures are left out; day 0 = the
        earliest date, or ``start_date``), or a table (DataFrame or mapping of columns) with
        ``day`` and, per row, one of ``cells``, ``diameter_mm``, ``sum_of_diameters_mm``,
        ``spd_mm2`` (first non-missing in that order).
    fit
        Names of the parameters to fit (default: the tumor growth rate, :data:`DEFAULT_FIT`).
    regimen
        Treatment given, days counted from day 0 of the data (``None``: none).
    initial
        Initial states (state units). The observed state starts at the first measurement, which
        must then be on day 0, unless given here.
    parameter_set
        A published parameter set to start from (its values are also the prior centres).
    fixed
        Values of non-fitted parameters that differ from the defaults.
    priors
        ``None``/``True``: lognormal priors centred at the starting values with sd 1 decade;
        a mapping ``{"a": (centre, sd_log10)}`` overrides them per parameter; ``False``: none.
    observed
        The state the burden is compared with (cells; default ``T``).
    effector_data
        Optional measured states fitted jointly: a table with ``day``, ``state``, ``value``
        (state units), same error model.
    uncertainty
        ``profile`` (profile likelihood), ``bootstrap`` (parametric) or ``none``.
    seed
        Seed of the bootstrap (:func:`numpy.random.default_rng`).
    method
        Integration method (default: the model's own).
    n_boot
        Bootstrap replicates.
    start_date
        Day 0 for a PatientRecord (measurements before it are left out).
    noise_sd_log10
        Measurement sd on log10 (decades); default estimated from the residuals.
    floor
        Detection floor of observed states (state units; default one cell).
    n_starts
        Starting points screened (in one batch) before the local fit.

    Returns
    -------
    Calibration
        Estimates, intervals, identifiability, diagnostics; see :class:`Calibration`.

    Raises
    ------
    ValidationError
        Unreadable data, fewer data points than fitted parameters, bad options.
    ModelError
        Unknown model, parameter or state names.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"day": [0, 14, 28], "cells": [1e7, 4e7, 1e8]})
    >>> cal = calibrate("kuznetsov1994", data, fit=["a"], uncertainty="none")
    >>> 0.05 < cal.estimates["a"] < 0.5
    True
    """
    mdl = resolve_model(model)
    problems: list[FieldProblem] = []
    if uncertainty not in _UNCERTAINTY:
        problems.append(
            FieldProblem("uncertainty", uncertainty, f"must be one of {', '.join(_UNCERTAINTY)}")
        )
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 2:
        problems.append(FieldProblem("n_boot", n_boot, "must be a whole number ≥ 2"))
    if isinstance(n_starts, bool) or not isinstance(n_starts, int | np.integer) or n_starts < 1:
        problems.append(FieldProblem("n_starts", n_starts, "must be a whole number ≥ 1"))
    if not _positive(floor):
        problems.append(FieldProblem("floor", floor, "must be a positive number (state units)"))
    if noise_sd_log10 is not None and not _positive(noise_sd_log10):
        problems.append(
            FieldProblem("noise_sd_log10", noise_sd_log10, "must be a positive number (decades)")
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        problems.append(FieldProblem("seed", seed, "must be a whole number"))
    if problems:
        raise ValidationError(problems)

    names = _fit_names(mdl, fit)
    reg = _regimen(regimen)
    base = mdl.defaults(parameter_set)
    fixed_values = _fixed_values(mdl, names, fixed)
    base.update(fixed_values)
    centres, sds = _priors(mdl, names, base, priors)
    use_priors = priors is not False
    lo, hi, declared = _log_bounds(mdl, names, centres)
    obs_state = mdl.state_index(observed)

    frame = _observations(data, start_date, observed)
    if effector_data is not None:
        frame = pd.concat([frame, _effector_observations(mdl, effector_data)], ignore_index=True)
    frame = frame.sort_values(["day"], kind="stable").reset_index(drop=True)

    init = {s.name: float(mdl.initial[s.name]) for s in mdl.states}
    for key, value in (initial or {}).items():
        mdl.state_index(key)
        if not _nonnegative(value):
            raise ValidationError(
                [FieldProblem(f"initial[{key!r}]", value, "must be a finite number ≥ 0")]
            )
        init[key] = float(value)
    role = np.full(len(frame), "fit", dtype=object)
    own = np.flatnonzero(frame["state"].to_numpy() == observed)
    init_from_data = initial is None or observed not in initial
    if init_from_data:
        first = own[0] if own.size else None
        if first is None or frame["day"].iat[first] != 0.0:
            day = "none" if first is None else f"day {frame['day'].iat[first]:g}"
            raise ValidationError(
                [
                    FieldProblem(
                        "data",
                        f"first measurement of {observed}: {day}",
                        f"the initial {observed} is taken from a measurement on day 0; give "
                        f"initial={{'{observed}': value}} or count days from the first "
                        "measurement",
                    )
                ]
            )
        role[first] = "initial"
        init[observed] = float(frame["value"].to_numpy(dtype=np.float64)[first])
    if own.size > (1 if init_from_data else 0) and init[observed] < floor:
        # a model started below the detection floor starts eradicated and stays there, whatever
        # the parameters: every fit would be the prior (or arbitrary) and σ̂ absurd
        raise ValidationError(
            [
                FieldProblem(
                    "data" if init_from_data else f"initial[{observed!r}]",
                    f"{observed} = {init[observed]:g} on day 0",
                    f"the model would start below the detection floor ({floor:g}), eradicated, "
                    "and could not follow the later measurements whatever the parameters; "
                    f"start from a measurable {observed} (≥ {floor:g}), e.g. count days from "
                    "the first measurement above the floor",
                )
            ]
        )
    frame["role"] = role
    fit_rows = np.flatnonzero(role == "fit")
    n_data, k = int(fit_rows.size), len(names)
    if n_data < k:
        raise ValidationError(
            [
                FieldProblem(
                    "data",
                    f"{len(frame)} measurements",
                    f"{n_data} data points to fit "
                    + ("(the first measurement sets the initial state) " if init_from_data else "")
                    + f"for {k} fitted parameters ({', '.join(names)}); need at least {k} data "
                    "points, or fit fewer parameters",
                )
            ]
        )
    days = frame["day"].to_numpy(dtype=np.float64)[fit_rows]
    if days.max() <= 0:
        raise ValidationError(
            [FieldProblem("data", "all days 0", "need measurements after day 0 to fit dynamics")]
        )
    times = np.unique(days)
    states = frame["state"].to_numpy()[fit_rows]
    problem = _Problem(
        model=mdl,
        names=names,
        fixed={kk: v for kk, v in base.items() if kk not in names},
        regimen=reg,
        initial=init,
        observed_index=obs_state,
        time_index=np.searchsorted(times, days).astype(np.intp),
        state_index=np.array([mdl.state_index(s) for s in states], dtype=np.intp),
        obs_log10=np.log10(np.maximum(frame["value"].to_numpy(dtype=np.float64)[fit_rows], floor)),
        times=times,
        floor=float(floor),
        centre=np.log10(centres),
        sd=sds,
        use_priors=use_priors,
        method=method,
        sigma=float(noise_sd_log10 or _SIGMA_START_LOG10),
    )

    # σ is estimated from the residuals when they have degrees of freedom left (n > k)
    estimate_sigma = noise_sd_log10 is None and n_data > k
    xhat, result = _fit(problem, lo, hi, int(n_starts), estimate_sigma=estimate_sigma)
    r_all = problem.residuals(xhat[None, :])[0]
    model_log10 = problem.model_log10(xhat[None, :])[0]
    resid = model_log10 - problem.obs_log10
    rss = float(np.sum(resid**2))
    sigma = _sigma_hat(rss, n_data, k) if estimate_sigma else problem.sigma
    problem.sigma = sigma
    jac = _fd_jacobian(
        problem.residuals, xhat[None, :], np.zeros(1, np.intp), np.ones((1, k), bool)
    )
    cov, se, regularized = _laplace(jac[0])
    se_data = _laplace(jac[0][:n_data])[1]
    ident_laplace = se_data < (sds if use_priors else np.full(k, DEFAULT_PRIOR_SD_LOG10))

    intervals = np.full((k, 2), np.nan)
    ident = ident_laplace.copy()
    profiles = boot = None
    if uncertainty == "profile":
        intervals, ident, profiles = _profile(problem, xhat, lo, hi, se)
    elif uncertainty == "bootstrap":
        y0 = init[observed] if init_from_data else None
        intervals, touch, boot = _bootstrap(
            problem, xhat, lo, hi, model_log10, y0, int(n_boot), int(seed)
        )
        ident = ident_laplace & ~touch

    # a side that reaches a bound is reported as the declared bound (0 rather than the floor)
    low = np.where(
        np.isclose(intervals[:, 0], lo, atol=1e-9), declared[:, 0], 10.0 ** intervals[:, 0]
    )
    high = np.where(
        np.isclose(intervals[:, 1], hi, atol=1e-9), declared[:, 1], 10.0 ** intervals[:, 1]
    )
    fitted = np.full(len(frame), np.nan)
    fitted[fit_rows] = 10.0**model_log10
    if init_from_data:
        fitted[role == "initial"] = init[observed]
    frame["fitted"] = fitted
    residual = np.full(len(frame), np.nan)
    residual[fit_rows] = resid
    frame["residual_log10"] = residual

    obs = problem.obs_log10
    sst = float(np.sum((obs - obs.mean()) ** 2))
    mse = max(rss / n_data, _SIGMA_FLOOR_LOG10**2) if n_data else math.nan
    at_bounds = [
        n for j, n in enumerate(names) if xhat[j] <= lo[j] + 1e-6 or xhat[j] >= hi[j] - 1e-6
    ]
    diagnostics: dict[str, Any] = {
        "n_data": n_data,
        "n_parameters": k,
        "rss_log10": rss,
        "rmse_log10": math.sqrt(rss / n_data) if n_data else math.nan,
        "sigma_log10": sigma,
        "sigma_estimated": estimate_sigma,
        "r2": 1.0 - rss / sst if sst > 0 else math.nan,
        "aic": n_data * math.log(mse) + 2 * (k + 1),
        "bic": n_data * math.log(mse) + (k + 1) * math.log(max(n_data, 1)),
        "converged": bool(result.success) and bool(np.all(np.isfinite(r_all))),
        "message": str(result.message),
        "n_function_evaluations": problem.n_vectors,
        "n_simulate_calls": problem.n_calls,
        "objective": float(np.sum(problem.residuals(xhat[None, :])[0] ** 2)),
        "at_bounds": at_bounds,
        "covariance_regularized": regularized,
        "initial_from_data": init_from_data,
        "uncertainty": uncertainty,
    }
    if uncertainty == "bootstrap":
        diagnostics["n_boot"] = int(n_boot)
    return Calibration(
        model=mdl,
        estimates={n: float(10.0 ** xhat[j]) for j, n in enumerate(names)},
        fixed=dict(problem.fixed),
        intervals={n: (float(low[j]), float(high[j])) for j, n in enumerate(names)},
        identifiable={n: bool(ident[j]) for j, n in enumerate(names)},
        standard_errors_log10={n: float(se[j]) for j, n in enumerate(names)},
        diagnostics=diagnostics,
        data=frame,
        regimen=reg,
        initial=init,
        seed=int(seed),
        uncertainty=uncertainty,
        covariance_log10=cov,
        bounds={n: (float(10.0 ** lo[j]), float(10.0 ** hi[j])) for j, n in enumerate(names)},
        priors=(
            {n: (float(centres[j]), float(sds[j])) for j, n in enumerate(names)}
            if use_priors
            else {}
        ),
        profiles=profiles,
        bootstrap=boot,
        method=method,
        observed=observed,
    )


# --- inputs --------------------------------------------------------------------------------


def _positive(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and math.isfinite(float(value))
        and float(value) > 0
    )


def _nonnegative(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and math.isfinite(float(value))
        and float(value) >= 0
    )


def _unknown_parameter(model: Model, names: Sequence[str], what: str) -> None:
    unknown = [n for n in names if n not in model.parameter_names]
    if unknown:
        raise ModelError(
            f"{what}: model {model.id} has no parameter {', '.join(map(repr, unknown))}; "
            f"parameters: {', '.join(model.parameter_names)}"
        )


def _fit_names(model: Model, fit: str | Sequence[str] | None) -> tuple[str, ...]:
    if fit is None:
        base = model.id.split("+")[0]
        if base not in DEFAULT_FIT:
            raise ModelError(
                f"model {model.id} has no default parameter to fit; name them with fit=[...] "
                f"from: {', '.join(model.parameter_names)}"
            )
        return DEFAULT_FIT[base]
    try:
        names = (fit,) if isinstance(fit, str) else tuple(fit)
    except TypeError:
        names = ()
    if not names or not all(isinstance(n, str) for n in names):
        raise ValidationError(
            [FieldProblem("fit", fit, "must name at least one parameter, e.g. fit=['a']")]
        )
    if len(set(names)) != len(names):
        raise ValidationError([FieldProblem("fit", list(names), "names a parameter twice")])
    _unknown_parameter(model, names, "fit")
    return names


def _regimen(regimen: Regimen | str | None) -> Regimen | None:
    if regimen is None or isinstance(regimen, Regimen):
        return regimen
    if isinstance(regimen, str):
        return Regimen.parse(regimen)
    raise ValidationError(
        [FieldProblem("regimen", type(regimen).__name__, "must be a Regimen or its text")]
    )


def _fixed_values(
    model: Model, names: tuple[str, ...], fixed: Mapping[str, float] | None
) -> dict[str, float]:
    values = dict(fixed or {})
    _unknown_parameter(model, list(values), "fixed")
    problems = [
        FieldProblem(f"fixed[{k!r}]", v, "must be a finite number")
        for k, v in values.items()
        if isinstance(v, bool)
        or not isinstance(v, int | float | np.integer | np.floating)
        or not math.isfinite(float(v))
    ]
    declared = {p.name: p for p in model.parameters}
    if not problems:  # each value within its parameter's limits (a negative rate is no patient)
        for k, v in values.items():
            problem = declared[k].problem(float(v))
            if problem:
                problems.append(FieldProblem(f"fixed[{k!r}]", v, problem))
    both = sorted(set(values) & set(names))
    if both:
        problems.append(FieldProblem("fixed", both, "are also in fit; a parameter is one or other"))
    if problems:
        raise ValidationError(problems)
    return {k: float(v) for k, v in values.items()}


def _priors(
    model: Model,
    names: tuple[str, ...],
    base: Mapping[str, float],
    priors: Mapping[str, tuple[float, float]] | bool | None,
) -> tuple[Array, Array]:
    given: Mapping[str, tuple[float, float]] = (
        priors if isinstance(priors, Mapping) and not isinstance(priors, bool) else {}
    )
    _unknown_parameter(model, list(given), "priors")
    problems: list[FieldProblem] = []
    not_fitted = sorted(set(given) - set(names))
    if not_fitted:
        problems.append(FieldProblem("priors", not_fitted, "are not fitted; add them to fit"))
    centres = np.empty(len(names))
    sds = np.full(len(names), DEFAULT_PRIOR_SD_LOG10)
    for j, name in enumerate(names):
        centre = base[name]
        if name in given:
            spec = given[name]
            ok = isinstance(spec, tuple | list) and len(spec) == 2
            if not ok or not _positive(spec[0]) or not _positive(spec[1]):
                problems.append(
                    FieldProblem(
                        f"priors[{name!r}]",
                        spec,
                        "must be (centre > 0 in the parameter's unit, sd of log10 > 0 decades)",
                    )
                )
                continue
            centre, sds[j] = float(spec[0]), float(spec[1])
        if not (math.isfinite(centre) and centre > 0):
            problems.append(
                FieldProblem(
                    f"priors[{name!r}]",
                    None,
                    f"{name} starts at {centre:g}, which has no logarithm; give "
                    f"priors={{'{name}': (centre > 0, sd_log10)}} to fit it on a log scale",
                )
            )
            continue
        centres[j] = centre
    if problems:
        raise ValidationError(problems)
    return centres, sds


def _log_bounds(model: Model, names: tuple[str, ...], centres: Array) -> tuple[Array, Array, Array]:
    """log10 search bounds and the declared bounds (for reporting) of the fitted parameters."""
    declared_of: dict[str, Parameter] = {p.name: p for p in model.parameters}
    lo, hi = np.empty(len(names)), np.empty(len(names))
    declared = np.empty((len(names), 2))
    for j, name in enumerate(names):
        bounds = declared_of[name].bounds
        c = math.log10(centres[j])
        if bounds is None:
            lo[j], hi[j] = c - UNBOUNDED_SPAN_DECADES, c + UNBOUNDED_SPAN_DECADES
            declared[j] = 10.0 ** lo[j], 10.0 ** hi[j]
            continue
        b0, b1 = float(bounds[0]), float(bounds[1])
        declared[j] = b0, b1
        if not b1 > 0 or b1 <= b0:
            raise ModelError(
                f"parameter {name} of model {model.id} has bounds {bounds}: a positive range "
                "is needed to fit it on a log scale"
            )
        low = b0 if b0 > 0 else min(centres[j], b1) * ZERO_BOUND_FLOOR_FACTOR
        lo[j], hi[j] = math.log10(low), math.log10(b1)
    return lo, hi, declared


def _observations(
    data: PatientRecord | pd.DataFrame | Mapping[str, Any],
    start_date: dt.date | None,
    observed: str,
) -> pd.DataFrame:
    """Tumor measurements as ``day``, ``date``, ``state``, ``measure``, ``value`` (cells)."""
    if isinstance(data, PatientRecord):
        return _record_observations(data, start_date, observed)
    if isinstance(data, pd.DataFrame):
        table = data
    elif isinstance(data, Mapping):
        try:
            table = pd.DataFrame(dict(data))
        except (TypeError, ValueError) as err:
            raise ValidationError(
                [FieldProblem("data", type(data).__name__, f"not a table of columns ({err})")]
            ) from None
    else:
        raise ValidationError(
            [
                FieldProblem(
                    "data",
                    type(data).__name__,
                    "must be a PatientRecord, a DataFrame or a mapping of columns",
                )
            ]
        )
    measures = [c for c in _MEASURES if c in table.columns]
    if "day" not in table.columns or not measures:
        raise ValidationError(
            [
                FieldProblem(
                    "data",
                    list(map(str, table.columns)),
                    f"needs a column 'day' and one of {', '.join(_MEASURES)}",
                )
            ]
        )
    problems: list[FieldProblem] = []
    rows = []
    for i in range(len(table)):
        day = _number(table["day"].iloc[i])
        if day is None or day < 0:
            problems.append(
                FieldProblem(f"data row {i} column day", table["day"].iloc[i], "must be ≥ 0 days")
            )
            continue
        for measure in measures:
            raw = table[measure].iloc[i]
            if raw is None or (isinstance(raw, float) and math.isnan(raw)):
                continue
            value = _number(raw)
            unit = {"cells": "cells", "spd_mm2": "mm²"}.get(measure, "mm")
            if value is None or value < 0:
                problems.append(
                    FieldProblem(f"data row {i} column {measure}", raw, f"must be ≥ 0 {unit}")
                )
                break
            rows.append((day, None, measure, _to_cells(measure, value)))
            break
        else:
            problems.append(
                FieldProblem(f"data row {i}", None, f"no value in {', '.join(measures)}")
            )
    if problems:
        raise ValidationError(problems)
    return _frame(rows, observed)


def _record_observations(
    record: PatientRecord, start_date: dt.date | None, observed: str
) -> pd.DataFrame:
    burden = sorted(record.disease.burden, key=lambda b: b.date)
    usable = []
    for b in burden:
        if b.cell_count is not None:
            usable.append((b.date, "cell_count", b.cell_count.to("cells")))
        elif b.sum_of_diameters is not None:
            usable.append(
                (b.date, "sum_of_diameters", _to_cells("diameter_mm", b.sum_of_diameters.to("mm")))
            )
        elif b.spd is not None:
            usable.append((b.date, "spd", _to_cells("spd_mm2", b.spd.to("mm²"))))
    if not usable:
        raise ValidationError(
            [
                FieldProblem(
                    "data.disease.burden",
                    f"{len(burden)} measurements",
                    "needs cell_count, sum_of_diameters or spd measurements (marrow blasts and "
                    "M-protein cannot be converted to tumor cells)",
                )
            ]
        )
    day0 = start_date or usable[0][0]
    rows = [
        (float((date - day0).days), date, measure, value)
        for date, measure, value in usable
        if date >= day0
    ]
    return _frame(rows, observed)


def _frame(rows: Sequence[tuple[float, dt.date | None, str, float]], state: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": pd.Series([r[0] for r in rows], dtype=np.float64),
            "date": pd.Series([r[1] for r in rows], dtype=object),
            "state": pd.Series([state] * len(rows), dtype=object),
            "measure": pd.Series([r[2] for r in rows], dtype=object),
            "value": pd.Series([r[3] for r in rows], dtype=np.float64),
        }
    )


def _to_cells(measure: str, value: float) -> float:
    if measure == "cells":
        return value
    diameter = math.sqrt(value) if measure == "spd_mm2" else value
    return float(diameter_mm_to_cells(float(diameter)))


def _number(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _effector_observations(
    model: Model, effector_data: pd.DataFrame | Mapping[str, Any]
) -> pd.DataFrame:
    table = effector_data if isinstance(effector_data, pd.DataFrame) else None
    if table is None:
        try:
            table = pd.DataFrame(dict(effector_data))
        except (TypeError, ValueError):
            table = pd.DataFrame()
    missing = [c for c in ("day", "state", "value") if c not in table.columns]
    if missing:
        raise ValidationError(
            [
                FieldProblem(
                    "effector_data",
                    list(map(str, table.columns)),
                    "needs columns day, state, value (state units)",
                )
            ]
        )
    problems: list[FieldProblem] = []
    rows = []
    for i in range(len(table)):
        day, value = _number(table["day"].iloc[i]), _number(table["value"].iloc[i])
        state = str(table["state"].iloc[i])
        model.state_index(state)
        if day is None or day < 0:
            problems.append(
                FieldProblem(f"effector_data row {i} column day", table["day"].iloc[i], "≥ 0 days")
            )
        if value is None or value < 0:
            problems.append(
                FieldProblem(
                    f"effector_data row {i} column value",
                    table["value"].iloc[i],
                    "must be a finite number ≥ 0 in the state's unit",
                )
            )
        if not problems:
            rows.append((day, state, value))
    if problems:
        raise ValidationError(problems)
    return pd.DataFrame(
        {
            "day": pd.Series([r[0] for r in rows], dtype=np.float64),
            "date": pd.Series([None] * len(rows), dtype=object),
            "state": pd.Series([r[1] for r in rows], dtype=object),
            "measure": pd.Series(["effector"] * len(rows), dtype=object),
            "value": pd.Series([r[2] for r in rows], dtype=np.float64),
        }
    )


# --- the objective ------------------------------------------------------------------------


@dataclass
class _Problem:
    """Residuals of many log10 parameter vectors at once (one batched simulation)."""

    model: Model
    names: tuple[str, ...]
    fixed: dict[str, float]
    regimen: Regimen | None
    initial: dict[str, float]
    observed_index: int
    time_index: IntArray
    state_index: IntArray
    obs_log10: Array
    times: Array
    floor: float
    centre: Array
    sd: Array
    use_priors: bool
    method: str | None
    sigma: float
    n_vectors: int = 0
    n_calls: int = 0
    _memo: tuple[bytes, Array] | None = None

    def model_log10(self, x: Array, y0: Array | None = None) -> Array:
        """log10 of the simulated observations ``[n_vectors, n_obs]`` (NaN where it failed)."""
        n = x.shape[0]
        key = np.ascontiguousarray(x, dtype=np.float64).tobytes()
        if y0 is None and self._memo is not None and self._memo[0] == key:
            return self._memo[1].copy()  # the same vectors as the last call (e.g. at the optimum)
        # every column has one value per vector (simulate does not broadcast parameters)
        params: dict[str, Array] = {k: np.full(n, v) for k, v in self.fixed.items()}
        for j, name in enumerate(self.names):
            params[name] = 10.0 ** x[:, j]
        init: dict[str, Array] = {k: np.full(n, v) for k, v in self.initial.items()}
        if y0 is not None:
            init[self.model.states[self.observed_index].name] = np.asarray(y0, dtype=np.float64)
        tr = simulate(
            self.model,
            t_end=float(self.times[-1]),
            regimen=self.regimen,
            params=params,
            initial=init,
            t_eval=self.times,
            method=self.method,  # type: ignore[arg-type]
            rtol=_RTOL,
            atol=_ATOL,
        )
        self.n_vectors += n
        self.n_calls += 1
        values = tr.y[:, self.time_index, self.state_index]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.log10(np.maximum(values, self.floor))
        out[~tr.ok] = np.nan
        if y0 is None:
            self._memo = (key, np.asarray(out).copy())
        return np.asarray(out)

    def residuals(
        self,
        x: Array,
        members: IntArray | None = None,
        *,
        obs: Array | None = None,
        y0: Array | None = None,
    ) -> Array:
        """σ-scaled data residuals, then prior residuals: ``[n_vectors, n_obs (+ k)]``.

        ``obs`` (``[n_members, n_obs]``) and ``y0`` (``[n_members]``) replace the data per batch
        member (bootstrap); ``members`` says which member each row of ``x`` belongs to.
        """
        rows = np.zeros(x.shape[0], np.intp) if members is None else members
        observed = self.obs_log10[None, :] if obs is None else obs[rows]
        m = self.model_log10(x, None if y0 is None else y0[rows])
        data = (m - observed) / self.sigma
        data[~np.isfinite(data)] = _FAIL_RESIDUAL_LOG10 / self.sigma
        if not self.use_priors:
            return np.asarray(data)
        prior = (x - self.centre[None, :]) / self.sd[None, :]
        return np.concatenate([data, prior], axis=1)

    def prior_terms(self, x: Array) -> Array:
        """Squared prior residual of each parameter ``[n, k]`` (zeros without priors)."""
        if not self.use_priors:
            return np.zeros_like(x)
        return np.asarray(((x - self.centre[None, :]) / self.sd[None, :]) ** 2)


def _sigma_hat(rss: float, n: int, k: int) -> float:
    """``σ̂ = √(RSS/(n − k))`` (decades), at least :data:`_SIGMA_FLOOR_LOG10`."""
    return max(math.sqrt(rss / max(n - k, 1)), _SIGMA_FLOOR_LOG10)


def _fd_jacobian(
    fun: ResidualFn, x: Array, members: IntArray, free: npt.NDArray[np.bool_]
) -> Array:
    """Central-difference Jacobians ``[n, n_res, m]`` of many members in one batched call."""
    n, m = x.shape
    who, col = np.nonzero(free)
    rows = np.concatenate([x[who], x[who]])
    offs = np.arange(who.size)
    rows[offs, col] += _FD_STEP_LOG10
    rows[who.size + offs, col] -= _FD_STEP_LOG10
    r = fun(rows, np.concatenate([members[who], members[who]]))
    jac = np.zeros((n, r.shape[1], m))
    jac[who, :, col] = (r[: who.size] - r[who.size :]) / (2 * _FD_STEP_LOG10)
    return jac


def _multistart(problem: _Problem, lo: Array, hi: Array, n_starts: int) -> Array:
    """The start of the local fit: best of a Halton screen of ±2 sd, polished by a batched LM."""
    k = lo.size
    centre = np.clip(problem.centre, lo, hi)
    if n_starts <= 1:
        return centre
    halton = qmc.Halton(d=k, scramble=False)
    halton.fast_forward(1)
    u = np.asarray(halton.random(n_starts - 1), dtype=np.float64)
    width = 2.0 * problem.sd
    cand = np.vstack([centre, np.clip(centre + (2 * u - 1) * width, lo, hi)])
    cost = np.sum(problem.residuals(cand) ** 2, axis=1)
    best = cand[np.argsort(cost)[: min(3, len(cand))]]
    free = np.ones(best.shape, dtype=bool)
    x, cost_b, _ = _batched_lm(
        lambda xx, mm: problem.residuals(xx),
        best,
        lo,
        hi,
        free,
        max_iter=15,
        tol=1e-3,
        prune=True,
    )
    return np.asarray(x[int(np.argmin(cost_b))])


def _fit(
    problem: _Problem, lo: Array, hi: Array, n_starts: int, *, estimate_sigma: bool
) -> tuple[Array, Any]:
    """MAP: batched multi-start, σ settled by batched LM, then polished by least_squares (TRF)."""
    x = _multistart(problem, lo, hi, n_starts)
    k = lo.size
    one = np.zeros(1, np.intp)
    every = np.ones((1, k), dtype=bool)
    iterate_sigma = estimate_sigma and problem.use_priors  # σ does not move the ML optimum

    def settle(x: Array) -> bool:
        """Re-estimate σ at ``x``; whether it moved by more than 1%."""
        rss = float(np.sum((problem.model_log10(x[None, :])[0] - problem.obs_log10) ** 2))
        sigma = _sigma_hat(rss, problem.obs_log10.size, k)
        moved = abs(sigma / problem.sigma - 1.0) > 0.01
        problem.sigma = sigma
        return moved

    if iterate_sigma:
        for _ in range(5):
            if not settle(x):
                break
            x = _batched_lm(
                lambda xx, mm: problem.residuals(xx), x[None, :], lo, hi, every, tol=1e-6
            )[0][0]

    def fun(x: Array) -> Array:
        return np.asarray(problem.residuals(x[None, :])[0])

    def jac(x: Array) -> Array:
        return np.asarray(_fd_jacobian(problem.residuals, x[None, :], one, every)[0])

    result: Any = None
    for _ in range(3):
        result = least_squares(
            fun,
            np.clip(x, lo, hi),
            jac=jac,
            bounds=(lo, hi),
            method="trf",
            x_scale=1.0,
            ftol=1e-6,
            xtol=1e-6,
            gtol=1e-6,
            max_nfev=100,
        )
        x = np.asarray(result.x, dtype=np.float64)
        if not (iterate_sigma and settle(x)):
            break
    return x, result


def _eigen_inverse(info: Array) -> tuple[Array, Array]:
    """Inverse of a symmetric information matrix; variance ``inf`` along null directions."""
    w, v = np.linalg.eigh(info)
    tol = max(float(w.max(initial=0.0)), 1e-300) * 1e-10
    null = w <= tol
    inv_w = np.where(null, 0.0, 1.0 / np.where(null, 1.0, w))
    cov = (v * inv_w) @ v.T
    var = np.diag(cov).copy()
    touched = np.any(np.abs(v[:, null]) > 1e-6, axis=1) if null.any() else np.zeros(len(w), bool)
    var[touched] = np.inf
    return cov, var


def _laplace(jac: Array) -> tuple[Array, Array, bool]:
    """Covariance (regularised where singular), standard errors and whether it was singular."""
    info = jac.T @ jac
    cov, var = _eigen_inverse(info)
    singular = bool(np.any(~np.isfinite(var)))
    if singular:
        cov = np.asarray(
            np.linalg.inv(info + np.eye(len(info)) / DEFAULT_PRIOR_SD_LOG10**2), dtype=np.float64
        )
    return cov, np.sqrt(var), singular


# --- batched Levenberg–Marquardt -----------------------------------------------------------


def _batched_lm(
    fun: ResidualFn,
    x0: Array,
    lo: Array,
    hi: Array,
    free: npt.NDArray[np.bool_],
    *,
    max_iter: int = 50,
    tol: float = 1e-4,
    prune: bool = False,
) -> tuple[Array, Array, Array]:
    """Minimise ``Σ fun(x)²`` for many members at once (bounded Levenberg–Marquardt).

    Marquardt's damped Gauss–Newton step (Marquardt DW. J Soc Ind Appl Math 1963;11(2):431–441,
    doi:10.1137/0111030), projected onto the bounds with an active set; each iteration simulates
    the Jacobians of all members needing one and the trial points of all active members in two
    batched calls. ``free`` marks the coordinates each member may move; a member stops when a
    step gains less than ``tol`` (objective units: 1e-4 is far below the 3.84 of an interval).
    With ``prune`` (competing starts of one problem) a member stops once even its full
    Gauss–Newton decrease, doubled, would leave it above the best member by more than χ²₁,₀.₉₅.
    Returns ``x``, the costs and the residuals.
    """
    b, m = x0.shape
    members = np.arange(b, dtype=np.intp)
    x = np.clip(x0, lo, hi)
    r = fun(x, members)
    cost = np.sum(r**2, axis=1)
    lam = np.full(b, 1e-3)
    done: npt.NDArray[np.bool_] = np.asarray(~free.any(axis=1), dtype=bool)
    jac = np.zeros((b, r.shape[1], m))
    need: npt.NDArray[np.bool_] = ~done
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        nj = act[need[act]]
        if nj.size:
            jac[nj] = _fd_jacobian(fun, x[nj], nj, free[nj])
            need[nj] = False
        j_a, r_a = jac[act], r[act]
        a = np.einsum("bri,brj->bij", j_a, j_a)
        g = np.einsum("bri,br->bi", j_a, r_a)
        mask = free[act].copy()
        step = _lm_step(a, g, lam[act], mask)
        # active set: a coordinate on a bound whose step would leave the box is held this time
        xa = x[act]
        leave = ((xa <= lo + 1e-12) & (step < 0)) | ((xa >= hi - 1e-12) & (step > 0))
        if leave.any():
            mask &= ~leave
            step = _lm_step(a, g, lam[act], mask)
        # the Gauss–Newton decrement gᵀA⁻¹g is the most the quadratic model can still gain:
        # below tol the member has converged (trial steps would only probe integration noise)
        newton = _lm_step(a, g, np.full(act.size, 1e-12), mask)
        decrement = -np.einsum("bi,bi->b", g, newton)
        flat = decrement < tol
        if prune:
            flat |= cost[act] - 2.0 * decrement > cost.min() + CHI2_1_95
        if flat.any():
            done[act[flat]] = True
            act, step, xa = act[~flat], step[~flat], xa[~flat]
            if act.size == 0:
                break
        big = np.max(np.abs(step), axis=1, initial=0.0)
        step *= np.minimum(1.0, 1.0 / np.maximum(big, 1e-300))[:, None]  # ≤ 1 decade a step
        x_new = np.clip(xa + step, lo, hi)
        r_new = fun(x_new, act)
        cost_new = np.sum(r_new**2, axis=1)
        accept = np.isfinite(cost_new) & (cost_new < cost[act])
        gain = np.where(accept, cost[act] - cost_new, 0.0)
        ok = act[accept]
        x[ok], r[ok], cost[ok] = x_new[accept], r_new[accept], cost_new[accept]
        need[ok] = True
        lam[act] = np.where(accept, np.maximum(lam[act] / 3.0, 1e-9), lam[act] * 4.0)
        small = accept & (gain < tol)
        done[act[small]] = True
        done[act[~accept & (lam[act] > 1e10)]] = True
    return x, cost, r


def _lm_step(a: Array, g: Array, lam: Array, mask: npt.NDArray[np.bool_]) -> Array:
    """``−(A + λ·diag(A))⁻¹ g`` on the masked coordinates (others 0), for a batch."""
    m = g.shape[1]
    keep = mask[:, :, None] & mask[:, None, :]
    a = np.where(keep, a, 0.0)
    d = np.einsum("bii->bi", a)
    scale = np.maximum(d, 1e-12 * np.maximum(d.max(axis=1, keepdims=True), 1e-300))
    damp = np.where(mask, lam[:, None] * scale + 1e-12, 1.0)
    idx = np.arange(m)
    a = a.copy()
    a[:, idx, idx] += damp
    gm = np.where(mask, g, 0.0)
    step = -np.linalg.solve(a, gm[:, :, None])[:, :, 0]
    return np.where(mask, step, 0.0)


# --- uncertainty ---------------------------------------------------------------------------


def _profile(
    problem: _Problem, xhat: Array, lo: Array, hi: Array, se: Array
) -> tuple[Array, npt.NDArray[np.bool_], pd.DataFrame]:
    """Profile-likelihood 95% intervals (log10) of every fitted parameter, batched.

    Every side of every parameter walks outward in stages (near the estimate, guided by the
    Laplace standard error; then +1, +3 decades; then to the bound), each stage one batched
    re-optimisation of all sides that have not yet risen by χ²₁,₀.₉₅, warm-started from the
    side's last point. Extreme parameter values (slow, stiff integrations) are thus only
    simulated for sides the data do not bound.
    """
    k = xhat.size
    total = np.sum(problem.residuals(xhat[None, :]) ** 2, axis=1)[0]
    pl_hat = total - problem.prior_terms(xhat[None, :])[0]
    ref = pl_hat.copy()
    # side → list of (distance, profile objective, optimised point); distance 0 = the estimate
    walks: dict[tuple[int, int], list[tuple[float, float, Array]]] = {
        (i, side): [(0.0, float(pl_hat[i]), xhat)] for i in range(k) for side in (-1, 1)
    }
    room = {(i, side): float(xhat[i] - lo[i] if side < 0 else hi[i] - xhat[i]) for i, side in walks}
    records: list[dict[str, Any]] = []
    for stage in range(4):
        plan: list[tuple[int, int, float]] = []
        starts: list[Array] = []
        for (i, side), pts in walks.items():
            last = pts[-1][0]
            if room[i, side] - last <= 1e-9 or max(p[1] for p in pts) - ref[i] >= CHI2_1_95:
                continue
            for d in _stage_distances(stage, last, room[i, side], float(se[i])):
                plan.append((i, side, d))
                starts.append(pts[-1][2])
        if not plan:
            continue
        x_new, pl_new = _profile_points(problem, xhat, lo, hi, plan, np.array(starts))
        for n_pt, (i, side, d) in enumerate(plan):
            walks[i, side].append((d, float(pl_new[n_pt]), x_new[n_pt]))
            ref[i] = min(ref[i], pl_new[n_pt])
    intervals = np.empty((k, 2))
    ident = np.ones(k, dtype=bool)
    brackets: list[tuple[int, int, float, float, float, float, Array]] = []
    for (i, side), pts in walks.items():
        for d, value, _ in pts[1:]:
            records.append(_record(problem, i, xhat[i] + side * d, value - ref[i], side, "grid"))
        deltas = [value - ref[i] for _, value, _ in pts]
        cross = next((n for n, v in enumerate(deltas) if v >= CHI2_1_95), None)
        if cross is None or cross == 0:
            # never rises by 3.84 within the bounds (or starts above it: degenerate)
            intervals[i, 0 if side < 0 else 1] = lo[i] if side < 0 else hi[i]
            ident[i] = False
            continue
        (d_a, _, x_a), (d_b, _, _) = pts[cross - 1], pts[cross]
        brackets.append((i, side, d_a, deltas[cross - 1], d_b, deltas[cross], x_a))
    # refine every bracket twice: interpolate on √Δ, re-profile there, re-bracket
    for _round in range(2):
        if not brackets:
            break
        plan_r = [
            (i, side, _interp(d_a, v_a, d_b, v_b)) for i, side, d_a, v_a, d_b, v_b, _ in brackets
        ]
        starts_r = np.array([br[6] for br in brackets])
        x_new, pl_new = _profile_points(problem, xhat, lo, hi, plan_r, starts_r)
        updated = []
        for n_pt, (i, side, d_a, v_a, d_b, v_b, x_a) in enumerate(brackets):
            d_c, v_c = plan_r[n_pt][2], float(pl_new[n_pt] - ref[i])
            records.append(_record(problem, i, xhat[i] + side * d_c, v_c, side, "refine"))
            if v_c < CHI2_1_95:
                updated.append((i, side, d_c, v_c, d_b, v_b, x_new[n_pt]))
            else:
                updated.append((i, side, d_a, v_a, d_c, v_c, x_a))
        brackets = updated
    for i, side, d_a, v_a, d_b, v_b, _ in brackets:
        d = _interp(d_a, v_a, d_b, v_b)
        intervals[i, 0 if side < 0 else 1] = xhat[i] + side * d
    frame = pd.DataFrame(
        records,
        columns=["parameter", "value", "log10_value", "delta_objective", "side", "stage"],
    )
    return intervals, ident, frame.sort_values(["parameter", "log10_value"], ignore_index=True)


def _stage_distances(stage: int, last: float, room: float, se: float) -> list[float]:
    """Distances (decades from the estimate) of one outward stage of a profile walk."""
    if stage == 0:
        if not (math.isfinite(se) and se > 0):
            return []
        return [se * z for z in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5) if se * z < room]
    reach = {1: last + 1.0, 2: last + 3.0}.get(stage, room)
    end = min(reach, room)
    return [last + (end - last) * f for f in (1 / 3, 2 / 3, 1.0)]


def _interp(d_a: float, v_a: float, d_b: float, v_b: float) -> float:
    """Distance where Δ reaches χ²₁,₀.₉₅, linear in √Δ between two profile points."""
    s_a, s_b, s_c = math.sqrt(max(v_a, 0.0)), math.sqrt(max(v_b, 0.0)), math.sqrt(CHI2_1_95)
    if s_b - s_a <= 1e-12:
        return d_b
    return d_a + (d_b - d_a) * min(max((s_c - s_a) / (s_b - s_a), 0.0), 1.0)


def _profile_points(
    problem: _Problem,
    xhat: Array,
    lo: Array,
    hi: Array,
    plan: Sequence[tuple[int, int, float]],
    starts: Array,
) -> tuple[Array, Array]:
    """Re-optimise the other parameters at every (parameter, side, distance) in one batch.

    Returns the optimised points and the profile objective (total less the profiled parameter's
    own prior term).
    """
    k = xhat.size
    if not plan:
        return np.zeros((0, k)), np.zeros(0)
    x0 = np.array(starts, dtype=np.float64)
    free = np.ones_like(x0, dtype=bool)
    for n_pt, (i, side, d) in enumerate(plan):
        x0[n_pt, i] = np.clip(xhat[i] + side * d, lo[i], hi[i])
        free[n_pt, i] = False
    x, cost, _ = _batched_lm(lambda xx, mm: problem.residuals(xx), x0, lo, hi, free)
    own = problem.prior_terms(x)[np.arange(len(plan)), [p[0] for p in plan]]
    return x, cost - own


def _record(
    problem: _Problem, i: int, x_i: float, delta: float, side: int, stage: str
) -> dict[str, Any]:
    return {
        "parameter": problem.names[i],
        "value": 10.0**x_i,
        "log10_value": x_i,
        "delta_objective": delta,
        "side": "low" if side < 0 else "high",
        "stage": stage,
    }


def _bootstrap(
    problem: _Problem,
    xhat: Array,
    lo: Array,
    hi: Array,
    fitted_log10: Array,
    y0: float | None,
    n_boot: int,
    seed: int,
) -> tuple[Array, npt.NDArray[np.bool_], pd.DataFrame]:
    """Parametric bootstrap: refit ``n_boot`` noisy copies of the fitted curve in one batch."""
    rng = np.random.default_rng(seed)
    sigma = problem.sigma
    noise = rng.normal(0.0, sigma, size=(n_boot, fitted_log10.size))
    obs = np.maximum(fitted_log10[None, :] + noise, math.log10(problem.floor))
    y0_b = None
    if y0 is not None:
        y0_b = 10.0 ** (math.log10(max(y0, problem.floor)) + rng.normal(0.0, sigma, n_boot))

    def fun(x: Array, members: IntArray) -> Array:
        return problem.residuals(x, members, obs=obs, y0=y0_b)

    x0 = np.tile(xhat, (n_boot, 1))
    x, cost, _ = _batched_lm(fun, x0, lo, hi, np.ones_like(x0, dtype=bool))
    intervals = np.percentile(x, [2.5, 97.5], axis=0).T
    near = (x <= lo + 1e-3) | (x >= hi - 1e-3)
    touch = near.mean(axis=0) > 0.025
    intervals[:, 0] = np.where(touch & (intervals[:, 0] <= lo + 1e-3), lo, intervals[:, 0])
    intervals[:, 1] = np.where(touch & (intervals[:, 1] >= hi - 1e-3), hi, intervals[:, 1])
    frame = pd.DataFrame(10.0**x, columns=list(problem.names))
    frame.insert(0, "replicate", np.arange(n_boot))
    frame["objective"] = cost
    return intervals, touch, frame
