"""ROC analysis of one score or two paired scores: AUC with DeLong CI, curve, DeLong test.

The AUC is the Mann–Whitney statistic: the probability that a responder's score is above a
non-responder's, ties counting ½ (Bamber 1975, J Math Psychol 12:387; Hanley & McNeil 1982,
Radiology 143:29). Its variance, and the covariance of two AUCs on the same patients, are DeLong's
(DeLong, DeLong & Clarke-Pearson 1988, Biometrics 44:837, doi:10.2307/2531595) from the
structural components, computed from mid-ranks in O(N log N) as Sun & Xu describe (2014, IEEE
Signal Process Lett 21:1389, doi:10.1109/LSP.2014.2337313).

Higher scores are taken to mean response; the direction is never chosen from the data (choosing
it biases the AUC upwards). The CI is computed on the logit scale by default: the AUC's sampling
distribution is skewed near 0 and 1, and the plain Wald interval (pROC's default, clipped to
[0, 1]) then covers poorly in small samples (Qin & Hotilovac 2008, Stat Methods Med Res 17:207,
doi:10.1177/0962280207087173; Pepe 2003, *The Statistical Evaluation of Medical Tests*, §5.2).
The logit interval always lies within (0, 1); ``scale="plain"`` gives pROC's interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import stats

from immunoprecise.cohort.statistic import Statistic, check_ci_level
from immunoprecise.errors import CohortError

__all__ = [
    "DELONG_REFERENCE",
    "RocCurve",
    "delong_test",
    "roc_auc",
    "roc_curve",
]

CiScale = Literal["logit", "plain"]
Float = npt.NDArray[np.float64]

DELONG_REFERENCE = (
    "DeLong, DeLong & Clarke-Pearson 1988, Biometrics 44:837, doi:10.2307/2531595; "
    "Sun & Xu 2014, IEEE Signal Process Lett 21:1389, doi:10.1109/LSP.2014.2337313"
)
_LOGIT_REFERENCE = "; logit-scale CI: Qin & Hotilovac 2008, Stat Methods Med Res 17:207"


class RocCurve(BaseModel):
    """An empirical ROC curve with its AUC.

    Attributes
    ----------
    name
        The score's name (legend label).
    fpr, tpr
        False- and true-positive rates (1 − specificity, sensitivity) at each threshold, from
        (0, 0) to (1, 1).
    thresholds
        Score thresholds, descending: a patient is called a responder when ``score >= threshold``
        (the first is ``inf``: nobody called).
    auc
        The AUC with its DeLong CI (:func:`roc_auc`).
    n_responders, n_non_responders
        Patients in each class.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    thresholds: tuple[float, ...]
    auc: Statistic
    n_responders: int
    n_non_responders: int


def roc_auc(
    outcome: npt.ArrayLike | pd.Series,
    score: npt.ArrayLike | pd.Series,
    *,
    ci_level: float = 0.95,
    name: str = "AUC",
    scale: CiScale = "logit",
) -> Statistic:
    """Area under the ROC curve of ``score`` for ``outcome``, with its DeLong confidence interval.

    Parameters
    ----------
    outcome
        1 (or ``True``) for a responder, 0 for a non-responder, one per patient. A
        ``pandas.Series`` indexed by patient lets errors name the patient.
    score
        The predictor, higher = more likely to respond; finite numbers, same length. When both
        ``outcome`` and ``score`` are ``pandas.Series``, they are paired by patient index, not
        by position (different patients are refused); arrays are paired by position.
    ci_level
        Coverage of the interval (0.95 for 95%).
    name
        Name of the statistic (e.g. the predictor's name).
    scale
        ``"logit"`` (default): Wald interval for logit(AUC) with the delta-method standard error
        SE/(AUC·(1 − AUC)), transformed back; ``"plain"``: AUC ± z·SE clipped to [0, 1] (pROC).
        Where AUC is 0 or 1 the logit is undefined and the plain interval is given.

    Returns
    -------
    Statistic
        ``estimate`` = AUC (fraction, 0.5 = chance), CI, ``n`` = patients. Without a second
        responder or non-responder the variance is not estimable and the CI is ``None``.

    Raises
    ------
    CohortError
        Lengths differ, an outcome that is not 0/1, a missing or infinite score, or no
        responder or no non-responder.

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL. Biometrics 1988;44:837–845. Sun X, Xu W. IEEE Signal
    Process Lett 2014;21:1389–1393. Qin G, Hotilovac L. Stat Methods Med Res 2008;17:207–221.

    Examples
    --------
    >>> auc = roc_auc([1, 1, 1, 0, 0, 0], [0.9, 0.8, 0.4, 0.5, 0.2, 0.1], name="score")
    >>> round(auc.estimate, 3), auc.n
    (0.889, 6)
    >>> print(auc)
    score 0.889 (95% CI 0.261–0.995; n=6; Mann–Whitney AUC, DeLong variance, logit-scale CI)
    """
    check_ci_level(ci_level)
    y, x = _outcome_scores(outcome, {name: score})
    return _auc_statistics(y, x, ci_level=ci_level, names=[name], scale=scale)[0]


def roc_curve(
    outcome: npt.ArrayLike | pd.Series,
    score: npt.ArrayLike | pd.Series,
    *,
    name: str = "AUC",
    ci_level: float = 0.95,
    scale: CiScale = "logit",
) -> RocCurve:
    """The empirical ROC curve of ``score`` for ``outcome``, with the AUC and its DeLong CI.

    Parameters
    ----------
    outcome, score
        As for :func:`roc_auc`.
    name
        Name of the score (legend label and the AUC's name).
    ci_level, scale
        Interval of the AUC, as for :func:`roc_auc`.

    Returns
    -------
    RocCurve
        One point per distinct score (calling ``score >= threshold`` a responder), plus (0, 0).

    Examples
    --------
    >>> curve = roc_curve([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1], name="s")
    >>> curve.fpr, curve.tpr
    ((0.0, 0.0, 0.5, 0.5, 1.0), (0.0, 0.5, 0.5, 1.0, 1.0))
    >>> curve.auc.estimate
    0.75
    """
    check_ci_level(ci_level)
    y, x = _outcome_scores(outcome, {name: score})
    auc = _auc_statistics(y, x, ci_level=ci_level, names=[name], scale=scale)[0]
    s = x[0]
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    thresholds = np.unique(s)[::-1]
    # patients with score >= t: those not strictly below t
    tpr = (pos.size - np.searchsorted(pos, thresholds, side="left")) / pos.size
    fpr = (neg.size - np.searchsorted(neg, thresholds, side="left")) / neg.size
    return RocCurve(
        name=name,
        fpr=(0.0, *(float(v) for v in fpr)),
        tpr=(0.0, *(float(v) for v in tpr)),
        thresholds=(math.inf, *(float(v) for v in thresholds)),
        auc=auc,
        n_responders=int(pos.size),
        n_non_responders=int(neg.size),
    )


def delong_test(
    outcome: npt.ArrayLike | pd.Series,
    score_a: npt.ArrayLike | pd.Series,
    score_b: npt.ArrayLike | pd.Series,
    *,
    names: tuple[str, str] = ("a", "b"),
    ci_level: float = 0.95,
) -> Statistic:
    """Paired DeLong test of two correlated AUCs measured on the same patients.

    z = (AUC_a − AUC_b) / √(Var_a + Var_b − 2·Cov_ab), with the variances and covariance from the
    DeLong structural components; two-sided p from the standard normal.

    Parameters
    ----------
    outcome
        1 responder / 0 non-responder, one per patient.
    score_a, score_b
        The two predictors on the same patients, in the same order (higher = response);
        ``pandas.Series`` beside a ``Series`` outcome are paired by patient index.
    names
        Names of the two predictors, for the statistic's name.
    ci_level
        Coverage of the interval of the difference (Wald, clipped to [−1, 1]).

    Returns
    -------
    Statistic
        ``estimate`` = AUC_a − AUC_b with its CI, ``p_value``; the z statistic is in ``method``.
        Identical scores give difference 0 and p = 1.

    Raises
    ------
    CohortError
        As :func:`roc_auc`, or fewer than two responders or non-responders (no covariance).

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL. Biometrics 1988;44:837–845 (eq. 3 and the contrast
    L = (1, −1)).

    Examples
    --------
    >>> y = [1, 1, 1, 1, 0, 0, 0, 0]
    >>> test = delong_test(y, [8, 7, 6, 3, 4, 2, 1, 0], [5, 2, 6, 3, 4, 7, 1, 0], names=("A", "B"))
    >>> round(test.estimate, 4), round(test.p_value, 3)
    (0.3125, 0.202)
    >>> test.name
    'AUC difference (A − B)'
    """
    check_ci_level(ci_level)
    y, x = _outcome_scores(outcome, {names[0]: score_a, names[1]: score_b})
    m, n = int(y.sum()), int(y.size - y.sum())
    if m < 2 or n < 2:
        raise CohortError(
            f"the DeLong test needs at least 2 responders and 2 non-responders; got {m} and {n}"
        )
    auc, cov = delong_components(y, x)
    diff = float(auc[0] - auc[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(max(var, 0.0))
    z_crit = float(stats.norm.ppf(0.5 + ci_level / 2))
    if se > 0:
        z = diff / se
        p = float(2 * stats.norm.sf(abs(z)))
    else:  # both scores rank every pair the same way
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        p = 1.0 if diff == 0 else 0.0
    return Statistic(
        name=f"AUC difference ({names[0]} − {names[1]})",
        estimate=diff,
        ci_low=max(-1.0, diff - z_crit * se),
        ci_high=min(1.0, diff + z_crit * se),
        ci_level=ci_level,
        n=int(y.size),
        method=f"paired DeLong test for two correlated AUCs, z = {z:.3f}",
        p_value=min(1.0, p),
        unit="fraction",
        reference=DELONG_REFERENCE,
    )


def delong_components(y: npt.NDArray[np.int8], x: Float) -> tuple[Float, Float]:
    """AUCs and their DeLong covariance matrix for k scores (rows of ``x``) on the same patients.

    Mid-ranks give the structural components (Sun & Xu 2014, eqs. 7–9): for a responder i,
    V10_i = (T_Z(i) − T_X(i)) / n, the fraction of non-responders it outranks; for a
    non-responder j, V01_j = 1 − (T_Z(j) − T_Y(j)) / m. Then AUC = mean(V10) and
    Cov = S10/m + S01/n with S10, S01 the sample covariances (divisor m − 1, n − 1).

    Parameters
    ----------
    y
        0/1 outcome, one per patient (at least two of each for the covariance).
    x
        Scores, shape (k, patients).

    Returns
    -------
    tuple of numpy.ndarray
        The k AUCs and the k × k covariance matrix (NaN where a class has one patient).

    Examples
    --------
    >>> import numpy as np
    >>> auc, cov = delong_components(np.array([1, 1, 0, 0]), np.array([[0.9, 0.4, 0.5, 0.1]]))
    >>> float(auc[0]), round(float(cov[0, 0]), 5)
    (0.75, 0.125)
    """
    scores = np.atleast_2d(np.asarray(x, dtype=float))
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    tx = stats.rankdata(pos, axis=1)
    ty = stats.rankdata(neg, axis=1)
    tz = stats.rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    auc = v10.mean(axis=1)
    k = scores.shape[0]
    if m < 2 or n < 2:
        return auc, np.full((k, k), np.nan)
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return auc, cov


def _auc_statistics(
    y: npt.NDArray[np.int8],
    x: Float,
    *,
    ci_level: float,
    names: Sequence[str],
    scale: CiScale,
) -> list[Statistic]:
    if scale not in ("logit", "plain"):
        raise CohortError(f"scale must be 'logit' or 'plain'; got {scale!r}")
    auc, cov = delong_components(y, x)
    z = float(stats.norm.ppf(0.5 + ci_level / 2))
    out = []
    for i, name in enumerate(names):
        a, var = float(auc[i]), float(cov[i, i])
        low: float | None
        high: float | None
        if math.isnan(var):
            low = high = None
            how = "Mann–Whitney AUC (one responder or non-responder: no DeLong variance)"
        else:
            se = math.sqrt(max(var, 0.0))
            low, high, used = auc_interval(a, se, z, scale)
            how = f"Mann–Whitney AUC, DeLong variance, {used} CI"
        out.append(
            Statistic(
                name=name,
                estimate=a,
                ci_low=low,
                ci_high=high,
                ci_level=ci_level if low is not None else None,
                n=int(y.size),
                method=how,
                unit="fraction",
                reference=DELONG_REFERENCE + (_LOGIT_REFERENCE if "logit" in how else ""),
            )
        )
    return out


def auc_interval(auc: float, se: float, z: float, scale: CiScale) -> tuple[float, float, str]:
    """Wald interval of an AUC on the logit or plain scale; returns (low, high, scale used).

    Examples
    --------
    >>> low, high, used = auc_interval(0.8, 0.05, 1.959964, "logit")
    >>> round(low, 3), round(high, 3), used
    (0.684, 0.881, 'logit-scale')
    """
    if scale == "logit" and 0.0 < auc < 1.0:
        centre = math.log(auc / (1.0 - auc))
        half = z * se / (auc * (1.0 - auc))
        return _expit(centre - half), _expit(centre + half), "logit-scale"
    return max(0.0, auc - z * se), min(1.0, auc + z * se), "plain (clipped to [0, 1])"


def _expit(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def _outcome_scores(
    outcome: npt.ArrayLike | pd.Series, scores: dict[str, Any]
) -> tuple[npt.NDArray[np.int8], Float]:
    """Validate a 0/1 outcome and k scores of the same length; returns (y, x of shape (k, n))."""
    y_series = _as_series(outcome)
    ids = y_series.index
    y_raw = y_series.to_numpy(dtype=object)
    bad = [i for i, v in enumerate(y_raw) if not _is_binary(v)]
    if bad:
        i = bad[0]
        raise CohortError(
            f"{_who(ids, i)}: outcome = {_plain(y_raw[i])!r} is not 1 (responder) or 0 "
            "(non-responder); leave not-evaluable patients out first (response_indicator marks "
            "them NA)"
        )
    y = np.array([int(bool(v)) for v in y_raw], dtype=np.int8)
    rows = []
    for name, score in scores.items():
        s = _as_series(score)
        if isinstance(outcome, pd.Series) and isinstance(score, pd.Series):
            s = _by_patient(s, ids, name)
        if len(s) != len(y):
            raise CohortError(
                f"score {name!r} has {len(s)} values but the outcome has {len(y)}; "
                "give one score per patient, in the same order"
            )
        values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad_score = ~np.isfinite(values)
        if bad_score.any():
            i = int(np.flatnonzero(bad_score)[0])
            raise CohortError(
                f"{_who(s.index, i)}: score {name!r} = {_plain(s.iloc[i])!r} is not a finite "
                "number; "
                "leave patients without the score out (compare_predictors does)"
            )
        rows.append(values)
    m = int(y.sum())
    if m == 0 or m == y.size:
        have = "responders" if m else "non-responders"
        raise CohortError(
            f"an AUC needs responders and non-responders; all {y.size} patients are {have}"
        )
    return y, np.vstack(rows)


def _by_patient(score: pd.Series, ids: pd.Index, name: str) -> pd.Series:
    """``score`` in the outcome's patient order when both are Series indexed by patient.

    Two Series are paired by their index, never by position: the same patients in another
    order are reordered, and different patients are refused.
    """
    if score.index.equals(ids):
        return score
    for which, index in (("the outcome", ids), (f"score {name!r}", score.index)):
        if index.has_duplicates:
            raise CohortError(
                f"{which} has more than one value for patient {index[index.duplicated()][0]}; "
                "give one value per patient"
            )
    missing = ids.difference(score.index, sort=False)
    extra = score.index.difference(ids, sort=False)
    if len(missing) or len(extra):
        where = (
            f"patient {missing[0]} has an outcome but no score"
            if len(missing)
            else f"patient {extra[0]} has a score but no outcome"
        )
        raise CohortError(
            f"score {name!r} and the outcome are indexed by different patients: {where}; give "
            "both for the same patients (they are paired by index), or plain arrays in the "
            "same order"
        )
    return score.reindex(ids)


def _as_series(values: npt.ArrayLike | pd.Series) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise CohortError(f"expected one value per patient (a 1-d array); got shape {arr.shape}")
    return pd.Series(arr, index=pd.RangeIndex(arr.size, name="position"))


def _plain(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _who(index: pd.Index, i: int) -> str:
    if index.name == "position" and isinstance(index, pd.RangeIndex):
        return f"patient at position {i}"
    return f"patient {index[i]}"


def _is_binary(v: object) -> bool:
    if isinstance(v, bool | np.bool_):
        return True
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v) in (0.0, 1.0)
    return False
