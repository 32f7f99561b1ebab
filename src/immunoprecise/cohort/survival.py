"""Survival by group: Kaplan–Meier curves with CIs and numbers at risk, log-rank tests (with trend).

Estimation is lifelines' (Davidson-Pilon, J Open Source Softw 2019;4:1317,
doi:10.21105/joss.01317): Kaplan–Meier with exponential Greenwood ("log(-log)") confidence
intervals, the k-sample log-rank test. The log-rank test for trend, which lifelines does not offer,
is built from the same observed-minus-expected vector and covariance matrix (Peto & Peto 1972;
Collett, *Modelling Survival Data in Medical Research*, 3rd ed. 2015, §2.6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from immunoprecise.cohort.frame import (
    SurvivalData,
    check_group_levels,
    cohort_frame,
    group_levels,
    level_text,
    ordered_categories,
    survival_data,
)
from immunoprecise.cohort.statistic import Statistic, check_ci_level, format_day
from immunoprecise.errors import CohortError, repeated
from immunoprecise.records import Cohort

__all__ = [
    "KaplanMeierCurve",
    "SurvivalCurves",
    "group_labels",
    "kaplan_meier",
    "log_rank",
    "survival_at",
]

#: The advice of a trend test on text levels given no order; a command line replaces it with
#: its own option (``--order``).
ORDER_ADVICE = "give their order (e.g. order=['low', 'intermediate', 'high'])"
#: Expected events in a group below which the log-rank χ² approximation is called doubtful.
SMALL_EXPECTED = 5.0
#: Days per month used to show months (365.25 / 12).
DAYS_PER_MONTH = 30.4375
KM_METHOD = "Kaplan–Meier, exponential Greenwood CI (lifelines)"
#: Why survival of 0 has no CI: log(−log S) of the exponential Greenwood band is undefined at 0.
NO_CI_AT_ZERO = (
    "no CI: the last patient at risk had the event, and the exponential Greenwood band "
    "(log(−log S)) is undefined at 0"
)
LOGRANK_REFERENCE = (
    "Mantel 1966, Cancer Chemother Rep 50:163; Peto & Peto 1972, J R Stat Soc A 135:185"
)


class KaplanMeierCurve(BaseModel):
    """One group's Kaplan–Meier estimate: the step function, its CI band and summary numbers.

    Times are days from the start of treatment; ``survival`` is the probability of being free of
    the endpoint's event just after each time. ``censor_times`` (days, ascending) are the
    distinct times at which patients of the group were censored (left follow-up without the
    event) and ``censored`` how many were censored at each; plots mark them on the curve.
    Both are empty for a curve stored before they were kept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    endpoint: str
    n: int
    events: int
    times: tuple[float, ...]
    survival: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    ci_level: float
    median: Statistic
    at_risk_times: tuple[float, ...]
    at_risk: tuple[int, ...]
    censor_times: tuple[float, ...] = ()
    censored: tuple[int, ...] = ()

    def survival_at(self, day: float) -> Statistic:
        """The estimate and its CI at ``day`` (days), read off the step function.

        Past the group's last follow-up the curve is not carried forward: while it is still
        above 0 there, the estimate is ``nan`` with no CI and the method says where follow-up
        ends (as for a cut-point group's horizon survival). Where the curve has dropped to 0
        (the last patient at risk had the event) the estimate is 0 without a CI: the
        exponential Greenwood band is undefined there, and a 0–0 interval would claim
        certainty that a few patients cannot give.

        Examples
        --------
        >>> import pandas as pd
        >>> f = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
        >>> curve = kaplan_meier(f).curves[0]
        >>> round(curve.survival_at(25).estimate, 3)
        0.75
        >>> curve.survival_at(50).method.split("; ")[-1]
        'not estimable: follow-up ends at day 40'
        """
        if day < 0 or not math.isfinite(day):
            raise CohortError(f"survival is read at days ≥ 0; got {day}")
        i = int(np.searchsorted(np.asarray(self.times), day, side="right")) - 1
        method = KM_METHOD
        if i < 0:
            est, lo, hi = 1.0, 1.0, 1.0
        else:
            est, lo, hi = self.survival[i], self.ci_low[i], self.ci_high[i]
        last = self.times[-1] if self.times else 0.0
        if day > last and est > 0:
            est, lo, hi = math.nan, math.nan, math.nan
            method += f"; not estimable: follow-up ends at day {last:g}"
        elif est == 0:
            lo, hi = math.nan, math.nan
            method += f"; {NO_CI_AT_ZERO}"
        return Statistic(
            name=f"{self.endpoint.upper()} at day {day:g}",
            estimate=est,
            ci_low=None if math.isnan(lo) else lo,
            ci_high=None if math.isnan(hi) else hi,
            ci_level=self.ci_level,
            n=self.n,
            method=method,
            unit="fraction",
            reference="Kaplan & Meier 1958, J Am Stat Assoc 53:457",
        )


class SurvivalCurves(BaseModel):
    """Kaplan–Meier curves of one endpoint, one per group, with the log-rank test between them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str
    group: str | None
    curves: tuple[KaplanMeierCurve, ...]
    log_rank: Statistic | None
    excluded: tuple[str, ...]
    notes: tuple[str, ...] = Field(
        default=(),
        description="What could not be computed and why (e.g. no log-rank test without an event)",
    )

    def table(self) -> pd.DataFrame:
        """One row per group: n, events, median with CI, and the numbers at risk.

        Examples
        --------
        >>> import pandas as pd
        >>> f = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
        >>> kaplan_meier(f).table()[["n", "events"]].to_dict("records")
        [{'n': 4, 'events': 2}]
        """
        rows = []
        names = _at_risk_names(self.curves[0].at_risk_times if self.curves else ())
        for c in self.curves:
            row: dict[str, object] = {
                "group": c.label,
                "n": c.n,
                "events": c.events,
                "median_days": c.median.estimate,
                "median_ci_low": c.median.ci_low,
                "median_ci_high": c.median.ci_high,
            }
            for name, k in zip(names, c.at_risk, strict=True):
                row[name] = k
            rows.append(row)
        return pd.DataFrame(rows).set_index("group")


def _at_risk_names(times: Sequence[float]) -> list[str]:
    """Column names of the numbers at risk: ``at_risk_day_183`` for day 182.625 (six months),
    the day as the CLI prints it; every digit kept where two days would read the same."""
    names = [f"at_risk_day_{format_day(t)}" for t in times]
    if len(set(names)) < len(names):
        names = [f"at_risk_day_{t:.10g}" for t in times]
    return names


def kaplan_meier(
    data: pd.DataFrame | Cohort | str | Path,
    *,
    endpoint: str = "os",
    group: str | None = None,
    ci_level: float = 0.95,
    at_risk_times: Sequence[float] | None = None,
) -> SurvivalCurves:
    """Kaplan–Meier curves of ``endpoint``, overall or per level of ``group``, with log-rank.

    Parameters
    ----------
    data
        A :class:`~immunoprecise.Cohort`, a cohort table file, or an analysis table
        (:func:`~immunoprecise.cohort.cohort_frame`).
    endpoint
        ``"os"`` or ``"pfs"`` (columns ``<endpoint>_days``, ``<endpoint>_event``).
    group
        Column whose levels define the groups (e.g. ``"risk.flipi:category"``); ``None`` for one
        curve of everybody. Patients without a level are excluded and listed. A numeric column
        has at most :data:`~immunoprecise.cohort.frame.MAX_GROUP_LEVELS` (10) levels, a column of
        named levels :data:`~immunoprecise.cohort.frame.MAX_NAMED_GROUP_LEVELS` (20): for a
        continuous biomarker use :func:`~immunoprecise.cohort.optimal_cutpoint` or bin it
        (``pandas.qcut``) into a new column.
    ci_level
        Coverage of the pointwise confidence band (0.95).
    at_risk_times
        Days at which the numbers at risk are counted; default: 0 and about five more evenly
        spaced round times up to the last follow-up (whole months when follow-up exceeds a
        year, so that a plot in months shows round numbers).

    Returns
    -------
    SurvivalCurves
        Curves in the order of the sorted group levels (a ``pandas`` categorical column, such
        as ``pandas.qcut`` bins, in its categories' order), and the k-sample log-rank test when
        there are two groups or more. When no event was observed the curves are still drawn (flat at
        1); ``log_rank`` is then ``None`` and ``notes`` says why.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> km = kaplan_meier(ip.data.example_path("fl_cohort.csv"), group="risk.flipi:category")
    >>> [c.label for c in km.curves], km.log_rank.df
    (['high', 'intermediate', 'low'], 2.0)
    """
    check_ci_level(ci_level)
    frame = cohort_frame(data)
    surv = survival_data(frame, endpoint, require=[group] if group is not None else [])
    labels = group_labels(frame, group, surv)
    levels = group_levels(frame, group, labels.tolist()) if group is not None else ["all"]
    if group is not None:
        check_group_levels(frame, group, levels, among=f"patients with {endpoint} data")
    times = _at_risk_times(surv, at_risk_times)
    curves = tuple(_curve(surv, labels == level, str(level), ci_level, times) for level in levels)
    test = None
    notes: list[str] = []
    if len(levels) >= 2 and surv.event.sum() == 0:
        # the curves are defined (flat at 1), the between-group test is not
        notes.append(
            f"no {endpoint} event was observed: every patient is censored, so the curves stay at "
            "1 and the log-rank test is undefined"
        )
    elif len(levels) >= 2:
        test = _k_sample(surv, labels, levels)
    return SurvivalCurves(
        endpoint=endpoint,
        group=group,
        curves=curves,
        log_rank=test,
        excluded=surv.excluded,
        notes=tuple(notes),
    )


def survival_at(curves: SurvivalCurves, day: float) -> tuple[Statistic, ...]:
    """Each group's survival estimate (with CI) at ``day`` days.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
    >>> [round(s.estimate, 3) for s in survival_at(kaplan_meier(f), 35)]
    [0.375]
    """
    return tuple(c.survival_at(day) for c in curves.curves)


def log_rank(
    data: pd.DataFrame | Cohort | str | Path,
    *,
    group: str | None,
    endpoint: str = "os",
    trend: bool = False,
    order: Sequence[str] | Sequence[float] | None = None,
) -> Statistic:
    """Log-rank test between the levels of ``group``, or the log-rank test for trend.

    Parameters
    ----------
    data
        Anything :func:`~immunoprecise.cohort.cohort_frame` accepts.
    group
        Column whose levels are compared (at most 10 numeric or 20 named levels, as for
        :func:`kaplan_meier`).
    endpoint
        ``"os"`` or ``"pfs"``.
    trend
        Test for a monotone trend across ordered levels (one degree of freedom) instead of any
        difference (k − 1 degrees of freedom).
    order
        For ``trend``: the levels in their order; they are scored 1, 2, …, k. By default numeric
        levels are scored by their value, the levels of an ordered ``pandas`` categorical
        (``pandas.cut``, ``pandas.qcut``) 1, 2, … in its categories' order, and other text levels
        must be given an order.

    Returns
    -------
    Statistic
        ``estimate`` is the χ² statistic, with ``df`` and ``p_value``.

    Raises
    ------
    CohortError
        No group column, fewer than two levels or more than :func:`kaplan_meier` allows, no
        event, or an ``order`` that does not name each level once.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> path = ip.data.example_path("fl_cohort.csv")
    >>> t = log_rank(path, group="risk.flipi:category", trend=True,
    ...              order=["low", "intermediate", "high"])
    >>> t.df, t.name
    (1.0, 'log-rank trend χ²')
    """
    if group is None:
        raise CohortError("a log-rank test needs a group column to compare")
    frame = cohort_frame(data)
    surv = survival_data(frame, endpoint, require=[group])
    labels = group_labels(frame, group, surv)
    levels = group_levels(frame, group, labels.tolist())
    check_group_levels(frame, group, levels, among=f"patients with {endpoint} data")
    if len(levels) < 2:
        raise CohortError(
            f"column {group!r} has only the level {levels!r} among patients with "
            f"{endpoint} data; a log-rank test needs two groups or more"
        )
    if not trend:
        return _k_sample(surv, labels, levels)
    _require_events(surv)
    if order is None and ordered_categories(frame, group):  # pandas.cut/qcut bins, in order
        order = levels
    scores = _trend_scores(levels, order, group)
    return _trend_test(surv, labels, scores)


def _require_events(surv: SurvivalData) -> None:
    if surv.event.sum() == 0:
        raise CohortError(f"no {surv.endpoint} event was observed; the log-rank test is undefined")


def _k_sample(surv: SurvivalData, labels: npt.NDArray[np.str_], levels: list[str]) -> Statistic:
    """The k-sample log-rank test of the patients in ``surv`` grouped by ``labels``.

    As for a χ² test of a table, the χ² approximation is doubtful when a group expects few
    events; the method says so when a group expects fewer than 5.
    """
    _require_events(surv)
    res = multivariate_logrank_test(surv.time, labels, surv.event)
    at_risk, died = _risk_counts(surv, labels, levels)
    n, d = at_risk.sum(axis=1), died.sum(axis=1)
    expected = (at_risk * (d / n)[:, None]).sum(axis=0)
    few = int((expected < SMALL_EXPECTED).sum())
    caution = (
        f"; fewer than {SMALL_EXPECTED:g} expected events in {few} of {len(levels)} groups: "
        "the χ² approximation is doubtful, interpret with caution"
        if few
        else ""
    )
    return Statistic(
        name="log-rank χ²",
        estimate=float(res.test_statistic),
        p_value=float(res.p_value),
        df=float(len(levels) - 1),
        n=surv.n,
        method=f"log-rank test, {len(levels)} groups (lifelines){caution}",
        reference=LOGRANK_REFERENCE,
    )


def _risk_counts(
    surv: SurvivalData, labels: npt.NDArray[np.str_], groups: Sequence[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Patients at risk and events per distinct event time (rows) and group (columns).

    Counted by sorted search: O(N log N) in memory N, not a times × patients matrix
    (gigabytes for 20,000 patients).
    """
    event_times = np.unique(surv.time[surv.event == 1])
    at_risk = np.empty((event_times.size, len(groups)))
    died = np.empty((event_times.size, len(groups)))
    for j, g in enumerate(groups):
        times_g = np.sort(surv.time[labels == g])
        at_risk[:, j] = times_g.size - np.searchsorted(times_g, event_times, side="left")
        events_g = np.sort(surv.time[(labels == g) & (surv.event == 1)])
        died[:, j] = np.searchsorted(events_g, event_times, side="right") - np.searchsorted(
            events_g, event_times, side="left"
        )
    return at_risk, died


def group_labels(
    frame: pd.DataFrame, group: str | None, surv: SurvivalData
) -> npt.NDArray[np.str_]:
    """The group level (as text) of each patient kept in ``surv``; ``"all"`` without a group."""
    if group is None:
        return np.full(surv.n, "all")
    values = frame.loc[surv.index, group]
    return np.asarray([level_text(v) for v in values], dtype=str)


def _curve(
    surv: SurvivalData,
    mask: npt.NDArray[np.bool_],
    label: str,
    ci_level: float,
    at_risk_times: tuple[float, ...],
) -> KaplanMeierCurve:
    t, e = surv.time[mask], surv.event[mask]
    kmf = KaplanMeierFitter(alpha=1 - ci_level).fit(t, e, label=label)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    median = float(kmf.median_survival_time_)
    med_ci = median_survival_times(kmf.confidence_interval_)
    lo, hi = (float(med_ci.iloc[0, 0]), float(med_ci.iloc[0, 1]))
    censor_times, censor_counts = np.unique(t[e == 0], return_counts=True)
    return KaplanMeierCurve(
        label=label,
        endpoint=surv.endpoint,
        n=int(mask.sum()),
        events=int(e.sum()),
        times=tuple(float(x) for x in sf.index),
        survival=tuple(float(x) for x in sf.to_numpy()),
        ci_low=tuple(float(x) for x in ci.iloc[:, 0].to_numpy()),
        ci_high=tuple(float(x) for x in ci.iloc[:, 1].to_numpy()),
        ci_level=ci_level,
        median=Statistic(
            name=f"median {surv.endpoint.upper()}",
            estimate=median,
            ci_low=None if math.isinf(lo) or math.isnan(lo) else lo,
            ci_high=None if math.isinf(hi) or math.isnan(hi) else hi,
            ci_level=ci_level,
            n=int(mask.sum()),
            method="Kaplan–Meier median, CI from the survival band (lifelines)",
            unit="days",
            reference="Brookmeyer & Crowley 1982, Biometrics 38:29",
        ),
        at_risk_times=at_risk_times,
        at_risk=tuple(int((t >= x).sum()) for x in at_risk_times),
        censor_times=tuple(float(x) for x in censor_times),
        censored=tuple(int(k) for k in censor_counts),
    )


def _at_risk_times(surv: SurvivalData, given: Sequence[float] | None) -> tuple[float, ...]:
    if given is not None:
        bad = [x for x in given if not (math.isfinite(x) and x >= 0)]
        if bad:
            raise CohortError(f"at_risk_times must be days ≥ 0; got {bad}")
        return tuple(float(x) for x in given)
    last = float(surv.time.max())
    unit = DAYS_PER_MONTH if last > 365 else 1.0  # round months for follow-up beyond a year
    span = last / unit
    step = _nice_step(span / 5) if span > 0 else 1.0
    return tuple(float(step * i * unit) for i in range(int(span // step) + 1))


def _nice_step(x: float) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) close to ``x``."""
    power = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= x:
            return float(m * power)
    return float(10 * power)


def _trend_scores(
    levels: list[str], order: Sequence[str] | Sequence[float] | None, group: str
) -> dict[str, float]:
    if order is None:
        try:
            return {lv: float(lv) for lv in levels}
        except ValueError:
            raise CohortError(
                f"column {group!r} has text levels {levels}; {ORDER_ADVICE} for a trend test"
            ) from None
    names = [level_text(o) for o in order]
    twice = repeated(names)
    if twice:  # a repeated level would shift every later score (a, b, b, c → 1, 3, 4)
        raise CohortError(
            f"order {names} names the level(s) {twice} more than once; name each once"
        )
    unknown = [name for name in names if name not in levels]
    if unknown:  # scored anyway, it would shift every later score (low=1, intermediate=3)
        meant = [lv for name in unknown for lv in levels if lv.lower() == name.lower()]
        hint = f" (did you mean {' or '.join(map(repr, meant))}?)" if meant else ""
        raise CohortError(
            f"order {names} names {unknown}, not a level of column {group!r} among the patients "
            f"with survival data{hint}; its levels are {levels}"
        )
    missing = sorted(set(levels) - set(names))
    if missing:
        raise CohortError(f"order {names} leaves out the levels {missing} of column {group!r}")
    return {name: float(i + 1) for i, name in enumerate(names)}


def _trend_test(
    surv: SurvivalData, labels: npt.NDArray[np.str_], scores: dict[str, float]
) -> Statistic:
    """Log-rank trend: U = Σ_g w_g (O_g − E_g), Var U = wᵀVw (Collett 2015, §2.6.4)."""
    groups = sorted(scores, key=lambda g: scores[g])
    w = np.array([scores[g] for g in groups])
    at_risk, died = _risk_counts(surv, labels, groups)
    n = at_risk.sum(axis=1)
    d = died.sum(axis=1)
    observed_minus_expected = (died - at_risk * (d / n)[:, None]).sum(axis=0)
    factor = np.where(n > 1, d * (n - d) / (n**2 * np.maximum(n - 1, 1)), 0.0)
    share = at_risk  # n_ig
    cov = np.einsum("t,tg,th->gh", factor, share, -share) + np.diag(
        np.einsum("t,tg->g", factor * n, share)
    )
    u = float(w @ observed_minus_expected)
    var = float(w @ cov @ w)
    if var <= 0:
        raise CohortError(
            "the trend test has no variance (a single group has all patients at risk)"
        )
    chi2 = u * u / var
    return Statistic(
        name="log-rank trend χ²",
        estimate=chi2,
        p_value=float(stats.chi2.sf(chi2, 1)),
        df=1.0,
        n=surv.n,
        method="log-rank test for trend, scores " + ", ".join(f"{g}={scores[g]:g}" for g in groups),
        reference="Collett 2015, Modelling Survival Data in Medical Research, 3rd ed., §2.6.4",
    )
