"""Random-effects pooling of one statistic across cohorts (DerSimonian–Laird).

Each cohort's estimate is moved to a scale on which it is roughly normal (logit for an AUC, log
for a hazard ratio), its standard error is recovered from its Wald CI on that scale
(SE = (g(high) − g(low)) / (2·z) — exact for intervals built there, as :func:`roc_auc` builds
them), and the estimates are pooled with inverse-variance weights 1/(SE² + τ²), where τ² is the
between-cohort variance of DerSimonian & Laird (1986, Control Clin Trials 7:177,
doi:10.1016/0197-2456(86)90046-2). Heterogeneity: Cochran's Q (Cochran 1954, Biometrics 10:101)
and I² = (Q − df)/Q (Higgins & Thompson 2002, Stat Med 21:1539, doi:10.1002/sim.1186).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict
from scipy import stats

from immunoprecise.cohort.statistic import Statistic, check_ci_level
from immunoprecise.errors import CohortError

__all__ = ["PooledEstimate", "Scale", "pool_random_effects"]

Scale = Literal["logit", "log", "identity"]
DL_REFERENCE = (
    "DerSimonian & Laird 1986, Control Clin Trials 7:177, doi:10.1016/0197-2456(86)90046-2; "
    "I²: Higgins & Thompson 2002, Stat Med 21:1539"
)


class PooledEstimate(BaseModel):
    """A random-effects pooled estimate with the studies it came from.

    Attributes
    ----------
    pooled
        The DerSimonian–Laird random-effects estimate with its CI (``n`` = patients in all
        studies), back on the studies' scale.
    fixed
        The inverse-variance fixed-effect estimate, for comparison.
    labels, studies
        Each study's label and its statistic, in the order given.
    weights
        Random-effects weight of each study (fractions summing to 1).
    tau2
        Between-study variance τ² on the pooling scale (0 = no heterogeneity beyond chance).
    i2
        I², the share of the variation between studies beyond chance (0–1).
    q
        Cochran's Q with its degrees of freedom (studies − 1) and p-value.
    scale
        The scale the pooling was done on (``"logit"``, ``"log"`` or ``"identity"``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pooled: Statistic
    fixed: Statistic
    labels: tuple[str, ...]
    studies: tuple[Statistic, ...]
    weights: tuple[float, ...]
    tau2: float
    i2: float
    q: Statistic
    scale: str


def pool_random_effects(
    estimates: Sequence[Statistic],
    *,
    labels: Sequence[str] | None = None,
    scale: Scale = "logit",
    standard_errors: Sequence[float] | None = None,
    ci_level: float = 0.95,
) -> PooledEstimate:
    """Pool per-cohort estimates with the DerSimonian–Laird random-effects model.

    On the pooling scale g: θᵢ = g(estimateᵢ), vᵢ = SEᵢ²; fixed-effect weights wᵢ = 1/vᵢ,
    θ_FE = Σwᵢθᵢ/Σwᵢ; Q = Σwᵢ(θᵢ − θ_FE)²; τ² = max(0, (Q − (k − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ));
    random-effects weights wᵢ* = 1/(vᵢ + τ²), θ_RE = Σwᵢ*θᵢ/Σwᵢ*, SE(θ_RE) = 1/√Σwᵢ*; the CI
    θ_RE ± z·SE is transformed back with g⁻¹.

    Parameters
    ----------
    estimates
        One statistic per study (cohort), each with its CI and ``ci_level`` unless
        ``standard_errors`` are given.
    labels
        Study names (``"study 1"``… when omitted).
    scale
        ``"logit"`` for proportions and AUCs, ``"log"`` for ratios (hazard or odds ratios),
        ``"identity"`` for differences.
    standard_errors
        Standard errors on the pooling scale, when known; otherwise recovered from each CI as
        (g(high) − g(low)) / (2·z) with z the normal quantile of the statistic's ``ci_level``.
    ci_level
        Coverage of the pooled interval.

    Returns
    -------
    PooledEstimate
        Pooled and fixed-effect statistics, weights, τ², I², Cochran's Q with p.

    Raises
    ------
    CohortError
        Fewer than two studies, labels of another length, a study without a CI, an estimate
        outside the scale's domain (an AUC of 0 or 1 on the logit scale), or a zero SE.

    References
    ----------
    DerSimonian R, Laird N. Control Clin Trials 1986;7:177–188. Higgins JPT, Thompson SG. Stat
    Med 2002;21:1539–1558. Borenstein M et al. *Introduction to Meta-Analysis*, Wiley 2009, ch. 12.

    Examples
    --------
    >>> aucs = [Statistic(name="AUC", estimate=a, ci_low=lo, ci_high=hi, ci_level=0.95, n=n,
    ...                   method="DeLong")
    ...         for a, lo, hi, n in [(0.70, 0.55, 0.82, 40), (0.62, 0.45, 0.77, 30),
    ...                              (0.75, 0.58, 0.87, 25)]]
    >>> pooled = pool_random_effects(aucs, labels=["A", "B", "C"])
    >>> round(pooled.pooled.estimate, 3), pooled.tau2, pooled.pooled.n
    (0.689, 0.0, 95)
    """
    k = len(estimates)
    if k < 2:
        raise CohortError(f"pooling needs at least 2 studies; got {k}")
    names = [f"study {i + 1}" for i in range(k)] if labels is None else [str(v) for v in labels]
    if len(names) != k:
        raise CohortError(f"{len(names)} labels were given for {k} estimates; give one per study")
    if standard_errors is not None and len(standard_errors) != k:
        raise CohortError(f"{len(standard_errors)} standard errors for {k} estimates")
    if scale not in ("logit", "log", "identity"):
        raise CohortError(f"scale must be 'logit', 'log' or 'identity'; got {scale!r}")
    check_ci_level(ci_level)
    theta: list[float] = []
    var: list[float] = []
    for i, (label, s) in enumerate(zip(names, estimates, strict=True)):
        t = _to_scale(s.estimate, scale, label, "estimate")
        if standard_errors is not None:
            se = float(standard_errors[i])
        else:
            if s.ci_low is None or s.ci_high is None or s.ci_level is None:
                raise CohortError(
                    f"{_study(label)}: {s.name} has no confidence interval to recover its standard "
                    "error from; give standard_errors"
                )
            zi = float(stats.norm.ppf(0.5 + s.ci_level / 2))
            lo = _to_scale(s.ci_low, scale, label, "CI lower bound")
            hi = _to_scale(s.ci_high, scale, label, "CI upper bound")
            se = (hi - lo) / (2 * zi)
        if not (math.isfinite(se) and se > 0):
            raise CohortError(
                f"{_study(label)}: standard error {se:g} on the {scale} scale; every study needs a "
                "positive, finite standard error (a CI of zero width cannot be weighted)"
            )
        theta.append(t)
        var.append(se * se)
    w = [1.0 / v for v in var]
    sw = sum(w)
    fixed = sum(wi * ti for wi, ti in zip(w, theta, strict=True)) / sw
    q = sum(wi * (ti - fixed) ** 2 for wi, ti in zip(w, theta, strict=True))
    df = k - 1
    c = sw - sum(wi * wi for wi in w) / sw
    tau2 = max(0.0, (q - df) / c) if c > 0 else 0.0
    w_re = [1.0 / (v + tau2) for v in var]
    sw_re = sum(w_re)
    pooled = sum(wi * ti for wi, ti in zip(w_re, theta, strict=True)) / sw_re
    z = float(stats.norm.ppf(0.5 + ci_level / 2))
    n = sum(s.n for s in estimates)
    # studies named differently ("HR", "hazard ratio"): a ratio on the log scale, else an estimate
    mixed = "ratio" if scale == "log" else "estimate"
    name = estimates[0].name if len({s.name for s in estimates}) == 1 else mixed
    unit = estimates[0].unit

    def stat(centre: float, se: float, how: str) -> Statistic:
        return Statistic(
            name=f"pooled {name}",
            estimate=_from_scale(centre, scale),
            ci_low=_from_scale(centre - z * se, scale),
            ci_high=_from_scale(centre + z * se, scale),
            ci_level=ci_level,
            n=n,
            method=f"{how}, {k} studies, {scale} scale",
            unit=unit,
            reference=DL_REFERENCE,
        )

    return PooledEstimate(
        pooled=stat(pooled, math.sqrt(1.0 / sw_re), "DerSimonian–Laird random effects"),
        fixed=stat(fixed, math.sqrt(1.0 / sw), "inverse-variance fixed effect"),
        labels=tuple(names),
        studies=tuple(estimates),
        weights=tuple(wi / sw_re for wi in w_re),
        tau2=tau2,
        i2=max(0.0, (q - df) / q) if q > 0 else 0.0,
        q=Statistic(
            name="Cochran's Q",
            estimate=q,
            n=n,
            df=float(df),
            p_value=float(stats.chi2.sf(q, df)),
            method="Cochran's Q test of heterogeneity (χ²)",
            reference="Cochran 1954, Biometrics 10:101",
        ),
        scale=scale,
    )


def _study(label: str) -> str:
    """A study as messages name it: ``study 2`` for the default label ``study 2``, ``study
    Hugo2016`` for a given one."""
    return label if label.startswith("study ") else f"study {label}"


def _to_scale(value: float, scale: str, label: str, what: str) -> float:
    if scale == "identity":
        return float(value)
    if scale == "log":
        if value > 0 and math.isfinite(value):
            return math.log(value)
        raise CohortError(
            f"{_study(label)}: {what} {value:g} cannot be pooled on the log scale (needs > 0)"
        )
    if 0 < value < 1:
        return math.log(value / (1 - value))
    raise CohortError(
        f"{_study(label)}: {what} {value:g} cannot be pooled on the logit scale (needs 0 < x < 1); "
        "an AUC of 0 or 1 has no DeLong variance — leave the study out or use scale='identity'"
    )


def _from_scale(value: float, scale: str) -> float:
    if scale == "identity":
        return value
    if scale == "log":
        return math.exp(value)
    return 1.0 / (1.0 + math.exp(-value)) if value >= 0 else math.exp(value) / (1 + math.exp(value))
