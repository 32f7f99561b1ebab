"""Calibration of predicted response probabilities: bins, logistic recalibration, Brier score.

A model is calibrated when, among patients given probability p, a fraction p responds. Three
views of that, as recommended by Van Calster et al. (2019, BMC Med 17:230,
doi:10.1186/s12916-019-1466-7):

- **bins** (a calibration plot): patients sorted by predicted probability and cut into groups of
  equal size; each group's mean prediction beside its observed response rate with the exact
  Clopper–Pearson interval (Clopper & Pearson 1934, Biometrika 26:404);
- **logistic recalibration** (Cox 1958, Biometrika 45:562, doi:10.2307/2333203):
  logit P(response) = a + b·logit(p). The *calibration slope* is b of that fit (1 = ideal, < 1 =
  predictions too extreme); the *calibration intercept* ("calibration-in-the-large") is a with the
  slope fixed at 1, i.e. logit(p) as an offset (0 = ideal, > 0 = probabilities too low on
  average). Maximum likelihood with :func:`scipy.optimize.minimize` (exact gradient and Hessian),
  Wald CIs from the observed information;
- the **Brier score** (Brier 1950, Mon Weather Rev 78:1): mean squared error of the probability.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import optimize, stats

from immunoprecise.cohort.response import clopper_pearson
from immunoprecise.cohort.roc import _outcome_scores
from immunoprecise.cohort.statistic import Statistic, check_ci_level
from immunoprecise.errors import CohortError

__all__ = ["Calibration", "CalibrationBin", "calibration"]

Float = npt.NDArray[np.float64]
_EPS = 1e-10  # probabilities are kept within [eps, 1 − eps] before the logit
COX_REFERENCE = "Cox 1958, Biometrika 45:562, doi:10.2307/2333203"


class CalibrationBin(BaseModel):
    """One group of patients with similar predicted probabilities.

    Attributes
    ----------
    low, high
        Smallest and largest predicted probability in the group.
    mean_predicted
        Mean predicted probability of the group.
    observed
        Observed response rate with its Clopper–Pearson CI (``n`` = patients in the group).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float
    high: float
    mean_predicted: float
    observed: Statistic

    @property
    def n(self) -> int:
        """Patients in the group."""
        return self.observed.n


class Calibration(BaseModel):
    """Calibration of predicted probabilities against observed responses.

    Attributes
    ----------
    bins
        Groups of equal size, by increasing predicted probability.
    intercept
        Calibration intercept (calibration-in-the-large, slope fixed at 1); ideal 0; ``p_value``
        tests intercept = 0.
    slope
        Calibration slope of the logistic recalibration; ideal 1; ``p_value`` tests slope = 1.
    brier
        Brier score (0 = perfect; 0.25 = always predicting ½) with a normal-approximation CI.
    n, n_responders
        Patients and responders.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bins: tuple[CalibrationBin, ...]
    intercept: Statistic
    slope: Statistic
    brier: Statistic
    n: int
    n_responders: int


def calibration(
    outcome: npt.ArrayLike | pd.Series,
    probability: npt.ArrayLike | pd.Series,
    *,
    bins: int = 10,
    ci_level: float = 0.95,
) -> Calibration:
    """Assess how well predicted response probabilities match observed response.

    Parameters
    ----------
    outcome
        1 responder / 0 non-responder, one per patient (a ``pandas.Series`` indexed by patient
        lets errors name the patient).
    probability
        Predicted probability of response of each patient, within [0, 1] (a ``Series`` beside a
        ``Series`` outcome is paired by patient index, not position). Values of exactly 0
        or 1 are moved to 1e-10 / 1 − 1e-10 before the logit.
    bins
        Number of groups of (nearly) equal size for the calibration plot (deciles by default;
        fewer when there are fewer patients).
    ci_level
        Coverage of every interval.

    Returns
    -------
    Calibration
        Bins with observed rates and Clopper–Pearson CIs; calibration intercept and slope with
        Wald CIs; Brier score.

    Raises
    ------
    CohortError
        A probability outside [0, 1] (naming the patient), an outcome not 0/1, only one class,
        ``bins`` < 1, or outcomes perfectly separated by the probability (no finite slope).

    References
    ----------
    Cox DR. Biometrika 1958;45:562–565. Van Calster B et al. BMC Med 2019;17:230.
    Clopper CJ, Pearson ES. Biometrika 1934;26:404–413. Brier GW. Mon Weather Rev 1950;78:1–3.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 2000)
    >>> y = (rng.uniform(size=2000) < p).astype(int)
    >>> cal = calibration(y, p)
    >>> len(cal.bins), cal.bins[0].n
    (10, 200)
    >>> s, a = cal.slope, cal.intercept
    >>> bool(s.ci_low < 1 < s.ci_high), bool(a.ci_low < 0 < a.ci_high)
    (True, True)
    """
    check_ci_level(ci_level)
    if bins < 1:
        raise CohortError(f"bins must be at least 1; got {bins}")
    series = probability if isinstance(probability, pd.Series) else None
    y, x = _outcome_scores(outcome, {"probability": probability})
    p = x[0]
    outside = (p < 0) | (p > 1)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        who = f"patient {series.index[i]}" if series is not None else f"patient at position {i}"
        raise CohortError(
            f"{who}: probability = {p[i]:g} is outside [0, 1]; calibration needs predicted "
            "probabilities (a score on another scale has no calibration, only an AUC)"
        )
    z = float(stats.norm.ppf(0.5 + ci_level / 2))
    lp = _logit(np.clip(p, _EPS, 1 - _EPS))
    ones = np.ones_like(lp)
    # calibration-in-the-large: intercept alone, logit(p) as offset
    (a,), cov_a = _logistic(ones[:, None], y, offset=lp)
    se_a = math.sqrt(cov_a[0, 0])
    # calibration slope: intercept and slope of logit(p); no finite estimate when the classes
    # do not overlap (complete or quasi-complete separation, Albert & Anderson 1984)
    pos, neg = lp[y == 1], lp[y == 0]
    if float(np.ptp(lp)) == 0.0:  # nothing to regress on: not separation, no slope at all
        raise CohortError(
            f"every patient has the same predicted probability ({p[0]:g}), so the calibration "
            "slope is undefined; calibration needs predicted probabilities that vary"
        )
    if neg.max() <= pos.min() or pos.max() <= neg.min():
        raise CohortError(
            "the predicted probabilities separate responders from non-responders completely, "
            "so the calibration slope has no finite estimate; calibration needs responders and "
            "non-responders with overlapping predictions"
        )
    (_, b), cov_b = _logistic(np.column_stack([ones, lp]), y, offset=np.zeros_like(lp))
    se_b = math.sqrt(cov_b[1, 1])
    intercept = Statistic(
        name="calibration intercept",
        estimate=a,
        ci_low=a - z * se_a,
        ci_high=a + z * se_a,
        ci_level=ci_level,
        n=int(y.size),
        method="logistic recalibration, slope fixed at 1 (logit p as offset); Wald CI; "
        "p for intercept = 0",
        p_value=float(2 * stats.norm.sf(abs(a) / se_a)),
        unit="log odds",
        reference=COX_REFERENCE,
    )
    slope = Statistic(
        name="calibration slope",
        estimate=b,
        ci_low=b - z * se_b,
        ci_high=b + z * se_b,
        ci_level=ci_level,
        n=int(y.size),
        method="logistic recalibration on logit p (Cox 1958); Wald CI; p for slope = 1",
        p_value=float(2 * stats.norm.sf(abs(b - 1.0) / se_b)),
        reference=COX_REFERENCE,
    )
    sq = (p - y) ** 2
    brier_mean = float(sq.mean())
    brier_se = float(sq.std(ddof=1) / math.sqrt(sq.size)) if sq.size > 1 else 0.0
    brier = Statistic(
        name="Brier score",
        estimate=brier_mean,
        ci_low=max(0.0, brier_mean - z * brier_se),
        ci_high=min(1.0, brier_mean + z * brier_se),
        ci_level=ci_level,
        n=int(y.size),
        method="mean squared error of the predicted probability; normal-approximation CI",
        reference="Brier 1950, Mon Weather Rev 78:1",
    )
    order = np.argsort(p, kind="stable")
    groups = [g for g in np.array_split(order, min(bins, y.size)) if g.size]
    return Calibration(
        bins=tuple(
            CalibrationBin(
                low=float(p[g].min()),
                high=float(p[g].max()),
                mean_predicted=float(p[g].mean()),
                observed=clopper_pearson(
                    int(y[g].sum()), int(g.size), ci_level=ci_level, name="observed response rate"
                ),
            )
            for g in groups
        ),
        intercept=intercept,
        slope=slope,
        brier=brier,
        n=int(y.size),
        n_responders=int(y.sum()),
    )


def _logit(p: Float) -> Float:
    return np.asarray(np.log(p) - np.log1p(-p), dtype=float)


def _logistic(
    design: Float, y: npt.NDArray[np.int8], *, offset: Float
) -> tuple[list[float], Float]:
    """Maximum-likelihood logistic regression; returns coefficients and their covariance."""

    def eta(beta: Float) -> Float:
        return np.asarray(design @ beta + offset, dtype=float)

    def nll(beta: Float) -> float:
        e = eta(beta)
        return float(np.sum(np.logaddexp(0.0, e) - y * e))

    def grad(beta: Float) -> Float:
        return np.asarray(design.T @ (stats.logistic.cdf(eta(beta)) - y), dtype=float)

    def hess(beta: Float) -> Float:
        mu = stats.logistic.cdf(eta(beta))
        return np.asarray((design * (mu * (1 - mu))[:, None]).T @ design, dtype=float)

    fit = optimize.minimize(
        nll, np.zeros(design.shape[1]), jac=grad, hess=hess, method="trust-exact"
    )
    beta = np.asarray(fit.x, dtype=float)
    info = hess(beta)
    finite = bool(np.all(np.isfinite(beta)) and np.all(np.abs(beta) < 30))
    if not (fit.success and finite and np.linalg.cond(info) < 1e12):
        raise CohortError(
            "the logistic recalibration did not converge to a finite estimate (responders and "
            "non-responders nearly separated by the predicted probability); calibration needs "
            "overlapping predictions in both classes"
        )
    return [float(v) for v in beta], np.asarray(np.linalg.inv(info), dtype=float)
