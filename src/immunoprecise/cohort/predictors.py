"""Predictor evaluation on cohorts: AUCs side by side, paired DeLong tests, pooling across cohorts.

Reads the analysis table (:func:`~immunoprecise.cohort.cohort_frame`, or an ICB cohort read by
:func:`~immunoprecise.cohort.icb.read_icb_cohort`): the outcome is response (1/0) and every
predictor is a numeric column, higher = more likely to respond. The statistics are those of
:mod:`immunoprecise.cohort.roc` (AUC, DeLong CI and test), :mod:`immunoprecise.cohort.meta`
(DerSimonian–Laird pooling) and :mod:`immunoprecise.cohort.calibration`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from immunoprecise.cohort.frame import cohort_frame, did_you_mean, numeric_values
from immunoprecise.cohort.meta import PooledEstimate, pool_random_effects
from immunoprecise.cohort.roc import CiScale, RocCurve, delong_test, roc_curve
from immunoprecise.cohort.statistic import Statistic, check_ci_level
from immunoprecise.errors import CohortError, repeated
from immunoprecise.records import Cohort

__all__ = [
    "NON_RESPONDER",
    "NOT_EVALUABLE",
    "RESPONDER",
    "CohortAuc",
    "CrossCohortEvaluation",
    "PairwiseComparison",
    "PredictorAcrossCohorts",
    "PredictorComparison",
    "compare_predictors",
    "evaluate_predictors_across_cohorts",
    "holm",
    "response_indicator",
]

RESPONDER = ("CR", "sCR", "VGPR", "PR")
"""Best responses counted as response (objective response, RECIST 1.1 / Lugano / IMWG)."""
NON_RESPONDER = ("MR", "SD", "PD")
"""Best responses counted as no response (minimal response and stable disease included)."""
NOT_EVALUABLE = ("NE",)
"""Best responses that leave the patient out (not evaluable)."""

_TRUE = {"R", "1", "1.0", "TRUE", "YES", "RESPONDER"}
_FALSE = {"NR", "0", "0.0", "FALSE", "NO", "NON-RESPONDER"}


def response_indicator(frame: pd.DataFrame, *, column: str = "response") -> pd.Series:
    """Response as 1 (responder), 0 (non-responder) or ``<NA>`` (not evaluable), per patient.

    Read from ``column`` when the table has it: ``R``/``NR`` (any case), 1/0, ``True``/``False``;
    empty or missing = not evaluable. When the table has no such column and ``column`` is
    ``"response"`` — or when ``column`` is ``"best_response"`` — the indicator is derived from
    ``best_response``: CR, sCR, VGPR, PR = responder (objective response); MR, SD, PD =
    non-responder; NE or missing = not evaluable.

    Parameters
    ----------
    frame
        The analysis table, indexed by patient.
    column
        The outcome column.

    Returns
    -------
    pandas.Series
        Nullable integer (``Int64``) series named ``response``, indexed like ``frame``.

    Raises
    ------
    CohortError
        Neither ``column`` nor ``best_response`` in the table, or a value that is none of the
        above (naming the patient, column and value).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"best_response": ["CR", "SD", "NE", "VGPR", None]},
    ...                      index=pd.Index(["a", "b", "c", "d", "e"], name="patient_id"))
    >>> response_indicator(frame).tolist()
    [1, 0, <NA>, 1, <NA>]
    """
    if column in frame.columns and column != "best_response":
        values = [_binary(pid, column, v) for pid, v in frame[column].items()]
    elif column == "best_response" or (column == "response" and "best_response" in frame.columns):
        if "best_response" not in frame.columns:
            raise CohortError(_no_column("best_response", frame))
        values = [_from_best(pid, v) for pid, v in frame["best_response"].items()]
    else:
        raise CohortError(_no_column(column, frame))
    return pd.Series(values, index=frame.index, dtype="Int64", name="response")


class PairwiseComparison(BaseModel):
    """Paired DeLong test of two predictors on the same patients.

    Attributes
    ----------
    a, b
        The two predictors.
    difference
        AUC_a − AUC_b with its CI and unadjusted p-value (:func:`delong_test`).
    p_holm
        Holm-adjusted p-value over all pairs of the comparison (Holm 1979, Scand J Stat 6:65).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    a: str
    b: str
    difference: Statistic
    p_holm: float


class PredictorComparison(BaseModel):
    """AUCs of several predictors on the same patients, with their pairwise DeLong tests.

    Attributes
    ----------
    outcome
        The outcome column.
    curves
        One ROC curve (with AUC and DeLong CI) per predictor, in the order given.
    comparisons
        Every pair, in the order of :func:`itertools.combinations`.
    n, n_responders
        Patients used (with the outcome and every predictor) and responders among them.
    excluded
        Patients left out (outcome not evaluable or a predictor missing).
    ci_level
        Coverage of every interval.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: str
    curves: tuple[RocCurve, ...]
    comparisons: tuple[PairwiseComparison, ...]
    n: int
    n_responders: int
    excluded: tuple[str, ...]
    ci_level: float

    @property
    def predictors(self) -> tuple[str, ...]:
        """Predictor names, in the order given."""
        return tuple(c.name for c in self.curves)

    @property
    def aucs(self) -> tuple[Statistic, ...]:
        """The AUC of each predictor."""
        return tuple(c.auc for c in self.curves)

    def table(self) -> pd.DataFrame:
        """One row per predictor (AUC) then one per pair (AUC difference, p, Holm p).

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"response": [1, 1, 1, 0, 0, 0], "x": [6, 5, 2, 3, 1, 0],
        ...                       "z": [1, 5, 4, 3, 2, 6]})
        >>> compare_predictors(frame, ["x", "z"]).table()[["kind", "predictor", "estimate"]]
                 kind predictor  estimate
        0         AUC         x  0.888889
        1         AUC         z  0.444444
        2  difference     x − z  0.444444
        """
        rows: list[dict[str, object]] = []
        for c in self.curves:
            rows.append(_row("AUC", c.name, c.auc) | {"n_responders": c.n_responders})
        for p in self.comparisons:
            row = _row("difference", f"{p.a} − {p.b}", p.difference)
            rows.append(row | {"p_holm": p.p_holm, "n_responders": self.n_responders})
        return pd.DataFrame(rows, columns=_COLUMNS)


def compare_predictors(
    data: pd.DataFrame | Cohort | str | Path,
    predictors: Sequence[str],
    *,
    outcome: str = "response",
    ci_level: float = 0.95,
    scale: CiScale = "logit",
) -> PredictorComparison:
    """Compare predictors of response on the same patients: AUCs and paired DeLong tests.

    Only patients with an evaluable outcome and every predictor are used, so every AUC and every
    test is on the same patients; the others are listed in ``excluded``. Pairwise p-values are
    adjusted with Holm's step-down method.

    Parameters
    ----------
    data
        The analysis table, a :class:`~immunoprecise.Cohort` or a cohort table file
        (see :func:`~immunoprecise.cohort.cohort_frame`).
    predictors
        Numeric columns, higher = more likely to respond.
    outcome
        The outcome column, read by :func:`response_indicator`.
    ci_level
        Coverage of the intervals.
    scale
        Scale of the AUC intervals (see :func:`~immunoprecise.cohort.roc.roc_auc`).

    Returns
    -------
    PredictorComparison
        ROC curves with AUCs, pairwise tests; ``.table()`` gives a DataFrame.

    Raises
    ------
    CohortError
        No predictor, a predictor named twice or missing from the table, a non-numeric value,
        no responder or non-responder left (or fewer than two of either with two or more
        predictors).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"response": ["R", "R", "R", "NR", "NR", "NR", None],
    ...                       "cd8": [6, 5, 2, 3, 1, 0, 4], "crp": [1, 5, 4, 3, 2, 6, 1]},
    ...                      index=pd.Index(list("abcdefg"), name="patient_id"))
    >>> result = compare_predictors(frame, ["cd8", "crp"])
    >>> [round(a.estimate, 3) for a in result.aucs], result.excluded
    ([0.889, 0.444], ('g',))
    >>> round(result.comparisons[0].p_holm, 2)
    0.29
    """
    check_ci_level(ci_level)
    names = list(predictors)
    if not names:
        raise CohortError("give at least one predictor column")
    if twice := repeated(names):
        raise CohortError(f"predictor {twice[0]!r} is named twice; name each column once")
    frame = cohort_frame(data)
    y, x, excluded = _complete_cases(frame, names, outcome)
    curves = tuple(
        roc_curve(y, x[name], name=name, ci_level=ci_level, scale=scale) for name in names
    )
    tests = [
        (a, b, delong_test(y, x[a], x[b], names=(a, b), ci_level=ci_level))
        for a, b in combinations(names, 2)
    ]
    adjusted = holm([t.p_value if t.p_value is not None else 1.0 for _, _, t in tests])
    return PredictorComparison(
        outcome=outcome,
        curves=curves,
        comparisons=tuple(
            PairwiseComparison(a=a, b=b, difference=t, p_holm=p)
            for (a, b, t), p in zip(tests, adjusted, strict=True)
        ),
        n=len(y),
        n_responders=int(y.sum()),
        excluded=excluded,
        ci_level=ci_level,
    )


class CohortAuc(BaseModel):
    """One predictor's AUC in one cohort.

    Attributes
    ----------
    cohort
        The cohort's label.
    auc
        AUC with its DeLong CI (``n`` = patients with outcome and predictor).
    n_responders
        Responders among them.
    excluded
        Patients of the cohort left out: no evaluable outcome, or no value of the predictor.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cohort: str
    auc: Statistic
    n_responders: int
    excluded: tuple[str, ...] = ()


class PredictorAcrossCohorts(BaseModel):
    """One predictor evaluated in each cohort and pooled.

    Attributes
    ----------
    predictor
        The column evaluated.
    per_cohort
        AUC in each cohort where it could be estimated.
    pooled
        DerSimonian–Laird pooled AUC (``None`` when fewer than two cohorts qualify).
    skipped
        ``(cohort, reason)`` for each cohort left out.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    predictor: str
    per_cohort: tuple[CohortAuc, ...]
    pooled: PooledEstimate | None
    skipped: tuple[tuple[str, str], ...]


class CrossCohortEvaluation(BaseModel):
    """Predictors evaluated per cohort and pooled across cohorts (random effects).

    Attributes
    ----------
    outcome
        The outcome column.
    cohorts
        The cohort labels, in the order given.
    results
        One entry per predictor.
    ci_level
        Coverage of every interval.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: str
    cohorts: tuple[str, ...]
    results: tuple[PredictorAcrossCohorts, ...]
    ci_level: float

    def pooled(self, predictor: str) -> PooledEstimate | None:
        """The pooled estimate of one predictor."""
        for r in self.results:
            if r.predictor == predictor:
                return r.pooled
        raise CohortError(f"predictor {predictor!r} was not evaluated; have {self.predictors}")

    @property
    def predictors(self) -> tuple[str, ...]:
        """The predictors evaluated."""
        return tuple(r.predictor for r in self.results)

    def table(self) -> pd.DataFrame:
        """One row per predictor and cohort, then a pooled row per predictor.

        Columns: ``predictor``, ``cohort``, ``n``, ``n_responders``, ``auc``, ``ci_low``,
        ``ci_high``, ``weight`` (random-effects weight, fraction), and on the pooled rows
        ``tau2``, ``i2``, ``q_p`` (heterogeneity).
        """
        rows: list[dict[str, object]] = []
        for r in self.results:
            weights = dict(zip(r.pooled.labels, r.pooled.weights, strict=True)) if r.pooled else {}
            for c in r.per_cohort:
                rows.append(
                    {
                        "predictor": r.predictor,
                        "cohort": c.cohort,
                        "n": c.auc.n,
                        "n_responders": c.n_responders,
                        "auc": c.auc.estimate,
                        "ci_low": c.auc.ci_low,
                        "ci_high": c.auc.ci_high,
                        "weight": weights.get(c.cohort, math.nan),
                    }
                )
            if r.pooled is not None:
                p = r.pooled
                rows.append(
                    {
                        "predictor": r.predictor,
                        "cohort": "pooled (random effects)",
                        "n": p.pooled.n,
                        "n_responders": sum(c.n_responders for c in r.per_cohort),
                        "auc": p.pooled.estimate,
                        "ci_low": p.pooled.ci_low,
                        "ci_high": p.pooled.ci_high,
                        "weight": 1.0,
                        "tau2": p.tau2,
                        "i2": p.i2,
                        "q_p": p.q.p_value,
                    }
                )
        columns = ["predictor", "cohort", "n", "n_responders", "auc", "ci_low", "ci_high"]
        return pd.DataFrame(rows, columns=[*columns, "weight", "tau2", "i2", "q_p"])


def evaluate_predictors_across_cohorts(
    cohorts: Mapping[str, pd.DataFrame | Cohort | str | Path],
    predictors: Sequence[str],
    *,
    outcome: str = "response",
    ci_level: float = 0.95,
) -> CrossCohortEvaluation:
    """AUC of each predictor in each cohort, pooled across cohorts by random effects.

    In each cohort a predictor is evaluated on the patients with an evaluable outcome and that
    predictor. A cohort is skipped for a predictor (and the reason recorded) when the column is
    absent or all missing, when fewer than two responders or two non-responders have it (no
    DeLong variance), when it has one value for every patient (a constant ranks nobody: AUC 0.5
    with no variance), or when the AUC is 0 or 1 (no logit-scale variance). AUCs are pooled on
    the logit scale with DerSimonian–Laird weights (:func:`pool_random_effects`).

    Parameters
    ----------
    cohorts
        Cohort label → analysis table (or a :class:`~immunoprecise.Cohort` or a cohort file).
    predictors
        Numeric columns, higher = more likely to respond.
    outcome
        The outcome column, read by :func:`response_indicator`.
    ci_level
        Coverage of every interval.

    Returns
    -------
    CrossCohortEvaluation
        Per-cohort AUCs and the pooled estimate of each predictor; ``.table()`` gives a
        DataFrame.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> def cohort(n):
    ...     y = np.repeat([1, 0], n // 2)
    ...     return pd.DataFrame({"response": y, "score": y + rng.normal(0, 1.2, y.size)})
    >>> result = evaluate_predictors_across_cohorts({"A": cohort(40), "B": cohort(30),
    ...                                              "C": cohort(50)}, ["score"])
    >>> result.table()["cohort"].tolist()
    ['A', 'B', 'C', 'pooled (random effects)']
    >>> pooled = result.pooled("score")
    >>> bool(0.5 < pooled.pooled.estimate < 0.9), pooled.pooled.n
    (True, 120)
    """
    check_ci_level(ci_level)
    names = list(predictors)
    if not names:
        raise CohortError("give at least one predictor column")
    if not cohorts:
        raise CohortError("give at least one cohort")
    frames = {str(label): cohort_frame(data) for label, data in cohorts.items()}
    results = []
    for name in names:
        per_cohort: list[CohortAuc] = []
        skipped: list[tuple[str, str]] = []
        for label, frame in frames.items():
            reason = _unusable(frame, name)
            if reason is None:
                y, x, left_out = _complete_cases(frame, [name], outcome, need=2, quiet=True)
                m = int(y.sum())
                if m < 2 or len(y) - m < 2:
                    reason = f"{m} responders and {len(y) - m} non-responders have {name}; needs 2+"
                elif x[name].nunique() == 1:
                    reason = (
                        f"{name} is {x[name].iloc[0]:g} for all {len(y)} patients with {outcome}: "
                        "a constant ranks nobody, its AUC of 0.5 has no variance"
                    )
                else:
                    curve = roc_curve(y, x[name], name=name, ci_level=ci_level)
                    auc = curve.auc
                    if not 0.0 < auc.estimate < 1.0:
                        reason = f"AUC {auc.estimate:g} has no logit-scale variance"
                    elif auc.ci_low is None or auc.ci_high is None or auc.ci_high <= auc.ci_low:
                        reason = f"AUC {auc.estimate:g} has no DeLong variance (a CI of zero width)"
                    else:
                        per_cohort.append(
                            CohortAuc(
                                cohort=label, auc=curve.auc, n_responders=m, excluded=left_out
                            )
                        )
            if reason is not None:
                skipped.append((label, reason))
        pooled = (
            pool_random_effects(
                [c.auc for c in per_cohort],
                labels=[c.cohort for c in per_cohort],
                scale="logit",
                ci_level=ci_level,
            )
            if len(per_cohort) >= 2
            else None
        )
        results.append(
            PredictorAcrossCohorts(
                predictor=name, per_cohort=tuple(per_cohort), pooled=pooled, skipped=tuple(skipped)
            )
        )
    return CrossCohortEvaluation(
        outcome=outcome, cohorts=tuple(frames), results=tuple(results), ci_level=ci_level
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (Holm 1979, Scand J Stat 6:65).

    Parameters
    ----------
    p_values
        Unadjusted p-values.

    Returns
    -------
    list of float
        Adjusted p-values, in the order given: the i-th smallest becomes
        max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = round(running, 15)
    return out


_COLUMNS = [
    "kind",
    "predictor",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_level",
    "p_value",
    "p_holm",
    "n",
    "n_responders",
    "method",
]


def _row(kind: str, label: str, s: Statistic) -> dict[str, object]:
    return {
        "kind": kind,
        "predictor": label,
        "estimate": s.estimate,
        "ci_low": s.ci_low,
        "ci_high": s.ci_high,
        "ci_level": s.ci_level,
        "p_value": s.p_value,
        "p_holm": None,
        "n": s.n,
        "method": s.method,
    }


def _unusable(frame: pd.DataFrame, column: str) -> str | None:
    if column not in frame.columns:
        return f"no column {column!r}"
    if frame[column].isna().all():
        return f"{column} is missing for every patient"
    return None


def _complete_cases(
    frame: pd.DataFrame,
    predictors: Sequence[str],
    outcome: str,
    *,
    need: int = 1,
    quiet: bool = False,
) -> tuple[pd.Series, dict[str, pd.Series], tuple[str, ...]]:
    """Outcome and predictors of the patients who have all of them; the others' ids."""
    y = response_indicator(frame, column=outcome)
    keep = y.notna().to_numpy()
    values: dict[str, pd.Series] = {}
    for name in predictors:
        if name not in frame.columns:
            raise CohortError(_no_column(name, frame))
        numeric = numeric_values(frame, name, use="a predictor (higher = more likely to respond)")
        keep &= numeric.notna().to_numpy()
        values[name] = numeric
    ids = frame.index
    y_kept = y[keep].astype(int)
    m = int(y_kept.sum())
    if not quiet and (m < need or len(y_kept) - m < need):
        raise CohortError(
            f"{m} responders and {len(y_kept) - m} non-responders have {outcome} and "
            f"{', '.join(predictors)}; an AUC needs at least {need} of each"
        )
    return (
        y_kept,
        {k: v[keep] for k, v in values.items()},
        tuple(str(i) for i in ids[~keep]),
    )


def _binary(pid: object, column: str, v: object) -> object:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return pd.NA
    if isinstance(v, bool | np.bool_):
        return int(bool(v))
    if isinstance(v, int | float | np.integer | np.floating) and float(v) in (0.0, 1.0):
        return int(float(v))
    text = str(v).strip().upper()
    if text == "":
        return pd.NA
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise CohortError(
        f"patient {pid}: {column} = {v!r} is not a response; expected R/NR, 1/0 or True/False "
        "(empty = not evaluable)"
    )


def _from_best(pid: object, v: object) -> object:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return pd.NA
    text = str(v).strip()
    if text in RESPONDER:
        return 1
    if text in NON_RESPONDER:
        return 0
    if text in NOT_EVALUABLE or text == "":
        return pd.NA
    raise CohortError(
        f"patient {pid}: best_response = {v!r} is not a response category; expected one of "
        f"{', '.join((*RESPONDER, *NON_RESPONDER, *NOT_EVALUABLE))}"
    )


def _no_column(column: str, frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    more = f", … ({len(names)} in all)" if len(names) > 12 else ""
    hint = (
        "; response needs a 'response' (R/NR, 1/0) or 'best_response' column"
        if column in ("response", "best_response")
        else ""
    )
    close = did_you_mean(column, names)
    return (
        f"the cohort has no column {column!r}{close}{hint}; columns are: "
        f"{', '.join(names[:12])}{more}"
    )
