"""Maximally selected log-rank statistics: the vectorized scan and its adjusted p-values.

Private helpers of :mod:`immunoprecise.cohort.cutpoint`. The log-rank statistic of the split
``x ≤ c`` vs ``x > c`` is the linear rank statistic ``S(c) = Σ_{x_i ≤ c} a_i`` of the log-rank
(Nelson–Aalen) scores ``a_i = δ_i − Λ̂(t_i)``; under the permutation null its mean is
``m/N Σ a`` (= 0) and its variance ``m (N − m) / (N (N − 1)) · Σ (a − ā)²`` (Lausen & Schumacher
1992; Hothorn & Lausen 2003), so one sort of the biomarker and one cumulative sum give every
candidate cut at once. Bootstrap resamples are integer weights on the same sorted arrays, so a
resample is one more pass, and many resamples are one pass over a weight matrix.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

__all__ = [
    "ScanLayout",
    "bootstrap_cuts",
    "integer_scores",
    "layout",
    "logrank_chi2",
    "logrank_scores",
    "p_hothorn_lausen",
    "p_lausen92",
    "p_lausen94",
    "scan",
]

#: Elements of one weight matrix chunk (resamples × patients) in the bootstrap.
_CHUNK_ELEMENTS = 1 << 20
#: Threads running bootstrap chunks (at most the CPUs available).
_WORKERS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class ScanLayout:
    """One dataset sorted once for every scan (unit weights or bootstrap weights).

    Arrays indexed by patient are in time order (ascending, stable).

    Attributes
    ----------
    event
        Event flags (0/1, float) in time order.
    starts
        Start position of each distinct time in time order.
    time_group
        Index of the distinct time of each patient (time order).
    x_perm
        For each position in biomarker order, the patient's position in time order.
    ends
        Positions (biomarker order) of the last patient of each distinct biomarker value but the
        largest: the cut after ``ends[j]`` puts ``ends[j] + 1`` patients in the lower group.
    cut_values
        Biomarker value at each ``ends`` position (the largest value of the lower group).
    next_values
        The next larger biomarker value after each cut (the smallest value of the upper group):
        every threshold in ``[cut_values[j], next_values[j])`` makes the same two groups.
    """

    event: FloatArray
    starts: IntArray
    time_group: IntArray
    x_perm: IntArray
    ends: IntArray
    cut_values: FloatArray
    next_values: FloatArray

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.event.shape[0])


def layout(x: FloatArray, time: FloatArray, event: npt.ArrayLike) -> ScanLayout:
    """Sort a dataset once by time and by biomarker (O(n log n))."""
    t_order = np.argsort(time, kind="stable")
    t_sorted = time[t_order]
    new_time = np.empty(t_sorted.shape[0], dtype=bool)
    new_time[:1] = True
    new_time[1:] = t_sorted[1:] != t_sorted[:-1]
    starts = np.flatnonzero(new_time)
    time_group = np.cumsum(new_time) - 1
    rank_in_time = np.empty_like(t_order)
    rank_in_time[t_order] = np.arange(t_order.shape[0])
    x_order = np.argsort(x, kind="stable")
    x_sorted = x[x_order]
    ends = np.flatnonzero(x_sorted[1:] != x_sorted[:-1])
    return ScanLayout(
        event=np.asarray(event, dtype=float)[t_order],
        starts=starts,
        time_group=time_group,
        x_perm=rank_in_time[x_order],
        ends=ends,
        cut_values=x_sorted[ends],
        next_values=x_sorted[ends + 1],
    )


def logrank_scores(
    time: FloatArray, event: npt.ArrayLike, *, ties: str = "nelson-aalen"
) -> FloatArray:
    """Log-rank scores ``a_i = δ_i − Λ̂(t_i)`` of every patient (input order).

    ``ties="nelson-aalen"`` gives each distinct time ``t_k`` the hazard ``d_k / n_k`` (events
    over patients at risk), which makes ``Σ_{group 1} a_i`` exactly the log-rank
    observed-minus-expected of group 1. ``ties="hothorn-lausen"`` is the convention of
    ``exactRankTests::cscores.Surv`` (each event adds ``1 / (N − r + 1)`` with ``r`` the largest
    rank of its tied time), kept to reproduce the published examples of R's maxstat; both are
    the same without tied times.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    n = t.shape[0]
    order = np.argsort(t, kind="stable")
    ts = t[order]
    # largest 1-based rank of each patient's tied time, and the number at risk at that time
    r_max = np.searchsorted(ts, t, side="right")
    if ties == "hothorn-lausen":
        fact = e[order] / (n - np.searchsorted(ts, ts, side="right") + 1.0)
        cum = np.cumsum(fact)
        return np.asarray(e - cum[r_max - 1], dtype=np.float64)
    if ties != "nelson-aalen":
        raise ValueError(f"unknown ties convention {ties!r}")
    lay = layout(np.zeros(n), t, e)
    lam = _cumulative_hazard(lay, np.ones((1, n)))[0]
    return np.asarray(e - lam[np.searchsorted(ts[lay.starts], t)], dtype=np.float64)


def _cumulative_hazard(lay: ScanLayout, w: FloatArray) -> FloatArray:
    """Weighted Nelson–Aalen cumulative hazard at each distinct time (rows: weight vectors)."""
    d = np.add.reduceat(w * lay.event, lay.starts, axis=1)
    before = np.cumsum(w, axis=1)
    total = before[:, -1:]
    at_risk = total - (before[:, lay.starts] - w[:, lay.starts])
    h = np.divide(d, at_risk, out=np.zeros_like(d), where=at_risk > 0)
    return np.cumsum(h, axis=1)


@dataclass(frozen=True)
class ScanResult:
    """Standardized statistics of every candidate cut (rows: weight vectors).

    ``z`` is ``nan`` where a cut is not a candidate (outside the ``min_prop`` range, or the
    lower group is the same as at an earlier cut).
    """

    z: FloatArray
    lower_n: FloatArray


def scan(lay: ScanLayout, w: FloatArray, min_prop: float) -> ScanResult:
    """Standardized log-rank statistics ``Z(c)`` of every cut, for each row of weights ``w``.

    ``w`` holds patient weights in time order (ones for the data, bootstrap counts for
    resamples). ``Z > 0`` means more events than expected at low biomarker values.
    """
    lam = _cumulative_hazard(lay, w)
    a = lay.event - lam[:, lay.time_group]
    wa = w * a
    sum_wa2 = np.einsum("ij,ij->i", wa, a)[:, None]
    n_tot = w.sum(axis=1, keepdims=True)
    s = np.cumsum(wa[:, lay.x_perm], axis=1)[:, lay.ends]
    m = np.cumsum(w[:, lay.x_perm], axis=1)[:, lay.ends]
    var = m * (n_tot - m) / (n_tot * (n_tot - 1.0)) * sum_wa2
    lo = np.floor(n_tot * min_prop)
    hi = np.floor(n_tot * (1.0 - min_prop))
    ok = (m >= np.maximum(lo, 1.0)) & (m <= np.minimum(hi, n_tot - 1.0)) & (var > 0)
    # a cut whose lower group equals the previous cut's (a value absent from a resample) is
    # not a new candidate
    ok[:, 1:] &= m[:, 1:] != m[:, :-1]
    z = np.full_like(s, np.nan)
    np.divide(s, np.sqrt(var, where=ok, out=np.ones_like(var)), out=z, where=ok)
    return ScanResult(z=z, lower_n=m)


def best(z: FloatArray) -> tuple[IntArray, FloatArray]:
    """Index of the largest ``|Z|`` per row (first one on ties) and the maximum (nan: none)."""
    absz = np.abs(z)
    filled = np.where(np.isnan(absz), -1.0, absz)
    idx = np.argmax(filled, axis=1)
    top = filled[np.arange(z.shape[0]), idx]
    return idx, np.where(top < 0, np.nan, top)


def bootstrap_cuts(
    lay: ScanLayout, min_prop: float, n_boot: int, seed: int
) -> tuple[FloatArray, FloatArray]:
    """Cut-points of ``n_boot`` bootstrap resamples of the patients (nan: no candidate cut).

    Returns the chosen cut of each resample (the largest value drawn into its low group) and the
    smallest value drawn into its high group: every threshold in between splits the resample
    the same way.

    Resample ``b`` is drawn from ``numpy.random.default_rng`` seeded by the ``b // chunk``-th
    child of ``SeedSequence(seed)``, so the result depends on the seed and the data only.
    """
    n = lay.n
    chunk = max(1, min(n_boot, _CHUNK_ELEMENTS // max(n, 1)))
    n_chunks = math.ceil(n_boot / chunk) if n_boot else 0
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    out = np.empty(n_boot)
    nxt = np.empty(n_boot)

    def run(c: int) -> None:
        rows = min(chunk, n_boot - c * chunk)
        rng = np.random.default_rng(seeds[c])
        draws = rng.integers(0, n, size=(rows, n))
        draws += (np.arange(rows) * n)[:, None]
        w = np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n).astype(float)
        res = scan(lay, w, min_prop)
        idx, top = best(res.z)
        done = slice(c * chunk, c * chunk + rows)
        out[done] = np.where(np.isnan(top), np.nan, lay.cut_values[idx])
        # smallest value drawn above the cut: the first later cut whose low group is larger
        m_best = res.lower_n[np.arange(rows), idx]
        larger = res.lower_n > m_best[:, None]
        k = np.argmax(larger, axis=1)
        above = np.where(larger.any(axis=1), lay.cut_values[k], lay.next_values[-1])
        nxt[done] = np.where(np.isnan(top), np.nan, above)

    # numpy releases the GIL in these array passes, so chunks run in parallel on threads; each
    # chunk has its own seed and output rows, so the result does not depend on the scheduling
    workers = min(_WORKERS, n_chunks)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, range(n_chunks)))
    else:
        for c in range(n_chunks):
            run(c)
    return out, nxt


def logrank_chi2(
    time: FloatArray, event: npt.ArrayLike, lower: npt.NDArray[np.bool_]
) -> tuple[float, float, float, float]:
    """Classical two-group log-rank test (Mantel 1966): χ², p, observed and expected of ``lower``.

    The variance is the sum over distinct event times of the hypergeometric variances
    ``n₁ n₂ d (n − d) / (n² (n − 1))``, as in lifelines' ``logrank_test``.
    """
    e = np.asarray(event, dtype=float)
    lay = layout(np.zeros(time.shape[0]), time, e)
    order = np.argsort(time, kind="stable")
    g1 = lower[order].astype(float)
    ones = np.ones_like(g1)
    d = np.add.reduceat(lay.event, lay.starts)
    d1 = np.add.reduceat(lay.event * g1, lay.starts)
    n_at = (np.cumsum(ones[::-1])[::-1])[lay.starts]
    n1_at = (np.cumsum(g1[::-1])[::-1])[lay.starts]
    expected = n1_at * d / n_at
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(
            n_at > 1, n1_at * (n_at - n1_at) * d * (n_at - d) / (n_at**2 * (n_at - 1.0)), 0.0
        )
    observed = float(d1.sum())
    exp = float(expected.sum())
    var = float(v.sum())
    chi2 = (observed - exp) ** 2 / var if var > 0 else 0.0
    return chi2, float(stats.chi2.sf(chi2, 1)), observed, exp


def p_lausen92(b: float, min_prop: float, max_prop: float) -> float:
    """Lausen & Schumacher (1992) approximation of ``P(max |Z| ≥ b)``.

    ``φ(b) (b − 1/b) log(ε₂ (1 − ε₁) / ((1 − ε₂) ε₁)) + 4 φ(b) / b`` for cuts between the
    ``ε₁`` and ``ε₂`` quantiles, clipped to [0, 1] (maxstat's ``pLausen92``). Below ``b = 1``
    the approximation is not valid (for ``ε₁ = 0.1`` it falls below 0 as ``b`` shrinks), so
    ``P = 1`` there, as in maxstat since the correction suggested by M. J. Schell.
    """
    if b < 1:
        return 1.0
    phi = float(stats.norm.pdf(b))
    p = 4 * phi / b + phi * (b - 1 / b) * math.log(
        (max_prop * (1 - min_prop)) / ((1 - max_prop) * min_prop)
    )
    return min(max(p, 0.0), 1.0)


def p_lausen94(b: float, n: int, m: Sequence[int] | npt.NDArray[np.integer]) -> float:
    """Improved Bonferroni bound of Lausen, Sauerbrei & Schumacher (1994) (maxstat's ``pLausen94``).

    ``P ≈ 2 (1 − Φ(b)) + Σ_j π⁻¹ exp(−b²/2) (t_j − (b²/4 − 1) t_j³ / 6)`` with
    ``t_j = √(1 − m_j (N − m_{j+1}) / ((N − m_j) m_{j+1}))`` over the candidate lower-group
    sizes ``m_1 < m_2 < …``; clipped to [0, 1].
    """
    mm = np.asarray(m, dtype=float)
    m1, m2 = mm[:-1], mm[1:]
    t = np.sqrt(1 - m1 * (n - m2) / ((n - m1) * m2))
    d = float(np.sum(np.exp(-(b**2) / 2) / math.pi * (t - (b**2 / 4 - 1) * t**3 / 6)))
    p = 2 * float(stats.norm.sf(b)) + d
    return min(max(p, 0.0), 1.0)


def integer_scores(scores: FloatArray) -> npt.NDArray[np.int64]:
    """Scores mapped to integers ``0…N`` as maxstat does for the Hothorn–Lausen p-value.

    ``round((a − min a) · N / max(a − min a))``, as R's maxstat does for real-valued scores.
    """
    s = scores - scores.min()
    top = s.max()
    if top <= 0:
        return np.zeros(s.shape[0], dtype=np.int64)
    # R's round() rounds halves to even, like numpy's
    return np.asarray(np.round(s * s.shape[0] / top), dtype=np.int64)


#: Largest sample for which the Hothorn–Lausen p-value is computed (memory ~ N³ · 8 bytes).
HL_MAX_N = 200


def p_hothorn_lausen(
    b: float, scores: npt.NDArray[np.int64], m: Sequence[int] | npt.NDArray[np.integer]
) -> float:
    """Hothorn & Lausen (2003) bound on ``P(max |Z| ≥ b)`` from the exact permutation law.

    The exact distribution of the sum of ``k`` of the ``N`` integer scores (Streitberg & Röhmel
    shift algorithm; here by the recursion over patients) gives ``P(|Z_k| > b)`` for each
    candidate size ``k``; maxstat's ``pmaxstat`` sums them over the candidates, less the
    probability of sums at ``k − 1`` that exceed ``b`` and cannot fall back below it at ``k``
    whatever score is added. This reproduces maxstat's algorithm (including its handling of
    the sum 0, which it leaves out).
    """
    sc = np.asarray(scores, dtype=np.int64)
    sc = sc - sc.min()
    n = sc.shape[0]
    total = int(sc.sum())
    # dens[k, s] = P(sum of a random k-subset = s); after patient j only k ≤ j and sums up to
    # the running total of the scores seen can be non-zero
    dens = np.zeros((n + 1, total + 1))
    dens[0, 0] = 1.0
    seen = 0
    for j, c in enumerate(sc.tolist(), start=1):
        seen += c
        k = np.arange(j, 0, -1)
        width = seen + 1
        shifted = np.zeros((j, width))
        shifted[:, c:] = dens[k - 1, : width - c]
        dens[k, :width] = (k / j)[:, None] * shifted + ((j - k) / j)[:, None] * dens[k, :width]
    ks = np.arange(1, n)
    s_vals = np.arange(1, total + 1)
    expect = ks / n * total
    var = ks * (n - ks) / (n**2 * (n - 1.0)) * (n * float(np.sum(sc**2)) - total**2)
    h = dens[1:n, 1:]  # rows k = 1…N−1, columns s = 1…total (maxstat drops s = 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs((s_vals[None, :] - expect[:, None]) / np.sqrt(var)[:, None])
    z[h == 0] = 0.0
    h = np.where(z <= b, 0.0, h)
    row = h.sum(axis=1)
    mm = np.asarray(m, dtype=np.int64)
    top_score, low_score = int(sc.max()), int(sc.min())
    for size in range(int(mm.min()), n - 1):
        i = size - 1  # row of lower-group size ``size``
        hit = np.flatnonzero(h[i] > 0)
        if hit.size == 0:
            continue
        s_hit = hit + 1
        below = hit[s_hit < expect[i]]
        col = below + top_score
        if col.size and col.max() < z.shape[1]:
            keep = below[z[i + 1, col] > b]
            row[i + 1] -= h[i, keep].sum()
        above = hit[s_hit > expect[i]]
        col = above + low_score
        if col.size and col.max() < z.shape[1]:
            keep = above[z[i + 1, col] > b]
            row[i + 1] -= h[i, keep].sum()
    p = float(row[mm - 1].sum())
    return min(max(p, 0.0), 1.0)


def max_abs_z(scores: npt.ArrayLike, m: npt.NDArray[np.integer]) -> float:
    """``max |Z_k|`` of scores given in biomarker order, over the lower-group sizes ``m``."""
    y = np.asarray(scores, dtype=float)
    n = y.shape[0]
    ss = y.sum()
    k = np.asarray(m, dtype=float)
    expect = k / n * ss
    var = k * (n - k) / (n**2 * (n - 1.0)) * (n * float(np.sum(y**2)) - ss**2)
    s = np.cumsum(y)[np.asarray(m) - 1]
    return float(np.max(np.abs((s - expect) / np.sqrt(var))))
