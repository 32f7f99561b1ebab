"""Optimal cut-point of a continuous biomarker against survival (maximally selected log-rank).

For every candidate cut ``c`` of the biomarker (between distinct values, with at least
``min_prop`` of the patients on each side) the two groups ``x ≤ c`` and ``x > c`` are compared by
the standardized log-rank statistic; the cut with the largest ``|Z|`` is chosen. Its p-value is
adjusted for the search (Lausen & Schumacher 1992, Biometrics 48:73–85; Lausen, Sauerbrei &
Schumacher 1994; Hothorn & Lausen 2003, Comput Stat Data Anal 43:121–137), the uncertainty of
the cut itself is a percentile bootstrap interval, and each group gets its Kaplan–Meier survival
at a horizon and its median. See ``docs/cohort_cutpoints.md`` for the formulas and validation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.cohort import _rank_scan as rank_scan
from immunoprecise.cohort.frame import (
    SurvivalData,
    cohort_frame,
    did_you_mean,
    numeric_values,
    survival_data,
)
from immunoprecise.cohort.statistic import Statistic, format_cut, format_day, format_p
from immunoprecise.cohort.survival import NO_CI_AT_ZERO
from immunoprecise.errors import CohortError
from immunoprecise.records import Cohort

__all__ = ["P_METHODS", "Cutpoint", "CutpointGroup", "horizon_text", "optimal_cutpoint"]

#: Five years in days (365.25 days a year), the default survival horizon.
FIVE_YEARS_DAYS = 1826.25

#: Adjusted p-value methods: name → (label for summaries, method text, reference).
P_METHODS: dict[str, tuple[str, str, str]] = {
    "lausen-schumacher": (
        "Lausen–Schumacher 1992",
        "maximally selected log-rank statistic; p adjusted for the cut-point search by the "
        "Brownian-bridge approximation of Lausen & Schumacher",
        "Lausen & Schumacher 1992, Biometrics 48:73–85",
    ),
    "lausen-1994": (
        "Lausen et al. 1994",
        "maximally selected log-rank statistic; p adjusted for the cut-point search by the "
        "improved Bonferroni inequality over the candidate cuts",
        "Lausen, Sauerbrei & Schumacher 1994, in Computational Statistics (Dirschedl & "
        "Ostermann, eds), Physica, pp. 483–496",
    ),
    "hothorn-lausen": (
        "Hothorn–Lausen 2003",
        "maximally selected log-rank statistic on integer log-rank scores; p adjusted for the "
        "cut-point search from the exact permutation distribution (maxstat 'HL' bound)",
        "Hothorn & Lausen 2003, Comput Stat Data Anal 43:121–137",
    ),
}

CUT_REFERENCE = (
    "Lausen & Schumacher 1992, Biometrics 48:73–85; Hothorn & Lausen 2003, "
    "Comput Stat Data Anal 43:121–137; Efron & Tibshirani 1993 (percentile bootstrap)"
)
LOGRANK_REFERENCE = "Mantel 1966, Cancer Chemother Rep 50:163"
KM_REFERENCE = "Kaplan & Meier 1958, J Am Stat Assoc 53:457"


class CutpointGroup(BaseModel):
    """One side of the chosen cut: its patients, events, horizon survival and median survival.

    Attributes
    ----------
    label
        ``"<biomarker> ≤ <cut>"`` or ``"<biomarker> > <cut>"``.
    side
        ``"low"`` (biomarker ≤ cut) or ``"high"`` (biomarker > cut).
    n, events
        Patients and observed events in the group.
    survival_at_horizon
        Kaplan–Meier survival at ``horizon_days`` with its exponential-Greenwood CI
        (lifelines); ``nan`` without CI where the group's follow-up ends before the horizon,
        0 without CI where the group's curve has dropped to 0 by then (the band is undefined).
    median_survival
        Kaplan–Meier median survival (days) with its CI; ``inf`` where not reached.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    side: Literal["low", "high"]
    n: int = Field(ge=0)
    events: int = Field(ge=0)
    survival_at_horizon: Statistic
    median_survival: Statistic


class Cutpoint(BaseModel):
    """An optimal cut-point of a biomarker against survival, with its tests and groups.

    Attributes
    ----------
    biomarker, endpoint
        The column scanned and the endpoint (``"os"`` or ``"pfs"``).
    cutpoint
        The cut value (patients with biomarker ≤ cut form the low group), its percentile
        bootstrap CI, the number of patients and the method.
    max_statistic
        The largest standardized log-rank statistic ``max |Z|`` over the candidate cuts and its
        p-value adjusted for the search (``p_method``).
    logrank
        The classical two-group log-rank χ² at the chosen cut (hypergeometric variance, df = 1)
        with its unadjusted p-value, as lifelines' ``logrank_test`` gives it.
    groups
        The low group then the high group.
    horizon_days
        Time at which the groups' survival is read.
    horizon_basis
        Where ``horizon_days`` comes from: ``"given"`` (``horizon_days`` of
        :func:`optimal_cutpoint`), ``"five years"`` or ``"last event"`` (the defaults).
    min_prop, n_boot, seed, p_method, ci_level
        The parameters of the analysis.
    n_boot_failed
        Bootstrap resamples without any candidate cut (left out of the CI).
    bootstrap_below, bootstrap_above
        Share of the bootstrap cut-points below and above the chosen cut (the rest fell on it).
    excluded
        Patients left out: no biomarker value, time or event.
    scan_cuts, scan_statistics
        Every candidate cut and its standardized statistic ``Z`` (``Z > 0``: more events than
        expected in the low group).
    version
        immunoprecise version that computed the result.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    biomarker: str
    endpoint: str
    cutpoint: Statistic
    max_statistic: Statistic
    logrank: Statistic
    groups: tuple[CutpointGroup, CutpointGroup]
    horizon_days: float = Field(gt=0)
    horizon_basis: Literal["given", "five years", "last event"] = "given"
    min_prop: float = Field(gt=0, lt=0.5)
    n_boot: int = Field(ge=0)
    n_boot_failed: int = Field(ge=0)
    bootstrap_below: float | None = Field(default=None, ge=0, le=1)
    bootstrap_above: float | None = Field(default=None, ge=0, le=1)
    seed: int
    p_method: str
    ci_level: float = Field(gt=0, lt=1)
    excluded: tuple[str, ...]
    scan_cuts: tuple[float, ...]
    scan_statistics: tuple[float, ...]
    version: str

    @property
    def low(self) -> CutpointGroup:
        """The group with biomarker ≤ cut."""
        return self.groups[0]

    @property
    def high(self) -> CutpointGroup:
        """The group with biomarker > cut."""
        return self.groups[1]

    @property
    def horizon_text(self) -> str:
        """The horizon as a clinician reads it: ``"5 years"``, ``"18 months"`` for a whole
        number of years or months (365.25 days a year), else the day: as given when
        ``horizon_days`` was given (``"day 977.5"``), the day it falls on when it is the last
        event time (``"day 978"`` for day 977.957, a time converted from months).

        Examples
        --------
        >>> import immunoprecise as ip
        >>> res = optimal_cutpoint(ip.data.example_path("fl_cohort.csv"),
        ...                        "cd8_foxp3_ratio.interfollicular", n_boot=0)
        >>> res.horizon_text, res.groups[0].survival_at_horizon.name
        ('5 years', 'OS at 5 years')
        """
        return horizon_text(self.horizon_days, exact=self.horizon_basis == "given")

    def summary(self) -> str:
        """One sentence: horizon survival of both groups, the cut with its CI, max statistic, p.

        Examples
        --------
        >>> import immunoprecise as ip
        >>> res = optimal_cutpoint(ip.data.example_path("fl_cohort.csv"),
        ...                        "cd8_foxp3_ratio.interfollicular", n_boot=200)
        >>> print(res.summary())
        5-year OS 60% vs 85% for cd8_foxp3_ratio.interfollicular > 1.67 vs ≤ 1.67
        (cut-point 95% CI 0.964–2.27; max standardized log-rank 5.30, adjusted p <0.001,
        Lausen–Schumacher 1992)
        """
        cut = format_cut(self.cutpoint.estimate)
        hi, lo = self.high.survival_at_horizon, self.low.survival_at_horizon
        text = self.horizon_text
        if text.startswith("day "):  # "OS at day 978: 60% vs 85%"
            what = f"{self.endpoint.upper()} at {text}:"
        else:  # "5-year OS 60% vs 85%"
            number, unit = text.split(" ")
            what = f"{number}-{unit.removesuffix('s')} {self.endpoint.upper()}"
        ci = ""
        if self.cutpoint.ci_low is not None and self.cutpoint.ci_high is not None:
            level = f"{100 * self.ci_level:g}%"
            low, high = format_cut(self.cutpoint.ci_low), format_cut(self.cutpoint.ci_high)
            ci = f"cut-point {level} CI {low}–{high}; "
        label = P_METHODS[self.p_method][0]
        p = self.max_statistic.p_value
        p_text = "NE" if p is None else format_p(p)
        p_text = p_text if p_text.startswith("<") else f"= {p_text}"
        return (
            f"{what} {_pct(hi.estimate)} vs {_pct(lo.estimate)} for "
            f"{self.biomarker} > {cut} vs ≤ {cut} ({ci}max standardized log-rank "
            f"{self.max_statistic.estimate:.2f}, adjusted p {p_text}, {label})"
        )


def optimal_cutpoint(
    data: pd.DataFrame | Cohort | str | Path,
    biomarker: str,
    *,
    endpoint: str = "os",
    min_prop: float = 0.1,
    n_boot: int = 1000,
    ci_level: float = 0.95,
    horizon_days: float | None = None,
    p_method: str = "lausen-schumacher",
    seed: int = 0,
) -> Cutpoint:
    """Find the cut-point of a biomarker that best separates survival (maximally selected log-rank).

    Every cut between two distinct biomarker values that leaves at least ``min_prop`` of the
    patients on each side (``⌊N·min_prop⌋ ≤ m ≤ ⌊N·(1 − min_prop)⌋`` patients in the low group,
    as in R's maxstat) is scored by the standardized log-rank statistic
    ``Z(c) = Σ_{x_i ≤ c} a_i / √(m (N − m) / (N (N − 1)) · Σ a_i²)`` with log-rank scores
    ``a_i = δ_i − Λ̂(t_i)`` (Nelson–Aalen ``Λ̂``); the cut with the largest ``|Z|`` is chosen
    (the first on ties). One sort and one cumulative sum evaluate all cuts (O(N log N)).

    Parameters
    ----------
    data
        Anything :func:`~immunoprecise.cohort.cohort_frame` accepts: a cohort, a cohort table
        file or a ``DataFrame`` in the analysis layout.
    biomarker
        Numeric column to cut (e.g. ``"cd8_foxp3_ratio.interfollicular"``).
    endpoint
        ``"os"`` or ``"pfs"``.
    min_prop
        Smallest share of patients on either side of a cut, in (0, 0.5); 0.1 as in maxstat.
    n_boot
        Bootstrap resamples of the patients for the cut-point CI; 0 gives no CI.
    ci_level
        Coverage of the bootstrap percentile CI and of the Kaplan–Meier CIs.
    horizon_days
        Time at which each group's survival is reported. Default: five years (1826.25 days)
        when some patient is followed that long, otherwise the last event time.
    p_method
        ``"lausen-schumacher"`` (Lausen & Schumacher 1992 approximation),
        ``"lausen-1994"`` (improved Bonferroni bound over the candidate cuts) or
        ``"hothorn-lausen"`` (exact permutation bound on integer scores, Hothorn & Lausen 2003;
        at most 200 patients).
    seed
        Seed of the bootstrap (``numpy.random.SeedSequence``).

    Returns
    -------
    Cutpoint

    Raises
    ------
    CohortError
        The biomarker column is missing or not numeric, no event was observed, fewer than two
        candidate cuts exist, or an option is out of range.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> res = optimal_cutpoint(ip.data.example_path("fl_cohort.csv"),
    ...                        "cd8_foxp3_ratio.interfollicular", n_boot=200, seed=1)
    >>> res.cutpoint.ci_low <= res.cutpoint.estimate <= res.cutpoint.ci_high
    True
    >>> [g.side for g in res.groups], res.logrank.df
    (['low', 'high'], 1.0)
    """
    _check_options(min_prop, n_boot, ci_level, horizon_days, p_method, seed)
    frame = cohort_frame(data)
    values = _numeric_column(frame, biomarker)
    frame = frame.assign(**{biomarker: values})
    surv = survival_data(frame, endpoint, require=[biomarker])
    x = values.loc[surv.index].to_numpy(dtype=float)
    time, event = surv.time, surv.event.astype(float)
    n = surv.n
    if event.sum() == 0:
        raise CohortError(
            f"no {endpoint} event among the {n} patients with {biomarker}; a log-rank cut-point "
            "needs observed events"
        )
    lay = rank_scan.layout(x, time, event)
    res = rank_scan.scan(lay, np.ones((1, n)), min_prop)
    z = res.z[0]
    candidate = ~np.isnan(z)
    if candidate.sum() < 2:
        raise CohortError(
            f"{biomarker} has {len(np.unique(x))} distinct value(s) among {n} patients, giving "
            f"{int(candidate.sum())} candidate cut(s) with at least {min_prop:g} of the patients "
            "on each side; at least 2 are needed (lower min_prop or add patients)"
        )
    idx, top = rank_scan.best(res.z)
    best = int(idx[0])
    cut = float(lay.cut_values[best])
    max_z = float(top[0])
    m = res.lower_n[0, candidate].astype(np.int64)
    p_adj = _adjusted_p(p_method, max_z, time, event, x, m, min_prop)

    boot, boot_next = rank_scan.bootstrap_cuts(lay, min_prop, n_boot, seed)
    found = ~np.isnan(boot)
    ok, ok_next = boot[found], boot_next[found]
    ci_low = ci_high = below = above = None
    if ok.size:
        q = (1 - ci_level) / 2
        ci_low = float(np.quantile(ok, q))
        ci_high = float(np.quantile(ok_next, 1 - q))
        # a resample falls below when every threshold splitting it as chosen lies below the
        # cut, above when every one lies at or above the next value (same split otherwise)
        below = float(np.mean(ok_next <= cut))
        above = float(np.mean(ok >= float(lay.next_values[best])))

    lower = x <= cut
    chi2, p_lr, _, _ = rank_scan.logrank_chi2(time, event, lower)
    horizon, basis = _horizon(horizon_days, time, event)
    shown = horizon_text(horizon, exact=basis == "given")
    label, reference_text = P_METHODS[p_method][1:]
    from immunoprecise import __version__

    cut_text = format_cut(cut)
    return Cutpoint(
        biomarker=biomarker,
        endpoint=endpoint,
        cutpoint=Statistic(
            name=f"{biomarker} cut-point",
            estimate=cut,
            ci_low=ci_low,
            ci_high=ci_high,
            ci_level=ci_level if ci_low is not None else None,
            n=n,
            method=(
                f"maximally selected log-rank statistic over {int(candidate.sum())} cuts "
                f"(min_prop {min_prop:g}); percentile bootstrap CI of {ok.size} resamples"
            ),
            reference=CUT_REFERENCE,
        ),
        max_statistic=Statistic(
            name="max standardized log-rank |Z|",
            estimate=max_z,
            n=n,
            p_value=p_adj,
            method=label,
            reference=reference_text,
        ),
        logrank=Statistic(
            name="log-rank χ²",
            estimate=chi2,
            n=n,
            p_value=p_lr,
            df=1.0,
            method=(
                "two-group log-rank test at the chosen cut (hypergeometric variance); "
                "p not adjusted for the cut-point search"
            ),
            reference=LOGRANK_REFERENCE,
        ),
        groups=(
            _group(surv, lower, f"{biomarker} ≤ {cut_text}", "low", horizon, shown, ci_level),
            _group(surv, ~lower, f"{biomarker} > {cut_text}", "high", horizon, shown, ci_level),
        ),
        horizon_days=horizon,
        horizon_basis=basis,
        min_prop=min_prop,
        n_boot=n_boot,
        n_boot_failed=int(n_boot - ok.size),
        bootstrap_below=below,
        bootstrap_above=above,
        seed=seed,
        p_method=p_method,
        ci_level=ci_level,
        excluded=surv.excluded,
        scan_cuts=tuple(float(v) for v in lay.cut_values[candidate]),
        scan_statistics=tuple(float(v) for v in z[candidate]),
        version=__version__,
    )


def _check_options(
    min_prop: float,
    n_boot: int,
    ci_level: float,
    horizon_days: float | None,
    p_method: str,
    seed: int,
) -> None:
    if not 0 < min_prop < 0.5:
        raise CohortError(f"min_prop = {min_prop} is out of range; use a share in (0, 0.5)")
    if not _is_count(n_boot):
        raise CohortError(
            f"n_boot = {n_boot!r} is not a number of resamples; use 0 (no CI) or a whole number > 0"
        )
    if not _is_count(seed):
        # checked before the bootstrap: numpy would otherwise draw from fresh entropy (None)
        # or fail only after the scan (a negative seed)
        raise CohortError(f"seed = {seed!r} is not a seed; use a whole number ≥ 0")
    if not 0 < ci_level < 1:
        raise CohortError(f"ci_level = {ci_level} is out of range; use e.g. 0.95")
    if horizon_days is not None and not (math.isfinite(horizon_days) and horizon_days > 0):
        raise CohortError(f"horizon_days = {horizon_days} is not a time; use days > 0")
    if p_method not in P_METHODS:
        raise CohortError(f"p_method {p_method!r} is not known; use one of {', '.join(P_METHODS)}")


def _is_count(value: object) -> bool:
    """Whether ``value`` is a whole number ≥ 0 (a Python or numpy integer, not a bool)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and bool(value >= 0)


def _numeric_column(frame: pd.DataFrame, biomarker: str) -> pd.Series:
    if biomarker not in frame.columns:
        numeric = [
            str(c)
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c])
            and not str(c).startswith(("os_", "pfs_"))
            and frame[c].nunique() > 2
        ]
        more = f", … ({len(numeric)} in all)" if len(numeric) > 12 else ""
        shown = ", ".join(numeric[:12]) + more
        hint = did_you_mean(biomarker, numeric) or did_you_mean(
            biomarker, [str(c) for c in frame.columns]
        )
        raise CohortError(
            f"the cohort has no column {biomarker!r}{hint}; continuous biomarker columns are: "
            f"{shown}"
        )
    return numeric_values(frame, biomarker, use="a cut-point")


def _adjusted_p(
    p_method: str,
    max_z: float,
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    m: np.ndarray,
    min_prop: float,
) -> float:
    if p_method == "lausen-schumacher":
        return rank_scan.p_lausen92(max_z, min_prop, 1 - min_prop)
    if p_method == "lausen-1994":
        return rank_scan.p_lausen94(max_z, int(x.shape[0]), m)
    n = int(x.shape[0])
    if n > rank_scan.HL_MAX_N:
        raise CohortError(
            f"p_method 'hothorn-lausen' computes the exact permutation distribution, feasible "
            f"up to {rank_scan.HL_MAX_N} patients; this analysis has {n}. Use "
            "'lausen-schumacher' or 'lausen-1994'"
        )
    scores = rank_scan.integer_scores(rank_scan.logrank_scores(time, event))
    order = np.argsort(x, kind="stable")
    b = rank_scan.max_abs_z(scores[order].astype(float), m)
    return rank_scan.p_hothorn_lausen(b, scores, m)


def _horizon(
    given: float | None, time: np.ndarray, event: np.ndarray
) -> tuple[float, Literal["given", "five years", "last event"]]:
    if given is not None:
        return float(given), "given"
    if float(time.max()) >= FIVE_YEARS_DAYS:
        return FIVE_YEARS_DAYS, "five years"
    last_event = float(time[event > 0].max())
    if last_event <= 0:
        raise CohortError(
            "every event is at day 0, so there is no default horizon to compare survival at; "
            "give horizon_days (days > 0)"
        )
    return last_event, "last event"


def _group(
    surv: SurvivalData,
    mask: np.ndarray,
    label: str,
    side: Literal["low", "high"],
    horizon: float,
    horizon_shown: str,
    ci_level: float,
) -> CutpointGroup:
    t, e = surv.time[mask], surv.event[mask]
    n = int(mask.sum())
    kmf = KaplanMeierFitter(alpha=1 - ci_level).fit(t, e, label=label)
    sf = kmf.survival_function_.iloc[:, 0]
    band = kmf.confidence_interval_
    name = f"{surv.endpoint.upper()} at {horizon_shown}"
    i = int(np.searchsorted(sf.index.to_numpy(), horizon, side="right")) - 1
    est: float = float(sf.iloc[i])
    lo: float | None = float(band.iloc[i, 0])
    hi: float | None = float(band.iloc[i, 1])
    method = "Kaplan–Meier, exponential Greenwood CI (lifelines)"
    if horizon > float(t.max()) and est > 0:
        est, lo, hi = math.nan, None, None
        method += f"; not estimable: follow-up ends at day {float(t.max()):g}"
    elif est == 0:
        lo, hi = None, None
        method += f"; {NO_CI_AT_ZERO}"
    median = float(kmf.median_survival_time_)
    med_ci = median_survival_times(band)
    m_lo, m_hi = float(med_ci.iloc[0, 0]), float(med_ci.iloc[0, 1])
    return CutpointGroup(
        label=label,
        side=side,
        n=n,
        events=int(e.sum()),
        survival_at_horizon=Statistic(
            name=name,
            estimate=est,
            ci_low=_finite(lo),
            ci_high=_finite(hi),
            ci_level=ci_level,
            n=n,
            method=method,
            unit="fraction",
            reference=KM_REFERENCE,
        ),
        median_survival=Statistic(
            name=f"median {surv.endpoint.upper()}",
            estimate=median,
            ci_low=_finite(m_lo),
            ci_high=_finite(m_hi),
            ci_level=ci_level,
            n=n,
            method="Kaplan–Meier median, CI from the survival band (lifelines)",
            unit="days",
            reference="Brookmeyer & Crowley 1982, Biometrics 38:29",
        ),
    )


def _finite(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else v


def _pct(x: float) -> str:
    return "NE" if math.isnan(x) else f"{100 * x:.0f}%"


def horizon_text(days: float, *, exact: bool = True) -> str:
    """A survival horizon in days as a clinician reads it.

    A whole number of years or months (365.25 days a year, 30.4375 a month) is named so
    (``"5 years"``, ``"1 year"``, ``"18 months"``); any other horizon is a day: written as given
    when ``exact`` (a horizon the user chose, ``"day 977.5"``), else the day it falls on
    (:func:`~immunoprecise.cohort.statistic.format_day`: a default horizon at the last event
    time, ``"day 978"`` for 977.957 days).

    Parameters
    ----------
    days
        The horizon in days (> 0).
    exact
        Write a day that is not a whole number of years or months with all its digits.

    Returns
    -------
    str
        ``"<n> years"``, ``"<n> months"`` or ``"day <d>"``.

    Examples
    --------
    >>> horizon_text(1826.25), horizon_text(365.25), horizon_text(547.875)
    ('5 years', '1 year', '18 months')
    >>> horizon_text(977.957, exact=False), horizon_text(977.5), horizon_text(730)
    ('day 978', 'day 977.5', 'day 730')
    """
    for unit, length in (("year", 365.25), ("month", 365.25 / 12)):
        count = days / length
        if abs(count - round(count)) < 1e-9 and round(count) >= 1:
            return f"{round(count)} {unit}" + ("s" if round(count) > 1 else "")
    return f"day {days:.10g}" if exact else f"day {format_day(days)}"
