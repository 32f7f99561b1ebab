"""Trial endpoints from the per-patient outcomes: ORR, CR rate, PFS/OS, hazard ratios, gaps.

- **ORR and CR rate** per arm (and per stratum) with exact Clopper–Pearson CIs
  (:func:`~immunoprecise.cohort.clopper_pearson`); every simulated patient counts in the
  denominator, those whose simulation failed as non-responders (``NE``, reported).
- **PFS and OS**: Kaplan–Meier per arm with the log-rank test
  (:func:`~immunoprecise.cohort.kaplan_meier`), and the hazard ratio of each arm against the
  first (Cox proportional hazards with Efron ties, from the event counts at each event time:
  :func:`~immunoprecise.cohort.hazard_ratio.two_group_hazard_ratio`, equal to lifelines on every
  patient, in milliseconds for a million patients). Every arm holds the same virtual patients,
  so these tests treat paired samples as independent: they are conservative, and with a million
  patients almost any difference is "significant" — read the effect sizes and their CIs.
- **Observed results**: the simulated rate beside the published one (both with exact CIs), the
  gap in percentage points and Fisher's exact test of the published count against the simulated
  count (two-sided; Fisher 1922, J R Stat Soc 85:87–94). The simulated rate is itself a sample
  of ``n_per_arm`` patients: with 10,000 of them the test is the exact binomial test of the
  published count under the simulated rate, and with few it no longer takes a rate of 0 of 1
  simulated patient for certain (p = 0). The gap is reported, never fitted away silently.

Examples
--------
>>> import pandas as pd
>>> o = pd.DataFrame({"arm": ["A"] * 4, "stratum": [""] * 4, "ok": [True] * 4,
...                   "best_response": ["CR", "PR", "SD", "PD"]})
>>> arm_endpoints(o, ("A",), {"A": "A"})[0].orr.estimate
0.5
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import stats

from immunoprecise.cohort import SurvivalCurves, clopper_pearson, kaplan_meier
from immunoprecise.cohort.hazard_ratio import two_group_hazard_ratio
from immunoprecise.cohort.statistic import Statistic
from immunoprecise.dynamics.trials.design import ObservedResult
from immunoprecise.errors import ImmunopreciseError

__all__ = [
    "ArmEndpoints",
    "HazardRatio",
    "ObservedComparison",
    "arm_endpoints",
    "compare_observed",
    "hazard_ratios",
    "survival_by_arm",
]

RESPONSES = ("CR", "PR", "SD", "PD", "NE")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArmEndpoints(_Frozen):
    """Response endpoints of one arm, or of one stratum within an arm (``stratum`` set)."""

    arm: str
    label: str
    stratum: str | None = None
    n: int
    counts: dict[str, int]
    orr: Statistic
    cr_rate: Statistic
    median_best_change_percent: float | None


class HazardRatio(_Frozen):
    """Hazard ratio of ``arm`` against ``reference`` for one endpoint (``pfs`` or ``os``)."""

    arm: str
    reference: str
    endpoint: str
    hr: Statistic


class ObservedComparison(_Frozen):
    """A published rate beside the simulated one: both with exact CIs, the gap and its test."""

    arm: str
    endpoint: str
    stratum: str | None
    simulated: Statistic
    observed: Statistic
    gap_points: float
    p_value: float
    source: str
    note: str | None = None

    @property
    def consistent(self) -> bool:
        """Whether the observed count is compatible with the simulated rate (p ≥ 0.05)."""
        return self.p_value >= 0.05


def _rates(frame: pd.DataFrame, arm: str, label: str, stratum: str | None) -> ArmEndpoints:
    best = frame["best_response"].astype(str)
    counts = {r: int((best == r).sum()) for r in RESPONSES}
    n = len(frame)
    responders = counts["CR"] + counts["PR"]
    change = frame.get("best_change_percent")
    median = None
    if change is not None and change.notna().any():
        median = float(np.nanmedian(change.to_numpy(dtype=float)))
    return ArmEndpoints(
        arm=arm,
        label=label,
        stratum=stratum,
        n=n,
        counts=counts,
        orr=clopper_pearson(responders, n, name="ORR"),
        cr_rate=clopper_pearson(counts["CR"], n, name="CR rate"),
        median_best_change_percent=median,
    )


def arm_endpoints(
    outcomes: pd.DataFrame, arms: Sequence[str], labels: Mapping[str, str]
) -> list[ArmEndpoints]:
    """ORR and CR rate of each arm, then of each stratum within each arm.

    Parameters
    ----------
    outcomes
        Per-patient outcomes (columns ``arm``, ``stratum``, ``best_response``).
    arms
        Arm ids in the design's order.
    labels
        Arm id → name shown.

    Returns
    -------
    list of ArmEndpoints
        Whole arms first (``stratum`` None), then arm × stratum rows when there are strata.
    """
    rows: list[ArmEndpoints] = []
    for arm in arms:
        rows.append(_rates(outcomes[outcomes["arm"] == arm], arm, labels[arm], None))
    strata = sorted(s for s in outcomes["stratum"].astype(str).unique() if s)
    for arm in arms:
        part = outcomes[outcomes["arm"] == arm]
        for s in strata:
            rows.append(_rates(part[part["stratum"] == s], arm, labels[arm], s))
    return rows


def survival_by_arm(outcomes: pd.DataFrame, endpoint: str) -> SurvivalCurves:
    """Kaplan–Meier of ``endpoint`` (``pfs`` or ``os``) per arm, with the log-rank test."""
    cols = [f"{endpoint}_days", f"{endpoint}_event", "arm"]
    frame = outcomes.loc[outcomes["ok"].astype(bool), cols].copy()
    frame[f"{endpoint}_event"] = frame[f"{endpoint}_event"].astype(int)
    frame.index = pd.RangeIndex(len(frame), name="patient")
    return kaplan_meier(frame, endpoint=endpoint, group="arm")


def hazard_ratios(
    outcomes: pd.DataFrame, arms: Sequence[str], endpoint: str, *, ci_level: float = 0.95
) -> list[HazardRatio]:
    """Hazard ratio of every arm against the first (Cox, Efron ties), with CI and Wald p.

    Parameters
    ----------
    outcomes
        Per-patient outcomes with ``<endpoint>_days``, ``<endpoint>_event``, ``arm``, ``ok``.
    arms
        Arm ids; the first is the reference.
    endpoint
        ``"pfs"`` or ``"os"``.
    ci_level
        Coverage of the CI.

    Returns
    -------
    list of HazardRatio
        One per arm after the first; empty when an arm pair has no events.
    """
    out: list[HazardRatio] = []
    time, event = f"{endpoint}_days", f"{endpoint}_event"
    ok = outcomes[outcomes["ok"].astype(bool)]
    reference = arms[0]
    for arm in arms[1:]:
        pair = ok[ok["arm"].isin((reference, arm))]
        if int(pair[event].sum()) == 0:
            continue
        hr = two_group_hazard_ratio(
            pair[time].to_numpy(dtype=float),
            pair[event].to_numpy(dtype=float),
            (pair["arm"] == arm).to_numpy(dtype=float),
            ci_level=ci_level,
            name=f"{endpoint.upper()} hazard ratio",
        )
        out.append(HazardRatio(arm=arm, reference=reference, endpoint=endpoint, hr=hr))
    return out


def compare_observed(
    rows: Sequence[ArmEndpoints], observed: Sequence[ObservedResult]
) -> list[ObservedComparison]:
    """The simulated rate for each published result, the gap and Fisher's exact test of the
    published count against the simulated count.

    Parameters
    ----------
    rows
        Endpoints from :func:`arm_endpoints`.
    observed
        The design's published results.

    Returns
    -------
    list of ObservedComparison
        In the order of ``observed``.
    """
    out: list[ObservedComparison] = []
    for ob in observed:
        match = next(
            (r for r in rows if r.arm == ob.arm and r.stratum == (ob.stratum or None)), None
        )
        if match is None:
            raise ImmunopreciseError(
                f"no simulated patients for observed result {ob.arm}/{ob.stratum or 'all'}"
            )
        sim = match.orr if ob.endpoint == "orr" else match.cr_rate
        name = "ORR" if ob.endpoint == "orr" else "CR rate"
        obs = clopper_pearson(ob.responders, ob.n, name=f"observed {name}")
        simulated = round(sim.estimate * sim.n)
        table = [[ob.responders, ob.n - ob.responders], [simulated, sim.n - simulated]]
        p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
        out.append(
            ObservedComparison(
                arm=ob.arm,
                endpoint=ob.endpoint,
                stratum=ob.stratum,
                simulated=sim,
                observed=obs.model_copy(update={"reference": ob.source}),
                gap_points=100.0 * (sim.estimate - obs.estimate),
                p_value=min(1.0, p),
                source=ob.source,
                note=ob.note,
            )
        )
    return out
