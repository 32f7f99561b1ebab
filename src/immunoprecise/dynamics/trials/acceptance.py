"""Select a virtual population from plausible patients (Allen, Rieger & Musante 2016).

Each plausible patient ``i`` with simulated output ``y_i`` is accepted with probability

    p_i = min(1, δ · f_target(y_i) / f_plausible(y_i)),

where ``f_target`` is the density of the observed output (a Gaussian kernel density estimate of
observed values, or a parametric :mod:`scipy.stats` distribution), ``f_plausible`` the kernel
density estimate of the plausible patients' outputs, and δ a scaling factor. With
δ = 1 / max_i(f_target/f_plausible) this is exact rejection sampling: the accepted outputs follow
the target wherever the plausible population covers it. Allen et al. choose δ by optimisation so
that more patients are accepted while the Kolmogorov–Smirnov (K–S) statistic between accepted and
observed outputs stays minimal (see ``docs/virtual_populations.md``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from scipy import stats
>>> rng = np.random.default_rng(0)
>>> plausible = pd.DataFrame({"y": rng.uniform(-5, 5, 4000)})
>>> res = select_virtual_population(plausible, stats.norm(0, 1), output="y", seed=1)
>>> res.n_accepted > 300, res.goodness_of_fit.statistic < res.goodness_of_fit.critical_value
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from immunoprecise.dynamics.trials.population import (
    PlausiblePopulation,
    _Checked,
    _package_version,
    _resolve_seed,
)
from immunoprecise.errors import FieldProblem, ValidationError

__all__ = [
    "AcceptanceResult",
    "GoodnessOfFit",
    "Strata",
    "StratumResult",
    "select_virtual_population",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SCALING_GRID = 31
"""Scaling factors tried by ``scaling="optimize"``: log-spaced from δ_max to 1000·δ_max."""
SCALING_REPEATS = 10
"""Acceptance draws averaged per scaling factor (common random numbers, from the seed)."""
KS_C_ALPHA_1PCT = math.sqrt(-math.log(0.01 / 2) / 2)
"""c(α) of the asymptotic two-sample K–S critical value at α = 0.01 (1.628)."""


class Strata(_Checked):
    """Target proportions of strata (e.g. FLIPI risk groups) for a stratified selection.

    Attributes
    ----------
    column
        Column of the plausible frame holding each patient's stratum (compared as text).
    proportions
        Target proportion per stratum (each > 0, summing to 1 within 1e-6). Plausible patients
        in strata not named here are never accepted.

    Examples
    --------
    >>> Strata(column="flipi", proportions={"low": 0.375, "intermediate": 0.415, "high": 0.21})
    ... # doctest: +ELLIPSIS
    Strata(column='flipi', proportions={...})
    """

    column: str = Field(min_length=1)
    proportions: dict[str, float] = Field(min_length=1)

    def _problems(self) -> list[FieldProblem]:
        problems = [
            FieldProblem(f"strata.proportions[{k!r}]", v, "must be in (0, 1]")
            for k, v in self.proportions.items()
            if not (math.isfinite(v) and 0 < v <= 1)
        ]
        total = sum(self.proportions.values())
        if not problems and abs(total - 1.0) > 1e-6:
            problems.append(FieldProblem("strata.proportions", total, "proportions must sum to 1"))
        return problems


class GoodnessOfFit(BaseModel):
    """Kolmogorov–Smirnov comparison of the accepted outputs with the target.

    ``critical_value`` is the K–S statistic's critical value at ``alpha`` for these sample sizes
    (exact one-sample distribution; asymptotic c(α)·sqrt((n+m)/(n·m)) for two samples).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str
    statistic: float
    p_value: float
    n: int
    n_observed: int | None
    alpha: float = 0.01
    critical_value: float


class StratumResult(BaseModel):
    """Target and achieved share of one stratum in the accepted population."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stratum: str
    target_proportion: float
    achieved_proportion: float
    n_plausible: int
    n_accepted: int


class AcceptanceResult(BaseModel):
    """A virtual population selected from plausible patients, with its goodness of fit.

    Attributes
    ----------
    frame
        The accepted rows of the plausible frame (same index and columns).
    outputs
        The accepted patients' outputs (index as ``frame``).
    probability
        Inclusion probability p_i of every plausible patient (before any subsampling to
        ``n_target`` or to stratum quotas).
    scaling_factor
        δ used (per stratum: the largest of the strata's δ).
    scaling
        ``rejection`` or ``optimize`` (see :func:`select_virtual_population`).
    n_plausible, n_accepted, acceptance_rate
        Counts and ``n_accepted / n_plausible``.
    goodness_of_fit
        K–S test of accepted outputs against the observed sample (two-sample) or the parametric
        target (one-sample).
    strata
        Target vs achieved proportion per stratum (empty without stratification).
    target, seed, version, message
        Target description, seed used, package version, and a note (e.g. ``n_target`` missed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    frame: pd.DataFrame
    outputs: pd.Series
    probability: pd.Series
    scaling_factor: float
    scaling: Literal["rejection", "optimize"]
    n_plausible: int
    n_accepted: int
    acceptance_rate: float
    goodness_of_fit: GoodnessOfFit
    strata: tuple[StratumResult, ...] = ()
    target: str
    seed: int
    version: str
    message: str = ""


class _Target:
    """Target density and K–S test, from an observed sample or a frozen distribution."""

    def __init__(self, observed: Any) -> None:
        self.dist: Any = None
        self.sample: FloatArray | None = None
        self._kde: Any = None
        if all(hasattr(observed, a) for a in ("pdf", "cdf", "rvs")):
            self.dist = observed
            self.description = f"parametric target {_describe_dist(observed)}"
            return
        sample = _observed_sample(observed)
        self.sample = sample
        self._kde = _kde(sample, "observed")
        self.description = f"Gaussian KDE of {sample.size} observed values"

    def pdf(self, y: FloatArray) -> FloatArray:
        """Target density at outputs ``y``."""
        density = self.dist.pdf(y) if self._kde is None else self._kde(y)
        return np.asarray(density, dtype=float)

    def fit(self, accepted: FloatArray) -> GoodnessOfFit:
        n = int(accepted.size)
        if n < 1:
            return GoodnessOfFit(
                method="none (no patient accepted)",
                statistic=1.0,
                p_value=0.0,
                n=0,
                n_observed=None if self.sample is None else int(self.sample.size),
                critical_value=0.0,
            )
        if self.sample is None:
            res = stats.kstest(accepted, self.dist.cdf)
            return GoodnessOfFit(
                method="one-sample Kolmogorov–Smirnov against the parametric target",
                statistic=float(res.statistic),
                p_value=float(res.pvalue),
                n=n,
                n_observed=None,
                critical_value=float(stats.kstwo.ppf(0.99, n)),
            )
        m = int(self.sample.size)
        res = stats.ks_2samp(accepted, self.sample)
        return GoodnessOfFit(
            method="two-sample Kolmogorov–Smirnov against the observed values",
            statistic=float(res.statistic),
            p_value=float(res.pvalue),
            n=n,
            n_observed=m,
            critical_value=KS_C_ALPHA_1PCT * math.sqrt((n + m) / (n * m)),
        )

    def ks(self, accepted: FloatArray) -> float:
        if accepted.size < 2:
            return 1.0
        if self.sample is None:
            return float(stats.kstest(accepted, self.dist.cdf).statistic)
        return float(stats.ks_2samp(accepted, self.sample).statistic)


def _describe_dist(dist: Any) -> str:
    name = getattr(getattr(dist, "dist", None), "name", type(dist).__name__)
    args = ", ".join(f"{a:g}" for a in getattr(dist, "args", ()) if isinstance(a, int | float))
    kwds = ", ".join(
        f"{k}={v:g}" for k, v in getattr(dist, "kwds", {}).items() if isinstance(v, int | float)
    )
    return f"{name}({', '.join(x for x in (args, kwds) if x)})"


def _observed_sample(observed: Any) -> FloatArray:
    try:
        arr = np.asarray(observed, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(
            [
                FieldProblem(
                    "observed",
                    type(observed).__name__,
                    "must be numbers or a scipy.stats frozen distribution",
                )
            ]
        ) from None
    if arr.ndim != 1:
        raise ValidationError(
            [FieldProblem("observed", f"shape {arr.shape}", "must be one-dimensional")]
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValidationError(
            [
                FieldProblem(
                    "observed",
                    f"{bad.size} missing or infinite value(s) at positions {bad[:5].tolist()}",
                    "drop missing values before selecting (e.g. observed.dropna())",
                )
            ]
        )
    if np.unique(arr).size < 2:
        raise ValidationError(
            [FieldProblem("observed", f"{arr.size} value(s)", "needs at least 2 distinct values")]
        )
    return arr


def _kde(values: FloatArray, field: str) -> Any:
    if np.unique(values).size < 2:
        raise ValidationError(
            [FieldProblem(field, f"{values.size} value(s)", "needs at least 2 distinct values")]
        )
    return stats.gaussian_kde(values)


def _accept(ratio: FloatArray, delta: float, u: FloatArray) -> BoolArray:
    return np.asarray(u < np.minimum(1.0, delta * ratio), dtype=bool)


def _choose_delta(
    ratio: FloatArray,
    y: FloatArray,
    target: _Target,
    scaling: str,
    rng: np.random.Generator,
) -> float:
    delta_max = 1.0 / float(ratio.max())
    if scaling == "rejection":
        return delta_max
    grid = delta_max * 10.0 ** np.linspace(0.0, 3.0, SCALING_GRID)
    u = rng.random((SCALING_REPEATS, ratio.size))
    scores = [
        float(np.mean([target.ks(y[_accept(ratio, float(d), u_r)]) for u_r in u])) for d in grid
    ]
    return float(grid[int(np.argmin(scores))])


def _delta_for_count(ratio: FloatArray, count: float) -> float:
    """Smallest δ with expected accepted count Σ min(1, δ r_i) ≥ count (bisection, log scale)."""
    lo, hi = 1.0 / float(ratio.max()), 1.0 / float(ratio[ratio > 0].min())
    if np.minimum(1.0, lo * ratio).sum() >= count:
        return lo
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        if np.minimum(1.0, mid * ratio).sum() >= count:
            hi = mid
        else:
            lo = mid
    return hi


def _outputs(frame: pd.DataFrame, output: str | npt.ArrayLike) -> FloatArray:
    if isinstance(output, str):
        if output not in frame.columns:
            raise ValidationError(
                [FieldProblem("output", output, f"not a column; columns: {list(frame.columns)}")]
            )
        y = frame[output].to_numpy(dtype=float)
    else:
        y = np.asarray(output, dtype=float).reshape(-1)
        if y.size != len(frame):
            raise ValidationError(
                [
                    FieldProblem(
                        "output",
                        f"{y.size} values",
                        f"needs one per plausible patient ({len(frame)})",
                    )
                ]
            )
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValidationError(
            [
                FieldProblem(
                    "output",
                    f"{bad.size} non-finite at rows {bad[:5].tolist()}",
                    "every plausible patient needs a finite output",
                )
            ]
        )
    return y


def select_virtual_population(
    plausible: pd.DataFrame | PlausiblePopulation,
    observed: Any,
    *,
    output: str | npt.ArrayLike,
    n_target: int | None = None,
    strata: Strata | Mapping[str, Any] | None = None,
    scaling: Literal["optimize", "rejection"] = "optimize",
    seed: int | None = None,
) -> AcceptanceResult:
    """Accept plausible patients so that their outputs follow the observed distribution.

    Implements the acceptance method of Allen, Rieger & Musante (2016): inclusion probability
    p_i = min(1, δ · f_target(y_i) / f_plausible(y_i)), one uniform draw per patient.

    Parameters
    ----------
    plausible
        Plausible patients (a frame, one row per patient, or a :class:`PlausiblePopulation`).
    observed
        The target: observed output values (array or Series; no missing values), whose density
        is a Gaussian KDE (Scott's bandwidth), or a frozen :mod:`scipy.stats` distribution.
    output
        Column of ``plausible`` with each patient's output (same unit as ``observed``), or the
        outputs themselves, one per row.
    n_target
        Wanted population size. δ is raised if needed so that about 1.1·``n_target`` are
        expected, and a uniformly random subset of ``n_target`` is kept; if fewer are accepted,
        ``message`` says so.
    strata
        Optional :class:`Strata` (or its dict): acceptance runs within each stratum against the
        same target, then each stratum is subsampled at random to its target share.
    scaling
        ``optimize`` (default; the paper's choice): δ minimising the mean K–S statistic between
        accepted and target outputs over 10 draws, on a log grid from δ_max = 1/max(f_t/f_p) to
        1000·δ_max. ``rejection``: δ = δ_max (exact rejection sampling, fewest accepted).
    seed
        Seed of all draws (``numpy.random.default_rng``); ``None``: fresh, recorded.

    Returns
    -------
    AcceptanceResult
        Accepted rows and outputs, inclusion probabilities, δ, counts, acceptance rate, K–S
        goodness of fit, stratum proportions.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> plausible = pd.DataFrame({"y": rng.uniform(0, 10, 3000),
    ...                           "g": rng.choice(["a", "b"], 3000)})
    >>> res = select_virtual_population(plausible, rng.normal(5, 1, 300), output="y",
    ...     strata={"column": "g", "proportions": {"a": 0.7, "b": 0.3}}, seed=4)
    >>> [(s.stratum, round(s.achieved_proportion, 2)) for s in res.strata]
    [('a', 0.7), ('b', 0.3)]
    """
    frame = plausible.frame if isinstance(plausible, PlausiblePopulation) else plausible
    if not isinstance(frame, pd.DataFrame) or len(frame) < 2:
        raise ValidationError(
            [FieldProblem("plausible", type(frame).__name__, "a DataFrame of ≥ 2 patients")]
        )
    if scaling not in ("optimize", "rejection"):
        raise ValidationError([FieldProblem("scaling", scaling, "'optimize' or 'rejection'")])
    if n_target is not None and (
        isinstance(n_target, bool) or not isinstance(n_target, int) or n_target < 1
    ):
        raise ValidationError([FieldProblem("n_target", n_target, "an integer ≥ 1")])
    y = _outputs(frame, output)
    target = _Target(observed)
    used_seed = _resolve_seed(seed, None)
    rng = np.random.default_rng(used_seed)
    strata_spec = (
        None
        if strata is None
        else (strata if isinstance(strata, Strata) else Strata(**dict(strata)))
    )

    n = len(frame)
    if strata_spec is None:
        groups: dict[str, npt.NDArray[np.intp]] = {"": np.arange(n)}
    else:
        if strata_spec.column not in frame.columns:
            raise ValidationError(
                [FieldProblem("strata.column", strata_spec.column, "not a plausible column")]
            )
        labels = frame[strata_spec.column].astype(str).to_numpy()
        groups = {}
        for s in strata_spec.proportions:
            idx = np.flatnonzero(labels == s)
            if idx.size < 2:
                raise ValidationError(
                    [
                        FieldProblem(
                            f"strata.proportions[{s!r}]",
                            int(idx.size),
                            "stratum needs ≥ 2 plausible patients",
                        )
                    ]
                )
            groups[s] = idx

    prob = np.zeros(n)
    accepted_by: dict[str, npt.NDArray[np.intp]] = {}
    deltas = []
    messages = []
    for s, idx in groups.items():
        ys = y[idx]
        f_p = np.asarray(_kde(ys, "output")(ys), dtype=float)
        ratio = target.pdf(ys) / f_p
        if not np.any(ratio > 0):
            raise ValidationError(
                [
                    FieldProblem(
                        "output",
                        f"range {ys.min():g}…{ys.max():g}",
                        "no plausible output where the target has density; widen the "
                        "parameter distributions",
                    )
                ]
            )
        delta = _choose_delta(ratio, ys, target, scaling, rng)
        if n_target is not None and strata_spec is None:
            if n_target > int(np.count_nonzero(ratio > 0)):
                raise ValidationError(
                    [
                        FieldProblem(
                            "n_target",
                            n_target,
                            "more than the plausible patients with "
                            f"target density ({int(np.count_nonzero(ratio > 0))})",
                        )
                    ]
                )
            delta = max(delta, _delta_for_count(ratio, min(1.1 * n_target, ratio.size)))
        p = np.minimum(1.0, delta * ratio)
        prob[idx] = p
        deltas.append(delta)
        accepted_by[s] = idx[rng.random(idx.size) < p]

    if strata_spec is None:
        keep = accepted_by[""]
        if n_target is not None:
            if keep.size > n_target:
                keep = np.sort(rng.choice(keep, n_target, replace=False))
            elif keep.size < n_target:
                messages.append(f"accepted {keep.size} < n_target {n_target}")
        stratum_results: tuple[StratumResult, ...] = ()
    else:
        props = strata_spec.proportions
        total = min(math.floor(accepted_by[s].size / props[s]) for s in props)
        if n_target is not None:
            if total < n_target:
                messages.append(f"strata allow {total} < n_target {n_target}")
            total = min(total, n_target)
        quotas = _largest_remainder(total, props)
        quotas = {s: min(q, accepted_by[s].size) for s, q in quotas.items()}
        keep = np.sort(
            np.concatenate([rng.choice(accepted_by[s], quotas[s], replace=False) for s in props])
        ).astype(np.intp)
        n_acc = max(int(keep.size), 1)
        stratum_results = tuple(
            StratumResult(
                stratum=s,
                target_proportion=props[s],
                achieved_proportion=quotas[s] / n_acc,
                n_plausible=int(groups[s].size),
                n_accepted=quotas[s],
            )
            for s in props
        )
    accepted_y = y[keep]
    return AcceptanceResult(
        frame=frame.iloc[keep].copy(),
        outputs=pd.Series(accepted_y, index=frame.index[keep], name="output"),
        probability=pd.Series(prob, index=frame.index, name="p_inclusion"),
        scaling_factor=float(max(deltas)),
        scaling=scaling,
        n_plausible=n,
        n_accepted=int(keep.size),
        acceptance_rate=float(keep.size / n),
        goodness_of_fit=target.fit(accepted_y),
        strata=stratum_results,
        target=target.description,
        seed=used_seed,
        version=_package_version(),
        message="; ".join(messages),
    )


def _largest_remainder(total: int, props: Mapping[str, float]) -> dict[str, int]:
    raw = {s: total * p for s, p in props.items()}
    out = {s: math.floor(v) for s, v in raw.items()}
    short = total - sum(out.values())
    for s in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[:short]:
        out[s] += 1
    return out
