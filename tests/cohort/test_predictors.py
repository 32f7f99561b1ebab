"""Predictor evaluation: AUC, DeLong CI and test, calibration, pooling, comparison tables.

Every statistic is checked against an independent computation: scipy's Mann–Whitney U, a direct
O(n₁·n₀) implementation of DeLong's structural components written here, a large bootstrap, a
published worked example (Hanley & McNeil 1982), simulated coverage and error rates, scipy's
exact binomial interval, and a DerSimonian–Laird calculation done by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Polygon
from scipy import optimize, special, stats

from immunoprecise.cohort.calibration import calibration
from immunoprecise.cohort.meta import pool_random_effects
from immunoprecise.cohort.predictors import (
    compare_predictors,
    evaluate_predictors_across_cohorts,
    holm,
    response_indicator,
)
from immunoprecise.cohort.roc import delong_components, delong_test, roc_auc, roc_curve
from immunoprecise.cohort.statistic import Statistic
from immunoprecise.errors import CohortError
from immunoprecise.pl._roc import forest, roc

Z95 = float(stats.norm.ppf(0.975))


# ---------------------------------------------------------------- direct DeLong (O(n1·n0))


def _psi(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Kernel ψ(x, y) = 1 if x > y, ½ if tied, 0 otherwise (DeLong 1988, eq. 2)."""
    return (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])


def _direct_delong(y: np.ndarray, scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and covariance from the structural components, pair by pair (DeLong 1988, §2)."""
    v10, v01 = [], []
    for s in scores:
        k = _psi(s[y == 1], s[y == 0])
        v10.append(k.mean(axis=1))
        v01.append(k.mean(axis=0))
    a10, a01 = np.array(v10), np.array(v01)
    m, n = a10.shape[1], a01.shape[1]
    auc = a10.mean(axis=1)
    s10 = (a10 - auc[:, None]) @ (a10 - auc[:, None]).T / (m - 1)
    s01 = (a01 - auc[:, None]) @ (a01 - auc[:, None]).T / (n - 1)
    return auc, s10 / m + s01 / n


def _binormal(rng: np.random.Generator, m: int, n: int, shift: float) -> tuple[np.ndarray, ...]:
    y = np.r_[np.ones(m, dtype=int), np.zeros(n, dtype=int)]
    return y, rng.normal(0, 1, m + n) + shift * y


# ---------------------------------------------------------------- AUC


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_auc_equals_mann_whitney_u_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 57)
    y[:2] = [0, 1]
    score = rng.integers(0, 6, 57).astype(float)  # six levels: many ties
    u = stats.mannwhitneyu(score[y == 1], score[y == 0]).statistic
    auc = roc_auc(y, score)
    assert auc.estimate == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=1e-12)
    assert auc.n == 57


def test_roc_curve_area_by_trapezoids_is_the_auc() -> None:
    rng = np.random.default_rng(5)
    y, score = _binormal(rng, 30, 40, 1.0)
    score = np.round(score, 1)  # ties give diagonal segments, still the same area
    curve = roc_curve(y, score, name="s")
    area = np.trapezoid(curve.tpr, curve.fpr)
    assert area == pytest.approx(curve.auc.estimate, abs=1e-12)
    assert curve.fpr[0] == curve.tpr[0] == 0.0
    assert curve.fpr[-1] == curve.tpr[-1] == 1.0
    assert np.all(np.diff(curve.thresholds) < 0)


@pytest.mark.parametrize("seed", [0, 7])
def test_delong_variance_equals_direct_structural_components(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, a = _binormal(rng, 23, 31, 0.8)
    b = np.round(a + rng.normal(0, 0.7, a.size), 0)  # correlated with a, tied
    fast_auc, fast_cov = delong_components(y.astype(np.int8), np.vstack([a, b]))
    auc, cov = _direct_delong(y, [a, b])
    np.testing.assert_allclose(fast_auc, auc, atol=1e-12)
    np.testing.assert_allclose(fast_cov, cov, atol=1e-12)
    plain = roc_auc(y, a, scale="plain")
    se = math.sqrt(cov[0, 0])
    assert plain.ci_low == pytest.approx(auc[0] - Z95 * se, abs=1e-9)
    assert plain.ci_high == pytest.approx(auc[0] + Z95 * se, abs=1e-9)
    logit = roc_auc(y, a)
    half = Z95 * se / (auc[0] * (1 - auc[0]))
    assert special.logit(logit.ci_low) == pytest.approx(special.logit(auc[0]) - half, abs=1e-9)
    assert special.logit(logit.ci_high) == pytest.approx(special.logit(auc[0]) + half, abs=1e-9)


def test_hanley_mcneil_ct_example() -> None:
    """Hanley & McNeil (1982, Radiology 143:29, Table 1): 109 CT images rated 1–5.

    Published AUC 0.893. Stata's ``roctab`` (DeLong SE by default) on these data, as printed in
    the Stata Base Reference Manual [R] roctab, Example 1: area 0.8932, SE 0.0307, asymptotic
    normal 95% CI 0.83295–0.95339 — the plain DeLong interval.
    """
    normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    y = np.r_[np.ones(51, dtype=int), np.zeros(58, dtype=int)]
    rating = np.r_[abnormal, normal].astype(float)
    auc = roc_auc(y, rating, scale="plain")
    assert round(auc.estimate, 3) == 0.893
    assert round(auc.estimate, 4) == 0.8932
    _, cov = delong_components(y.astype(np.int8), rating[None, :])
    assert round(math.sqrt(cov[0, 0]), 4) == 0.0307
    assert (round(auc.ci_low, 5), round(auc.ci_high, 5)) == (0.83295, 0.95339)


def test_delong_se_agrees_with_a_large_stratified_bootstrap() -> None:
    rng = np.random.default_rng(11)
    y, score = _binormal(rng, 60, 80, 0.9)
    pos, neg = score[y == 1], score[y == 0]
    _, cov = delong_components(y.astype(np.int8), score[None, :])
    boot = np.empty(4000)
    for i in range(boot.size):
        p = rng.choice(pos, pos.size)
        q = rng.choice(neg, neg.size)
        boot[i] = _psi(p, q).mean()
    # bootstrap SD has Monte-Carlo error ≈ 1/√(2·4000) ≈ 1.1 %; DeLong and bootstrap differ by
    # O(1/n) — 7 % relative is several times both
    assert boot.std(ddof=1) == pytest.approx(math.sqrt(cov[0, 0]), rel=0.07)


def test_logit_auc_interval_covers_the_true_auc_about_95_percent() -> None:
    """Binormal, shift 1: true AUC Φ(1/√2) = 0.760. 400 samples of 25 + 25 patients.

    Binomial SD of the coverage at 95 % over 400 runs is 1.1 %; the band is ±3 SD.
    """
    rng = np.random.default_rng(2024)
    true = float(stats.norm.cdf(1 / math.sqrt(2)))
    hits = 0
    for _ in range(400):
        y, s = _binormal(rng, 25, 25, 1.0)
        auc = roc_auc(y, s)
        assert auc.ci_low is not None
        assert auc.ci_high is not None
        hits += auc.ci_low <= true <= auc.ci_high
    assert 0.917 <= hits / 400 <= 0.983, hits


def test_auc_errors_name_the_problem() -> None:
    with pytest.raises(CohortError, match="responders and non-responders"):
        roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(CohortError, match="3 values but the outcome has 4"):
        roc_auc([1, 0, 1, 0], [0.1, 0.2, 0.3])
    with pytest.raises(CohortError, match=r"patient P2: score 'AUC' = nan"):
        roc_auc(
            pd.Series([1, 0, 1], index=["P1", "P2", "P3"]),
            pd.Series([0.1, np.nan, 0.3], index=["P1", "P2", "P3"]),
        )
    with pytest.raises(CohortError, match=r"position 1: outcome = 2"):
        roc_auc([1, 2, 0], [0.1, 0.2, 0.3])
    with pytest.raises(CohortError, match="ci_level"):
        roc_auc([1, 0], [1, 0], ci_level=95)


def test_series_are_paired_by_patient_not_by_position() -> None:
    ids = [f"p{i}" for i in range(8)]
    y = pd.Series([1, 1, 1, 1, 0, 0, 0, 0], index=ids)
    s = pd.Series([8.0, 7, 6, 5, 4, 3, 2, 1], index=ids)
    shuffled = s.iloc[[3, 0, 7, 5, 1, 6, 2, 4]]
    assert roc_auc(y, shuffled).estimate == roc_auc(y, s).estimate == 1.0
    assert roc_curve(y, s.iloc[::-1]).auc.estimate == 1.0
    test = delong_test(y, s.iloc[::-1], -s)
    assert test.estimate == pytest.approx(1.0)  # AUC 1 minus AUC 0, not 0 minus 0
    p = pd.Series([0.8, 0.3, 0.6, 0.55, 0.5, 0.7, 0.2, 0.1], index=ids)
    assert calibration(y, p.iloc[::-1]).brier.estimate == calibration(y, p).brier.estimate
    assert roc_auc(y, s.to_numpy()[::-1]).estimate == 0.0  # an array is read in order
    with pytest.raises(CohortError, match="patient p0 has an outcome but no score"):
        roc_auc(y, s.set_axis([f"q{i}" for i in range(8)]))
    with pytest.raises(CohortError, match="score 'AUC' has more than one value for patient p1"):
        roc_auc(y, s.set_axis(["p0", "p1", "p1", "p3", "p4", "p5", "p6", "p7"]))


def test_one_responder_gives_the_auc_without_an_interval() -> None:
    auc = roc_auc([1, 0, 0, 0], [0.9, 0.1, 0.5, 0.3])
    assert auc.estimate == 1.0
    assert auc.ci_low is None
    assert auc.ci_level is None


# ---------------------------------------------------------------- DeLong test


def test_delong_test_equals_the_direct_formula() -> None:
    rng = np.random.default_rng(3)
    y, a = _binormal(rng, 35, 45, 1.0)
    b = 0.6 * a + rng.normal(0, 0.8, a.size) + 0.3 * y
    auc, cov = _direct_delong(y, [a, b])
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    z = (auc[0] - auc[1]) / se
    test = delong_test(y, a, b, names=("a", "b"))
    assert test.estimate == pytest.approx(auc[0] - auc[1], abs=1e-12)
    assert test.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert test.ci_low == pytest.approx(auc[0] - auc[1] - Z95 * se, abs=1e-9)
    assert f"z = {z:.3f}" in test.method


def test_delong_test_of_identical_scores_is_zero_with_p_one() -> None:
    rng = np.random.default_rng(4)
    y, a = _binormal(rng, 20, 20, 0.5)
    test = delong_test(y, a, a.copy())
    assert test.estimate == 0.0
    assert test.p_value == 1.0
    # a monotone transform ranks every pair the same way: same AUC, same components
    assert delong_test(y, a, np.exp(a)).p_value == 1.0


def test_delong_test_rejects_about_five_percent_under_the_null() -> None:
    """400 seeded data sets, two correlated scores with the same distribution (equal AUCs).

    Under H0 the count of p < 0.05 is Binomial(400, 0.05): mean 20, SD 4.36; the accepted band
    is mean ± 3 SD (7–33, i.e. 1.7–8.3 %).
    """
    rng = np.random.default_rng(1988)
    rejected = 0
    for _ in range(400):
        y, _ = _binormal(rng, 30, 30, 0.0)
        e1, e2 = rng.normal(size=(2, y.size))
        a = 1.0 * y + e1
        b = 1.0 * y + 0.5 * e1 + math.sqrt(0.75) * e2
        p = delong_test(y, a, b).p_value
        assert p is not None
        rejected += p < 0.05
    assert 7 <= rejected <= 33, rejected


def test_delong_test_detects_a_real_difference() -> None:
    rng = np.random.default_rng(8)
    y, strong = _binormal(rng, 80, 80, 2.0)
    weak = 0.3 * y + rng.normal(size=y.size)
    test = delong_test(y, strong, weak, names=("strong", "weak"))
    assert test.estimate > 0.2
    assert test.p_value is not None
    assert test.p_value < 1e-4
    assert test.name == "AUC difference (strong − weak)"


# ---------------------------------------------------------------- calibration


def test_calibration_of_a_calibrated_model_has_slope_one_and_intercept_zero() -> None:
    rng = np.random.default_rng(1958)
    lp = rng.normal(-0.3, 1.2, 6000)
    p = special.expit(lp)
    y = (rng.uniform(size=p.size) < p).astype(int)
    cal = calibration(y, p)
    assert cal.slope.ci_low < 1 < cal.slope.ci_high
    assert cal.intercept.ci_low < 0 < cal.intercept.ci_high
    assert abs(cal.slope.estimate - 1) < 0.08
    assert abs(cal.intercept.estimate) < 0.08
    # predictions twice as extreme on the logit scale: slope ½
    over = calibration(y, special.expit(2 * lp))
    assert over.slope.estimate == pytest.approx(0.5, abs=0.05)
    assert over.slope.p_value is not None
    assert over.slope.p_value < 1e-6


def test_calibration_fits_equal_the_score_equations() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.9, 300)
    y = (rng.uniform(size=300) < np.clip(p + 0.1, 0, 1)).astype(int)
    cal = calibration(y, p)
    lp = special.logit(p)
    # intercept with logit(p) as offset: Σ (y − expit(a + lp)) = 0
    a = optimize.brentq(lambda a: float(np.sum(y - special.expit(a + lp))), -5, 5)
    assert cal.intercept.estimate == pytest.approx(a, abs=1e-6)
    # slope: both score equations of the two-parameter fit are zero at the estimate
    res = optimize.root(
        lambda c: [
            float(np.sum(y - special.expit(c[0] + c[1] * lp))),
            float(np.sum((y - special.expit(c[0] + c[1] * lp)) * lp)),
        ],
        [0.0, 1.0],
    )
    assert res.success
    assert cal.slope.estimate == pytest.approx(res.x[1], abs=1e-6)
    assert cal.brier.estimate == pytest.approx(float(np.mean((p - y) ** 2)), abs=1e-12)


def test_calibration_bins_have_clopper_pearson_intervals() -> None:
    rng = np.random.default_rng(6)
    p = rng.uniform(0, 1, 237)
    y = (rng.uniform(size=237) < p).astype(int)
    cal = calibration(y, p, bins=7)
    assert len(cal.bins) == 7
    assert sum(b.n for b in cal.bins) == 237
    assert [b.mean_predicted for b in cal.bins] == sorted(b.mean_predicted for b in cal.bins)
    order = np.argsort(p, kind="stable")
    for b, idx in zip(cal.bins, np.array_split(order, 7), strict=True):
        k, n = int(y[idx].sum()), idx.size
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        assert b.observed.estimate == pytest.approx(k / n)
        assert b.observed.ci_low == pytest.approx(ci.low, abs=1e-10)
        assert b.observed.ci_high == pytest.approx(ci.high, abs=1e-10)
        assert b.mean_predicted == pytest.approx(p[idx].mean())


def test_calibration_refuses_probabilities_outside_zero_one() -> None:
    y = pd.Series([1, 0, 1, 0], index=["A", "B", "C", "D"])
    with pytest.raises(CohortError, match=r"patient C: probability = 1.3 is outside \[0, 1\]"):
        calibration(y, pd.Series([0.8, 0.2, 1.3, 0.1], index=y.index))
    with pytest.raises(CohortError, match="separate"):
        calibration([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])


# ---------------------------------------------------------------- random-effects pooling


def _with_ci(theta: float, se: float, n: int = 10) -> Statistic:
    return Statistic(
        name="difference",
        estimate=theta,
        ci_low=theta - Z95 * se,
        ci_high=theta + Z95 * se,
        ci_level=0.95,
        n=n,
        method="test",
    )


def test_dersimonian_laird_equals_the_hand_calculation() -> None:
    """θ = (0, 1, 3), v = (1, ½, 2) on the identity scale, worked by hand.

    w = (1, 2, ½), Σw = 3.5, θ_FE = (0 + 2 + 1.5)/3.5 = 1; Q = 1·1² + 2·0² + ½·2² = 3, df = 2;
    C = 3.5 − (1 + 4 + ¼)/3.5 = 2; τ² = (3 − 2)/2 = ½; w* = (⅔, 1, 0.4), Σw* = 31/15;
    θ_RE = (0 + 1 + 1.2)/(31/15) = 33/31; SE = √(15/31); I² = (3 − 2)/3 = ⅓.
    """
    studies = [_with_ci(0.0, 1.0), _with_ci(1.0, math.sqrt(0.5)), _with_ci(3.0, math.sqrt(2.0))]
    pooled = pool_random_effects(studies, labels=["a", "b", "c"], scale="identity")
    assert pooled.fixed.estimate == pytest.approx(1.0)
    assert pooled.q.estimate == pytest.approx(3.0)
    assert pooled.q.df == 2
    assert pooled.q.p_value == pytest.approx(math.exp(-1.5))  # χ²₂ survival: e^(−Q/2)
    assert pooled.tau2 == pytest.approx(0.5)
    assert pooled.i2 == pytest.approx(1 / 3)
    assert pooled.pooled.estimate == pytest.approx(33 / 31)
    se = math.sqrt(15 / 31)
    assert pooled.pooled.ci_low == pytest.approx(33 / 31 - Z95 * se)
    assert pooled.pooled.ci_high == pytest.approx(33 / 31 + Z95 * se)
    np.testing.assert_allclose(pooled.weights, np.array([2 / 3, 1, 0.4]) * 15 / 31)
    assert pooled.pooled.n == 30
    # the same with the standard errors given instead of recovered from the CIs
    given = pool_random_effects(
        studies, scale="identity", standard_errors=[1.0, math.sqrt(0.5), math.sqrt(2.0)]
    )
    assert given.pooled.estimate == pytest.approx(33 / 31)


def test_homogeneous_studies_have_no_between_study_variance() -> None:
    studies = [_with_ci(0.4, 0.2), _with_ci(0.4, 0.1), _with_ci(0.4, 0.3)]
    pooled = pool_random_effects(studies, scale="identity")
    assert pooled.tau2 == 0.0
    assert pooled.i2 == 0.0
    assert pooled.q.estimate == pytest.approx(0.0)
    assert pooled.pooled.estimate == pytest.approx(0.4)
    assert pooled.pooled.ci_low == pytest.approx(pooled.fixed.ci_low)
    # Q below its df also gives τ² = 0 (truncated at zero)
    near = pool_random_effects(
        [_with_ci(0.40, 0.2), _with_ci(0.45, 0.2), _with_ci(0.38, 0.2)], scale="identity"
    )
    assert near.q.estimate < 2
    assert near.tau2 == 0.0


def test_pooling_aucs_on_the_logit_scale_uses_the_delong_variance() -> None:
    rng = np.random.default_rng(12)
    data = [_binormal(rng, m, n, 0.8) for m, n in ((20, 30), (15, 25), (40, 35))]
    aucs = [roc_auc(y, s) for y, s in data]
    theta, var = [], []
    for y, s in data:
        a, cov = delong_components(y.astype(np.int8), s[None, :])
        theta.append(special.logit(a[0]))
        var.append(cov[0, 0] / (a[0] * (1 - a[0])) ** 2)
    w = 1 / np.array(var)
    fixed = float(np.sum(w * theta) / w.sum())
    q = float(np.sum(w * (np.array(theta) - fixed) ** 2))
    tau2 = max(0.0, (q - 2) / (w.sum() - (w**2).sum() / w.sum()))
    w_re = 1 / (np.array(var) + tau2)
    expected = special.expit(float(np.sum(w_re * theta) / w_re.sum()))
    pooled = pool_random_effects(aucs, scale="logit")
    assert pooled.tau2 == pytest.approx(tau2, abs=1e-9)
    assert pooled.pooled.estimate == pytest.approx(expected, abs=1e-9)
    assert pooled.pooled.name == "pooled AUC"


def test_pooling_errors() -> None:
    with pytest.raises(CohortError, match="at least 2 studies"):
        pool_random_effects([_with_ci(0.5, 0.1)])
    bare = Statistic(name="AUC", estimate=0.7, n=10, method="x")
    with pytest.raises(CohortError, match="no confidence interval"):
        pool_random_effects([bare, bare], labels=["one", "two"])
    one = Statistic(
        name="AUC", estimate=1.0, ci_low=1.0, ci_high=1.0, ci_level=0.95, n=9, method="x"
    )
    with pytest.raises(CohortError, match="study two: estimate 1 cannot be pooled on the logit"):
        pool_random_effects([_with_ci(0.6, 0.1), one], labels=["one", "two"])


# ---------------------------------------------------------------- response and comparisons


def test_response_indicator_maps_best_response() -> None:
    frame = pd.DataFrame(
        {"best_response": ["CR", "sCR", "VGPR", "PR", "MR", "SD", "PD", "NE", None]},
        index=pd.Index([f"P{i}" for i in range(9)], name="patient_id"),
    )
    assert response_indicator(frame).tolist() == [1, 1, 1, 1, 0, 0, 0, pd.NA, pd.NA]
    coded = pd.DataFrame({"response": ["R", "nr", 1, 0, True, False, None, ""]})
    assert response_indicator(coded).tolist() == [1, 0, 1, 0, 1, 0, pd.NA, pd.NA]


def test_response_indicator_errors_name_patient_column_and_value() -> None:
    frame = pd.DataFrame(
        {"best_response": ["CR", "PRR"]}, index=pd.Index(["A", "B"], name="patient_id")
    )
    with pytest.raises(CohortError, match=r"patient B: best_response = 'PRR'"):
        response_indicator(frame)
    with pytest.raises(CohortError, match=r"patient A: response = 'maybe'"):
        response_indicator(pd.DataFrame({"response": ["maybe"]}, index=["A"]))
    with pytest.raises(CohortError, match="no column 'response'"):
        response_indicator(pd.DataFrame({"x": [1]}))


def _cohort(seed: int, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    frame = pd.DataFrame(
        {
            "response": np.where(y == 1, "R", "NR").astype(object),
            "strong": 1.5 * y + rng.normal(size=n),
            "weak": 0.3 * y + rng.normal(size=n),
            "noise": rng.normal(size=n),
        },
        index=pd.Index([f"S{seed}-{i:02d}" for i in range(n)], name="patient_id"),
    )
    return frame


def test_compare_predictors_uses_the_same_patients_and_holm() -> None:
    frame = _cohort(1)
    frame.loc["S1-05", "weak"] = np.nan
    frame.loc["S1-07", "response"] = None
    result = compare_predictors(frame, ["strong", "weak", "noise"])
    assert result.excluded == ("S1-05", "S1-07")
    assert result.n == 58
    kept = frame.drop(index=["S1-05", "S1-07"])
    y = (kept["response"] == "R").astype(int).to_numpy()
    for curve in result.curves:
        assert curve.auc.estimate == pytest.approx(roc_auc(y, kept[curve.name]).estimate)
    raw = [
        delong_test(y, kept[a], kept[b]).p_value
        for a, b in [("strong", "weak"), ("strong", "noise"), ("weak", "noise")]
    ]
    assert [c.difference.p_value for c in result.comparisons] == pytest.approx(raw)
    assert [c.p_holm for c in result.comparisons] == pytest.approx(holm(raw))
    table = result.table()
    assert list(table["kind"]) == ["AUC"] * 3 + ["difference"] * 3
    assert table.loc[3, "predictor"] == "strong − weak"


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 → 3·0.01, 2·0.03, max(0.06, 1·0.04)
    assert holm([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_compare_predictors_errors() -> None:
    frame = _cohort(2)
    with pytest.raises(CohortError, match="no column 'missing'"):
        compare_predictors(frame, ["strong", "missing"])
    frame["text"] = "high"
    with pytest.raises(CohortError, match=r"column 'text' is not numeric: patient \S+ has 'high'"):
        compare_predictors(frame, ["text"])
    frame["endless"] = float("inf")
    with pytest.raises(CohortError, match=r"column 'endless': patient .+ needs finite values"):
        compare_predictors(frame, ["endless"])
    with pytest.raises(CohortError, match="named twice"):
        compare_predictors(frame, ["strong", "strong"])
    only_r = frame.assign(response="R")
    with pytest.raises(CohortError, match="0 non-responders"):
        compare_predictors(only_r, ["strong"])


def test_compare_predictors_reads_best_response_of_a_cohort_file() -> None:
    import immunoprecise as ip
    from immunoprecise.cohort import cohort_frame

    frame = cohort_frame(ip.data.example_path("fl_cohort.csv"))
    numeric = [
        c
        for c in frame.columns
        if c not in ("pfs_days", "os_days", "pfs_event", "os_event")
        and pd.api.types.is_numeric_dtype(frame[c])
        and frame[c].notna().sum() >= 8
    ]
    result = compare_predictors(ip.data.example_path("fl_cohort.csv"), numeric[:1])
    y = response_indicator(frame)
    keep = y.notna() & frame[numeric[0]].notna()
    assert result.n == int(keep.sum())
    assert result.n_responders == int(y[keep].sum())


def test_evaluation_across_cohorts_pools_the_per_cohort_aucs() -> None:
    cohorts = {f"C{i}": _cohort(i, 40 + 10 * i) for i in range(4)}
    cohorts["C3"] = cohorts["C3"].drop(columns="weak")
    result = evaluate_predictors_across_cohorts(cohorts, ["strong", "weak"])
    strong = result.results[0]
    assert [c.cohort for c in strong.per_cohort] == ["C0", "C1", "C2", "C3"]
    for c in strong.per_cohort:
        frame = cohorts[c.cohort]
        y = (frame["response"] == "R").astype(int)
        assert c.auc.estimate == pytest.approx(roc_auc(y, frame["strong"]).estimate)
    assert strong.pooled is not None
    direct = pool_random_effects([c.auc for c in strong.per_cohort], scale="logit")
    assert strong.pooled.pooled.estimate == pytest.approx(direct.pooled.estimate)
    assert result.results[1].skipped == (("C3", "no column 'weak'"),)
    table = result.table()
    assert table["cohort"].tolist().count("pooled (random effects)") == 2
    assert table.loc[table["cohort"] == "pooled (random effects)", "weight"].tolist() == [1, 1]


# ---------------------------------------------------------------- figures


def test_roc_plot_labels_each_curve_with_auc_and_ci() -> None:
    result = compare_predictors(_cohort(3), ["strong", "noise"])
    ax = roc(result).axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    for text, curve in zip(texts, result.curves, strict=True):
        auc = curve.auc
        assert text == (
            f"{curve.name}: AUC {auc.estimate:.2f} (95% CI {auc.ci_low:.2f}–{auc.ci_high:.2f})"
        )
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert list(lines[0].get_xdata()) == list(result.curves[0].fpr)


def test_forest_plot_draws_studies_pooled_diamond_and_reference() -> None:
    cohorts = {f"C{i}": _cohort(i, 50) for i in range(3)}
    result = evaluate_predictors_across_cohorts(cohorts, ["strong"])
    ax = forest(result).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "C0",
        "C1",
        "C2",
        "pooled (random effects)",
    ]
    diamonds = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(diamonds) == 1
    pooled = result.results[0].pooled
    assert pooled is not None
    xs = diamonds[0].get_xy()[:, 0]
    assert min(xs) == pytest.approx(pooled.pooled.ci_low)
    assert max(xs) == pytest.approx(pooled.pooled.ci_high)
    assert any(list(line.get_xdata()) == [0.5, 0.5] for line in ax.get_lines())
    assert ax.get_xlabel() == "AUC (95% CI)"


def test_a_study_without_a_label_is_named_once_in_messages() -> None:
    from immunoprecise.cohort.meta import pool_random_effects
    from immunoprecise.cohort.statistic import Statistic

    estimates = [
        Statistic(
            name="AUC", estimate=0.6, ci_low=0.5, ci_high=0.7, ci_level=0.95, n=40, method="DeLong"
        ),
        Statistic(
            name="AUC", estimate=1.0, ci_low=1.0, ci_high=1.0, ci_level=0.95, n=20, method="DeLong"
        ),
    ]
    with pytest.raises(CohortError, match=r"^study 2: estimate 1 cannot") as caught:
        pool_random_effects(estimates, scale="logit")
    assert "study study" not in str(caught.value)
