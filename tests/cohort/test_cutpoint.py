"""Optimal cut-points: published p-value numbers, lifelines agreement, bootstrap coverage.

Published numbers come from R's maxstat (Hothorn & Lausen; its regression output
``tests/maxstat-Ex.Rout.save`` and help pages): Table 2 of Lausen & Schumacher (1992), the
Lausen et al. (1994) example, ``pmaxstat(2.5, 1:20, 5:15)``, and the maximally selected log-rank
tests of the ``hohnloser`` (Hohnloser et al. 1994, ejection fraction, n = 94) and ``DLBCL``
(Alizadeh et al. 2000, mean gene expression, n = 40) data sets shipped with maxstat.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_gbsg2, load_lung, load_rossi
from lifelines.statistics import logrank_test
from matplotlib.axes import Axes
from matplotlib.patches import Polygon, Rectangle
from scipy.optimize import brentq

import immunoprecise as ip
from immunoprecise.cohort import _rank_scan as rs
from immunoprecise.cohort.cutpoint import Cutpoint, optimal_cutpoint
from immunoprecise.errors import CohortError
from immunoprecise.pl._cutpoint import cutpoint_scan

# maxstat data/hohnloser: left ventricular ejection fraction (%), survival (months), event
HOHNLOSER_EF = [11, 11, 12, 13, 13, 13, 15, 17, 20, 20, 20, 20, 20, 21, 22, 22, 22, 22, 23, 24,
                24, 24, 24, 24, 24, 24, 25, 25, 26, 26, 26, 27, 28, 30, 30, 31, 31, 32, 33, 33,
                33, 33, 34, 34, 34, 34, 36, 37, 38, 38, 38, 39, 40, 41, 41, 41, 43, 43, 43, 44,
                44, 49, 50, 51, 51, 51, 52, 52, 52, 56, 56, 56, 57, 57, 58, 58, 58, 59, 60, 60,
                61, 64, 64, 64, 64, 65, 70, 70, 72, 75, 77, 77, 80, 93]  # fmt: skip
HOHNLOSER_MONTH = [1, 5, 14, 2, 10, 39, 16, 17, 1, 1, 1, 8, 29, 22, 1, 3, 11, 15, 13, 1, 1, 3,
                   5, 7, 11, 33, 3, 16, 1, 13, 23, 20, 12, 1, 1, 18, 20, 23, 9, 12, 17, 21, 1, 5,
                   14, 38, 6, 1, 3, 12, 18, 8, 19, 3, 10, 15, 19, 31, 33, 23, 24, 5, 13, 4, 21,
                   28, 3, 16, 37, 1, 3, 33, 23, 29, 5, 9, 36, 19, 1, 10, 7, 1, 6, 7, 14, 6, 5, 23,
                   36, 30, 10, 20, 7, 22]  # fmt: skip
HOHNLOSER_EVENT = [0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0,
                   1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0,
                   0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0,
                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # fmt: skip

# maxstat data/DLBCL (patients with survival): time (months), event, mean gene expression MGE
DLBCL = """
77.4 0 0.24797368421052629|3.4 1 -0.006894736842105214|71.3 1 0.13755263157894748
69.6 0 0.37128947368421067|51.2 0 0.025710526315789479|3.2 1 0.098131578947368403
8.3 1 -0.0033157894736842589|102.4 0 0.21497368421052634|89.8 0 0.12815789473684219
88.1 0 0.22039473684210523|27.1 1 0.11644736842105267|4.1 1 -0.052368421052631529
23.7 1 0.017657894736842074|59 0 -0.071210526315789377|56.6 0 0.16268421052631529
15.5 1 -0.06197368421052625|2.4 1 0.073342105263158042|2.9 1 0.1860526315789475
80.4 0 0.087842105263157777|4.6 1 -0.15892105263157899|8.2 1 0.040236842105263036
129.9 0 0.028000000000000042|32.5 1 -0.05107894736842105|11.8 1 0.13826315789473687
5.1 1 -0.012552631578947395|90.2 0 -0.042078947368421139|83.8 0 0.26339473684210518
71.3 0 0.29178947368421077|12.3 1 -0.057210526315789448|69.1 0 0.16936842105263161
68.8 0 0.0099736842105262943|1.3 1 0.15063157894736842|12.67 1 0.06463157894736847
72.03 0 0.31247368421052629|91.33 0 0.096289473684210522|53.73 0 -0.040578947368421096
31.47 1 -0.074473684210526275|39.60 1 0.015631578947368486|9.45 1 -0.046868421052631462
22.30 1 0.06705263157894735
"""


def _frame(time: object, event: object, x: object, name: str = "x") -> pd.DataFrame:
    t = np.asarray(time, dtype=float)
    ids = pd.Index([f"P{i:05d}" for i in range(t.shape[0])], name="patient_id")
    return pd.DataFrame(
        {"os_days": t, "os_event": np.asarray(event), name: np.asarray(x)}, index=ids
    )


def _hohnloser() -> pd.DataFrame:
    return _frame(HOHNLOSER_MONTH, HOHNLOSER_EVENT, HOHNLOSER_EF, "ef")


def _dlbcl() -> pd.DataFrame:
    rows = [r.split() for r in DLBCL.replace("\n", "|").split("|") if r.strip()]
    t, e, x = np.asarray(rows, dtype=float).T
    return _frame(t, e.astype(int), x, "mge")


def _maxstat_like(
    frame: pd.DataFrame, column: str, ties: str
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """M, the integer-score M and candidate sizes as maxstat computes them (scores by ``ties``)."""
    t, e, x = frame["os_days"].to_numpy(), frame["os_event"].to_numpy(), frame[column].to_numpy()
    n = x.shape[0]
    a = rs.logrank_scores(t, e, ties=ties)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    m = np.flatnonzero(xs[1:] != xs[:-1]) + 1
    m = m[(m >= math.floor(n * 0.1)) & (m <= math.floor(n * 0.9))]
    ints = rs.integer_scores(a)
    return rs.max_abs_z(a[order], m), rs.max_abs_z(ints[order].astype(float), m), m, ints


# --- published numbers -------------------------------------------------------------------------

LAUSEN_TABLE_2 = {  # α → quantiles for (ε₁, ε₂) = (.25,.75), (.4,.6), (.1,.9), (.4,.9)
    0.10: (2.539, 2.263, 2.784, 2.597),
    0.05: (2.829, 2.560, 3.054, 2.883),
    0.025: (3.088, 2.828, 3.297, 3.138),
    0.01: (3.395, 3.149, 3.588, 3.442),
}


@pytest.mark.parametrize("alpha", sorted(LAUSEN_TABLE_2))
def test_lausen_schumacher_reproduces_their_table_2(alpha: float) -> None:
    bounds = ((0.25, 0.75), (0.4, 0.6), (0.1, 0.9), (0.4, 0.9))
    for (e1, e2), published in zip(bounds, LAUSEN_TABLE_2[alpha], strict=True):
        q = brentq(lambda b, e1=e1, e2=e2: rs.p_lausen92(b, e1, e2) - alpha, 1.0, 6.0)
        assert round(q, 3) == published


def test_lausen_1994_example_on_page_489() -> None:
    assert round(rs.p_lausen94(2.5, 20, np.arange(5, 16)), 3) == 0.073
    # the bound depends on the candidate proportions only
    p2 = rs.p_lausen94(2.5, 200, np.arange(50, 151, 10))
    assert p2 == pytest.approx(rs.p_lausen94(2.5, 20, np.arange(5, 16)), abs=1e-12)


def test_hothorn_lausen_reproduces_pmaxstat_example() -> None:
    # maxstat: pmaxstat(2.5, 1:20, 5:15) = 0.09403538
    assert rs.p_hothorn_lausen(2.5, np.arange(1, 21), np.arange(5, 16)) == pytest.approx(
        0.09403538, abs=5e-9
    )


def test_hohnloser_reproduces_maxstat() -> None:
    frame = _hohnloser()
    m_real, m_int, m, ints = _maxstat_like(frame, "ef", ties="hothorn-lausen")
    n = len(frame)
    assert round(m_real, 4) == 3.5691
    assert round(rs.p_lausen92(m_real, 0.1, 0.9), 5) == 0.01065
    assert round(rs.p_lausen94(m_real, n, m), 6) == 0.005453
    assert round(m_int, 4) == 3.5639
    assert round(rs.p_hothorn_lausen(m_int, ints, m), 5) == 0.00667
    # the public function: same cut; Nelson–Aalen scores differ from maxstat's at tied times only
    res = optimal_cutpoint(frame, "ef", n_boot=0)
    assert res.cutpoint.estimate == 39
    assert res.max_statistic.estimate == pytest.approx(3.5691, abs=0.01)
    assert res.max_statistic.p_value == pytest.approx(0.01065, abs=5e-4)


def test_dlbcl_reproduces_maxstat() -> None:
    frame = _dlbcl()
    m_real, m_int, m, ints = _maxstat_like(frame, "mge", ties="hothorn-lausen")
    n = len(frame)
    assert round(m_real, 4) == 3.1772
    assert round(m_int, 3) == 3.171
    assert round(rs.p_lausen92(m_int, 0.1, 0.9), 5) == 0.03611
    assert round(rs.p_lausen94(m_int, n, m), 5) == 0.02435
    assert round(rs.p_hothorn_lausen(m_int, ints, m), 5) == 0.02218
    for method, published in (("lausen-schumacher", 0.03611), ("hothorn-lausen", 0.02218)):
        res = optimal_cutpoint(frame, "mge", n_boot=0, p_method=method)
        assert res.cutpoint.estimate == pytest.approx(0.1860526, abs=1e-7)
        assert res.max_statistic.p_value == pytest.approx(published, abs=1e-3)


def test_scores_agree_without_tied_times() -> None:
    rng = np.random.default_rng(3)
    t = rng.exponential(1.0, 60)
    e = rng.integers(0, 2, 60)
    np.testing.assert_allclose(
        rs.logrank_scores(t, e), rs.logrank_scores(t, e, ties="hothorn-lausen"), atol=1e-12
    )


# --- the scan against direct computation -------------------------------------------------------


def test_scan_equals_the_statistic_cut_by_cut() -> None:
    rng = np.random.default_rng(11)
    n = 80
    x = rng.integers(0, 25, n).astype(float)  # tied biomarker values
    t = rng.integers(1, 30, n).astype(float)  # tied times
    e = rng.integers(0, 2, n)
    res = optimal_cutpoint(_frame(t, e, x), "x", n_boot=0)
    a = rs.logrank_scores(t, e)
    assert abs(a.sum()) < 1e-9
    var_total = float(np.sum(a**2))
    assert len(res.scan_cuts) >= 2
    for cut, z in zip(res.scan_cuts, res.scan_statistics, strict=True):
        low = x <= cut
        k = int(low.sum())
        assert 8 <= k <= 72  # ⌊80·0.1⌋ … ⌊80·0.9⌋
        expected = a[low].sum() / math.sqrt(k * (n - k) / (n * (n - 1)) * var_total)
        assert z == pytest.approx(expected, rel=1e-10)
        # Σ_low a_i is the log-rank observed − expected of the low group
        _, _, observed, exp = rs.logrank_chi2(t, e, low)
        assert a[low].sum() == pytest.approx(observed - exp, abs=1e-9)
    assert set(res.scan_cuts) == {v for v in np.unique(x)[:-1] if 8 <= (x <= v).sum() <= 72}
    assert res.max_statistic.estimate == max(abs(z) for z in res.scan_statistics)


def test_bootstrap_weights_equal_an_explicit_resample() -> None:
    rng = np.random.default_rng(5)
    n = 150
    x = np.round(rng.normal(0, 1, n), 1)
    t = rng.exponential(1.0, n).round(2)
    e = rng.integers(0, 2, n)
    lay = rs.layout(x, t, e)
    draw = rng.integers(0, n, n)
    order = np.argsort(t, kind="stable")  # layout weights are in time order
    w = np.bincount(draw, minlength=n)[order].astype(float)[None, :]
    weighted = rs.scan(lay, w, 0.1)
    explicit = rs.scan(rs.layout(x[draw], t[draw], e[draw]), np.ones((1, n)), 0.1)
    i_w, top_w = rs.best(weighted.z)
    i_e, top_e = rs.best(explicit.z)
    assert top_w[0] == pytest.approx(top_e[0], rel=1e-12)
    assert lay.cut_values[i_w[0]] == rs.layout(x[draw], t[draw], e[draw]).cut_values[i_e[0]]
    z_w = weighted.z[0][~np.isnan(weighted.z[0])]
    z_e = explicit.z[0][~np.isnan(explicit.z[0])]
    np.testing.assert_allclose(z_w, z_e, rtol=1e-12)


def test_bootstrap_is_seeded() -> None:
    frame = _dlbcl()
    a = optimal_cutpoint(frame, "mge", n_boot=300, seed=7)
    b = optimal_cutpoint(frame, "mge", n_boot=300, seed=7)
    c = optimal_cutpoint(frame, "mge", n_boot=300, seed=8)
    assert a == b
    assert a.cutpoint.ci != c.cutpoint.ci or a.bootstrap_below != c.bootstrap_below
    lo, hi = a.cutpoint.ci
    assert lo is not None
    assert hi is not None
    assert lo <= a.cutpoint.estimate <= hi
    assert a.bootstrap_below is not None
    assert a.bootstrap_above is not None
    assert 0 <= a.bootstrap_below + a.bootstrap_above <= 1


# --- validation on simulated thresholds --------------------------------------------------------


def _simulated(n: int, theta: float, hazard_ratio: float, rng: np.random.Generator) -> pd.DataFrame:
    x = rng.uniform(0.0, 1.0, n)
    rate = np.where(x > theta, hazard_ratio, 1.0) * 0.5  # events per year
    t = rng.exponential(1.0 / rate)
    c = rng.uniform(0.0, 4.0, n)  # administrative censoring within 4 years
    return _frame(np.minimum(t, c) * 365.25, (t <= c).astype(int), x, "marker")


def test_bootstrap_ci_covers_the_true_threshold() -> None:
    """200 simulated cohorts (n = 200, hazard ratio 3 above θ = 0.4, B = 200 resamples each)."""
    theta, covered = 0.4, 0
    for s in range(200):
        frame = _simulated(200, theta, 3.0, np.random.default_rng(1000 + s))
        res = optimal_cutpoint(frame, "marker", n_boot=200, seed=s)
        lo, hi = res.cutpoint.ci
        assert lo is not None
        assert hi is not None
        covered += lo <= theta <= hi
    assert covered / 200 >= 0.90


def test_lausen_schumacher_level_under_the_null() -> None:
    """Biomarker independent of survival: the adjusted p is below 0.05 in about 5% of cohorts."""
    rejected = 0
    for s in range(400):
        rng = np.random.default_rng(5000 + s)
        t = rng.exponential(1.0, 150)
        frame = _frame(t * 365.25, rng.integers(0, 2, 150), rng.normal(0.0, 1.0, 150))
        p = optimal_cutpoint(frame, "x", n_boot=0).max_statistic.p_value
        assert p is not None
        rejected += p < 0.05
    # Lausen–Schumacher is mildly conservative on a finite grid of cuts
    assert 0.01 <= rejected / 400 <= 0.075


# --- agreement with lifelines on its bundled data sets -----------------------------------------

LIFELINES_CASES = [
    ("rossi-age", load_rossi, "week", "arrest", "age", None),
    ("rossi-prio", load_rossi, "week", "arrest", "prio", 26.0),
    ("gbsg2-pnodes", load_gbsg2, "time", "cens", "pnodes", None),
    ("gbsg2-progrec", load_gbsg2, "time", "cens", "progrec", 1000.0),
    ("lung-age", load_lung, "time", "status", "age", None),
    ("lung-meal", load_lung, "time", "status", "meal.cal", 365.25),
]


@pytest.mark.parametrize(
    ("loader", "tcol", "ecol", "marker", "horizon"),
    [case[1:] for case in LIFELINES_CASES],
    ids=[case[0] for case in LIFELINES_CASES],
)
def test_matches_lifelines(
    loader: object, tcol: str, ecol: str, marker: str, horizon: float | None
) -> None:
    data = loader()  # type: ignore[operator]
    frame = _frame(data[tcol], data[ecol].astype(int), data[marker], marker)
    res = optimal_cutpoint(frame, marker, n_boot=50, horizon_days=horizon, ci_level=0.9)
    kept = frame.drop(index=list(res.excluded))
    assert len(kept) == res.cutpoint.n
    low = kept[marker] <= res.cutpoint.estimate
    lr = logrank_test(
        kept["os_days"][low],
        kept["os_days"][~low],
        kept["os_event"][low],
        kept["os_event"][~low],
    )
    assert res.logrank.estimate == pytest.approx(lr.test_statistic, rel=1e-10)
    assert res.logrank.p_value == pytest.approx(lr.p_value, rel=1e-8)
    if horizon is None:
        t, e = kept["os_days"], kept["os_event"]
        expected_h = 1826.25 if t.max() >= 1826.25 else float(t[e == 1].max())
        assert res.horizon_days == expected_h
    for group, mask in zip(res.groups, (low, ~low), strict=True):
        assert group.n == int(mask.sum())
        assert group.events == int(kept["os_event"][mask].sum())
        km = KaplanMeierFitter(alpha=0.1).fit(kept["os_days"][mask], kept["os_event"][mask])
        s = group.survival_at_horizon
        if res.horizon_days > kept["os_days"][mask].max():
            continue
        assert s.estimate == pytest.approx(
            float(km.survival_function_at_times(res.horizon_days).iloc[0]), rel=1e-12
        )
        band = km.confidence_interval_.loc[: res.horizon_days].iloc[-1]
        assert s.ci_low == pytest.approx(float(band.iloc[0]), rel=1e-12)
        assert s.ci_high == pytest.approx(float(band.iloc[1]), rel=1e-12)
        assert s.ci_level == 0.9
        median = float(km.median_survival_time_)
        if math.isfinite(median):
            assert group.median_survival.estimate == pytest.approx(median)


# --- the example cohort, the result and the errors --------------------------------------------


@pytest.fixture(scope="module")
def fl() -> Cutpoint:
    return optimal_cutpoint(
        ip.data.example_path("fl_cohort.csv"), "cd8_foxp3_ratio.interfollicular", n_boot=200
    )


def test_example_cohort_result(fl: Cutpoint) -> None:
    assert fl.endpoint == "os"
    assert fl.horizon_days == 1826.25
    assert fl.groups[0].label == f"cd8_foxp3_ratio.interfollicular ≤ {fl.cutpoint.estimate:.3g}"
    assert fl.groups[0].n + fl.groups[1].n == fl.cutpoint.n == 200
    assert fl.max_statistic.p_value is not None
    assert fl.max_statistic.p_value < 0.05
    # the adjusted p is larger than the unadjusted one of the selected split
    assert fl.logrank.p_value is not None
    assert fl.max_statistic.p_value > fl.logrank.p_value
    text = fl.summary()
    assert text.startswith("5-year OS ")
    assert "Lausen–Schumacher 1992" in text
    assert f"{100 * fl.high.survival_at_horizon.estimate:.0f}%" in text


def test_excluded_patients_are_listed() -> None:
    frame = _dlbcl()
    frame.loc["P00003", "mge"] = np.nan
    frame.loc["P00004", "os_days"] = np.nan
    res = optimal_cutpoint(frame, "mge", n_boot=0)
    assert res.excluded == ("P00003", "P00004")
    assert res.cutpoint.n == 38


def test_pfs_endpoint_and_p_methods_order() -> None:
    frame = _hohnloser().rename(columns={"os_days": "pfs_days", "os_event": "pfs_event"})
    ps = {
        m: optimal_cutpoint(frame, "ef", endpoint="pfs", n_boot=0, p_method=m)
        for m in ("lausen-schumacher", "lausen-1994", "hothorn-lausen")
    }
    assert {r.endpoint for r in ps.values()} == {"pfs"}
    p = {m: r.max_statistic.p_value for m, r in ps.items()}
    assert p["lausen-1994"] < p["lausen-schumacher"]  # the improved bound is sharper here


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"biomarker": "cd8"}, "has no column 'cd8'"),
        ({"biomarker": "label"}, "column 'label' is not numeric: patient P00000 has 'high'"),
        ({"biomarker": "flag"}, "1 candidate cut"),
        ({"p_method": "bonferroni"}, "p_method 'bonferroni' is not known"),
        ({"min_prop": 0.5}, "min_prop = 0.5 is out of range"),
        ({"horizon_days": -1.0}, "horizon_days = -1.0 is not a time"),
    ],
)
def test_errors_name_the_problem(change: dict[str, object], message: str) -> None:
    frame = _dlbcl()
    frame["label"] = "high"
    frame["flag"] = (frame["mge"] > 0.1).astype(float)
    args: dict[str, object] = {"biomarker": "mge", **change}
    biomarker = str(args.pop("biomarker"))
    with pytest.raises(CohortError, match=message):
        optimal_cutpoint(frame, biomarker, n_boot=0, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"seed": None}, "seed = None is not a seed"),
        ({"seed": -1}, "seed = -1 is not a seed"),
        ({"seed": 1.5}, "seed = 1.5 is not a seed"),
        ({"n_boot": 20.0}, "n_boot = 20.0 is not a number of resamples"),
        ({"n_boot": -1}, "n_boot = -1 is not a number of resamples"),
    ],
)
def test_seed_and_resamples_are_checked_before_the_bootstrap(
    option: dict[str, object], message: str
) -> None:
    with pytest.raises(CohortError, match=message):
        optimal_cutpoint(_dlbcl(), "mge", **{"n_boot": 5, **option})  # type: ignore[arg-type]
    same = [optimal_cutpoint(_dlbcl(), "mge", n_boot=20, seed=np.int64(3)) for _ in range(2)]
    assert same[0].cutpoint == same[1].cutpoint


def test_no_events_and_too_many_for_hothorn_lausen() -> None:
    frame = _dlbcl().assign(os_event=0)
    with pytest.raises(CohortError, match="no os event among the 40 patients with mge"):
        optimal_cutpoint(frame, "mge", n_boot=0)
    rng = np.random.default_rng(0)
    big = _frame(rng.exponential(1, 250), rng.integers(0, 2, 250), rng.normal(0, 1, 250))
    with pytest.raises(CohortError, match="up to 200 patients; this analysis has 250"):
        optimal_cutpoint(big, "x", n_boot=0, p_method="hothorn-lausen")


def test_horizon_beyond_follow_up_is_not_estimable() -> None:
    res = optimal_cutpoint(_dlbcl(), "mge", n_boot=0, horizon_days=500.0)
    for g in res.groups:
        assert math.isnan(g.survival_at_horizon.estimate)
        assert g.survival_at_horizon.ci == (None, None)
        assert "not estimable" in g.survival_at_horizon.method
    assert "NE vs NE" in res.summary()


def test_scan_plot(fl: Cutpoint) -> None:
    ax = cutpoint_scan(fl).axes[0]
    assert isinstance(ax, Axes)
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_xdata(), fl.scan_cuts)
    np.testing.assert_allclose(line.get_ydata(), np.abs(fl.scan_statistics))
    cut_line = ax.lines[1]
    assert list(cut_line.get_xdata()) == [fl.cutpoint.estimate] * 2
    assert cut_line.get_ydata()[1] == pytest.approx(fl.max_statistic.estimate)
    spans = [p for p in ax.patches if isinstance(p, Polygon | Rectangle)]
    assert len(spans) == 1
    span = spans[0]
    if isinstance(span, Rectangle):
        xs = [span.get_x(), span.get_x() + span.get_width()]
    else:
        xs = list(span.get_xy()[:, 0])
    assert min(xs) == pytest.approx(fl.cutpoint.ci_low)
    assert max(xs) == pytest.approx(fl.cutpoint.ci_high)
    assert "adjusted p" in ax.get_title()
