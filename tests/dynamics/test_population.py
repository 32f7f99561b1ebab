"""Virtual populations: LHS + Gaussian-copula sampling and Allen–Rieger–Musante selection."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from immunoprecise.dynamics.trials import (
    Constraint,
    ParameterDistribution,
    PopulationSpec,
    sample_plausible,
    select_virtual_population,
)
from immunoprecise.errors import ValidationError


def _dist(name: str, kind: str, **kw: float) -> ParameterDistribution:
    return ParameterDistribution(name=name, kind=kind, unit="1", source="test", **kw)  # type: ignore[arg-type]


LOGN = _dist("r", "lognormal", median=0.2, cv=0.4)
UNIF = _dist("k", "uniform", low=0.5, high=2.0)
NORM = _dist("m", "normal", mean=10.0, sd=2.0, lower=5.0)
FIXED = _dist("c", "fixed", value=3.0)


def _spec(**kw: object) -> PopulationSpec:
    return PopulationSpec(distributions=[LOGN, UNIF, NORM, FIXED], **kw)  # type: ignore[arg-type]


# --- plausible sampling -------------------------------------------------------------------------


def test_marginals_match_requested_distributions() -> None:
    pop = sample_plausible(_spec(), 2000, seed=11)
    f = pop.frame
    for d in (LOGN, UNIF, NORM):
        # KS against the (truncated) marginal's own CDF; LHS makes it far tighter than random.
        res = stats.kstest(f[d.name].to_numpy(), d.cdf)
        assert res.pvalue > 0.05, d.name
    r = f["r"].to_numpy()
    assert np.median(r) == pytest.approx(0.2, rel=0.01)
    assert np.std(r) / np.mean(r) == pytest.approx(0.4, rel=0.05)  # CV on the linear scale
    assert f["m"].min() >= 5.0  # truncation holds without dropping rows
    assert (f["c"] == 3.0).all()
    assert list(f.columns) == ["r", "k", "m", "c"]


def test_gsd_parametrisation_gives_log_sd() -> None:
    d = _dist("g", "lognormal", median=1.0, gsd=2.0)
    pop = sample_plausible(PopulationSpec(distributions=[d]), 4000, seed=2)
    assert np.std(np.log(pop.frame["g"])) == pytest.approx(math.log(2.0), rel=0.02)


def test_lhs_one_sample_per_equal_probability_bin() -> None:
    n = 500
    pop = sample_plausible(_spec(), n, seed=5)
    assert pop.n_kept == n
    for d in (LOGN, UNIF, NORM):
        bins = np.floor(d.cdf(pop.frame[d.name].to_numpy()) * n).astype(int)
        assert sorted(bins.tolist()) == list(range(n)), d.name


def test_copula_reproduces_spearman_correlation() -> None:
    spec = _spec(
        correlated=["r", "k", "m"], correlation=[[1, 0.6, -0.3], [0.6, 1, 0], [-0.3, 0, 1]]
    )
    f = sample_plausible(spec, 5000, seed=9).frame
    rho = stats.spearmanr(f[["r", "k", "m"]]).statistic
    assert rho[0, 1] == pytest.approx(0.6, abs=0.03)
    assert rho[0, 2] == pytest.approx(-0.3, abs=0.03)
    assert abs(rho[1, 2]) < 0.03


def test_copula_normal_scores_pearson() -> None:
    spec = _spec(
        correlated=["r", "k"], correlation=[[1, 0.7], [0.7, 1]], correlation_kind="normal_scores"
    )
    f = sample_plausible(spec, 5000, seed=9).frame
    z_r = np.log(f["r"] / 0.2)  # normal score of a lognormal, up to scale
    z_k = stats.norm.ppf(UNIF.cdf(f["k"].to_numpy()))
    assert np.corrcoef(z_r, z_k)[0, 1] == pytest.approx(0.7, abs=0.03)


def test_constraint_filtering_counts() -> None:
    def k_below_r_times_10(frame: pd.DataFrame) -> np.ndarray:
        return (frame["k"] < 10 * frame["r"]).to_numpy()

    spec = _spec(
        constraints=[
            {"parameter": "k", "max": 1.25},
            Constraint(parameter="m", ratio_to="c", min=3.0),
            k_below_r_times_10,
        ]
    )
    pop = sample_plausible(spec, 1000, seed=3)
    raw = sample_plausible(_spec(), 1000, seed=3).frame  # same draws, no filtering
    c1 = raw["k"] <= 1.25
    c2 = raw["m"] / raw["c"] >= 3.0
    c3 = raw["k"] < 10 * raw["r"]
    assert pop.rejected == {
        "k <= 1.25": int((~c1).sum()),
        "3 <= m/c": int((~c2).sum()),
        "k_below_r_times_10": int((~c3).sum()),
    }
    assert pop.rejected["k <= 1.25"] == 500  # LHS: exactly half of the k bins lie above 1.25
    assert pop.n_kept == int((c1 & c2 & c3).sum())
    assert pop.n_kept + pop.n_dropped == 1000
    pd.testing.assert_frame_equal(pop.frame, raw.loc[c1 & c2 & c3])


def test_same_seed_same_population_other_seed_differs() -> None:
    spec = _spec(correlated=["r", "k"], correlation=[[1, 0.5], [0.5, 1]], seed=42)
    a = sample_plausible(spec, 300)
    b = sample_plausible(spec, 300, seed=42)
    c = sample_plausible(spec, 300, seed=43)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.seed == 42
    assert not np.allclose(a.frame["r"], c.frame["r"])
    unseeded = sample_plausible(_spec(), 10)
    pd.testing.assert_frame_equal(
        sample_plausible(_spec(), 10, seed=unseeded.seed).frame, unseeded.frame
    )


# --- acceptance ---------------------------------------------------------------------------------

MU, SIGMA = 1.0, 0.8


def _uniform_plausible(n: int = 20000, seed: int = 1) -> pd.DataFrame:
    spec = PopulationSpec(distributions=[_dist("y", "uniform", low=-6.0, high=6.0)])
    return sample_plausible(spec, n, seed=seed).frame


def test_acceptance_matches_parametric_target() -> None:
    res = select_virtual_population(_uniform_plausible(), stats.norm(MU, SIGMA), output="y", seed=7)
    gof = res.goodness_of_fit
    # Bound: the exact 1% critical value of the one-sample KS statistic for the accepted n
    # (Allen et al. accept a VP whose outputs pass K-S against the data).
    assert gof.critical_value == pytest.approx(stats.kstwo.ppf(0.99, res.n_accepted))
    assert gof.statistic < gof.critical_value
    assert res.n_accepted > 2000  # rejection alone keeps about n/(12·φ(0)/σ) ≈ 3340
    assert res.outputs.mean() == pytest.approx(MU, abs=0.05)
    assert res.outputs.std() == pytest.approx(SIGMA, rel=0.06)
    assert res.acceptance_rate == pytest.approx(res.n_accepted / 20000)
    assert res.probability.between(0, 1).all()


def test_acceptance_matches_observed_sample() -> None:
    observed = pd.Series(np.random.default_rng(3).normal(MU, SIGMA, 400))
    res = select_virtual_population(
        _uniform_plausible(), observed, output="y", scaling="rejection", seed=8
    )
    gof = res.goodness_of_fit
    n, m = res.n_accepted, 400
    assert gof.n_observed == m
    assert gof.critical_value == pytest.approx(1.6276 * math.sqrt((n + m) / (n * m)), rel=1e-3)
    assert gof.statistic < gof.critical_value
    # the KDE target widens the sd by sqrt(1 + h²), h = n^(-1/5) (Scott): ~4% for 400 points
    assert res.outputs.std() == pytest.approx(
        observed.std() * math.sqrt(1 + 400 ** (-0.4)), rel=0.06
    )
    assert res.outputs.mean() == pytest.approx(observed.mean(), abs=0.06)


def test_optimised_scaling_accepts_at_least_rejection() -> None:
    plausible = _uniform_plausible(8000, seed=4)
    target = stats.norm(MU, SIGMA)
    rej = select_virtual_population(plausible, target, output="y", scaling="rejection", seed=1)
    opt = select_virtual_population(plausible, target, output="y", scaling="optimize", seed=1)
    assert opt.scaling_factor >= rej.scaling_factor
    # delta_max = 1/max(f_t/f_p): the most likely plausible patient is accepted surely, no p clipped
    assert rej.probability.max() == pytest.approx(1.0)
    assert opt.n_accepted >= 0.9 * rej.n_accepted
    assert opt.goodness_of_fit.statistic < opt.goodness_of_fit.critical_value


def test_acceptance_is_reproducible() -> None:
    plausible = _uniform_plausible(3000)
    a = select_virtual_population(plausible, stats.norm(0, 1), output="y", seed=5)
    b = select_virtual_population(plausible, stats.norm(0, 1), output="y", seed=5)
    c = select_virtual_population(plausible, stats.norm(0, 1), output="y", seed=6)
    assert a.frame.index.equals(b.frame.index)
    assert not a.frame.index.equals(c.frame.index)


def test_n_target_is_met_exactly() -> None:
    res = select_virtual_population(
        _uniform_plausible(), stats.norm(MU, SIGMA), output="y", n_target=1000, seed=2
    )
    assert res.n_accepted == 1000
    assert res.message == ""
    assert res.goodness_of_fit.statistic < res.goodness_of_fit.critical_value


def test_output_given_as_array() -> None:
    plausible = _uniform_plausible(3000)
    y = plausible["y"].to_numpy() * 2.0
    res = select_virtual_population(plausible.drop(columns="y"), stats.norm(0, 2), output=y, seed=1)
    assert res.goodness_of_fit.statistic < res.goodness_of_fit.critical_value


def test_stratified_acceptance_hits_flipi_proportions() -> None:
    rng = np.random.default_rng(10)
    n = 12000
    # plausible strata deliberately unbalanced (60/30/10) against the FLIPI targets
    groups = rng.choice(["low", "intermediate", "high"], n, p=[0.6, 0.3, 0.1])
    plausible = pd.DataFrame({"y": rng.uniform(-6, 6, n), "flipi": groups})
    target = {"low": 0.375, "intermediate": 0.415, "high": 0.21}
    res = select_virtual_population(
        plausible,
        stats.norm(MU, SIGMA),
        output="y",
        strata={"column": "flipi", "proportions": target},
        seed=3,
    )
    achieved = {s.stratum: s.achieved_proportion for s in res.strata}
    for s, p in target.items():
        assert achieved[s] == pytest.approx(p, abs=0.005)
        assert (res.frame["flipi"] == s).mean() == pytest.approx(achieved[s])
    assert res.n_accepted > 400
    assert res.goodness_of_fit.statistic < res.goodness_of_fit.critical_value


# --- bad inputs ---------------------------------------------------------------------------------


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p.field for p in exc.value.problems]


def test_negative_cv_is_named() -> None:
    with pytest.raises(ValidationError) as exc:
        _dist("r", "lognormal", median=0.2, cv=-0.1)
    assert _fields(exc) == ["distribution 'r'.cv"]
    assert exc.value.problems[0].value == -0.1
    assert "> 0" in exc.value.problems[0].message


def test_low_above_high_is_named() -> None:
    with pytest.raises(ValidationError) as exc:
        _dist("k", "uniform", low=2.0, high=1.0)
    assert _fields(exc) == ["distribution 'k'.low"]


def test_nested_dict_distribution_is_checked() -> None:
    with pytest.raises(ValidationError) as exc:
        PopulationSpec(
            distributions=[
                {"name": "k", "kind": "uniform", "low": 3, "high": 1, "unit": "1", "source": "x"}
            ]  # type: ignore[list-item]
        )
    assert _fields(exc) == ["distributions[0].low"]


def test_not_positive_definite_correlation() -> None:
    bad = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
    with pytest.raises(ValidationError) as exc:
        _spec(correlated=["r", "k", "m"], correlation=bad)
    assert _fields(exc) == ["correlation"]
    assert "positive definite" in exc.value.problems[0].message


def test_unknown_parameter_in_constraint() -> None:
    with pytest.raises(ValidationError) as exc:
        _spec(constraints=[{"parameter": "kk", "min": 0}])
    assert _fields(exc) == ["constraints[0].parameter"]
    assert exc.value.problems[0].value == "kk"


def test_observed_with_nan() -> None:
    observed = np.array([1.0, np.nan, 2.0, 3.0])
    with pytest.raises(ValidationError) as exc:
        select_virtual_population(_uniform_plausible(100), observed, output="y", seed=1)
    assert _fields(exc) == ["observed"]
    assert "positions [1]" in str(exc.value)


def test_bad_strata_proportions_and_output() -> None:
    plausible = _uniform_plausible(100)
    with pytest.raises(ValidationError) as exc:
        select_virtual_population(
            plausible,
            stats.norm(0, 1),
            output="y",
            strata={"column": "y", "proportions": {"a": 0.5}},
        )
    assert _fields(exc) == ["strata.proportions"]
    with pytest.raises(ValidationError) as exc:
        select_virtual_population(plausible, stats.norm(0, 1), output="z")
    assert _fields(exc) == ["output"]


def test_truncation_far_in_the_upper_tail_gives_finite_values_within_bounds() -> None:
    # P(X > 8) = 6e-16 for N(0, 1): through the CDF every draw became +inf
    d = _dist("x", "normal", mean=0.0, sd=1.0, lower=8.0)
    x = sample_plausible(PopulationSpec(distributions=[d]), 500, seed=1).frame["x"].to_numpy()
    assert np.all(np.isfinite(x))
    assert x.min() >= 8.0
    # the truncated normal's own quantiles (scipy.stats.truncnorm), bin by bin of the LHS
    ref = stats.truncnorm(8.0, np.inf)
    assert np.median(x) == pytest.approx(ref.median(), rel=1e-3)
    assert stats.kstest(x, ref.cdf).pvalue > 0.05
    assert d.cdf(np.array([ref.median()]))[0] == pytest.approx(0.5, abs=1e-6)
    # a lognormal bounded far above its median (CV 10%, lower bound = 2.2 × median)
    g = _dist("g", "lognormal", median=0.18, cv=0.1, lower=0.4)
    y = sample_plausible(PopulationSpec(distributions=[g]), 200, seed=2).frame["g"]
    assert np.all(np.isfinite(y))
    assert y.min() >= 0.4


def test_constraint_bounds_must_be_finite() -> None:
    with pytest.raises(ValidationError) as exc:
        _spec(constraints=[{"parameter": "r", "max": float("nan")}])
    assert _fields(exc) == ["constraints[0].max"]
    assert "finite" in exc.value.problems[0].message
    with pytest.raises(ValidationError) as exc:
        _spec(constraints=[{"parameter": "r", "min": float("-inf")}])
    assert _fields(exc) == ["constraints[0].min"]


def test_a_bad_constraint_is_not_also_reported_as_not_callable() -> None:
    with pytest.raises(ValidationError) as exc:
        _spec(constraints=[{"parameter": "r", "min": 2, "max": 1}])
    assert _fields(exc) == ["constraints[0].min"]
    assert "callable" not in str(exc.value)


def test_true_false_are_not_numbers_of_a_spec() -> None:
    with pytest.raises(ValidationError) as exc:
        _dist("r", "lognormal", median=0.2, cv=True)
    assert exc.value.problems[0].field.endswith("cv")
    assert "got true" in exc.value.problems[0].message
    with pytest.raises(ValidationError) as exc:
        _spec(seed=True)
    assert _fields(exc) == ["PopulationSpec.seed"]
    with pytest.raises(ValidationError) as exc:
        _spec(seed=-1)
    assert _fields(exc) == ["seed"]


def test_a_huge_cv_is_sampled_not_a_traceback() -> None:
    d = _dist("r", "lognormal", median=1.0, cv=1e200)
    assert d.sigma == pytest.approx(math.sqrt(2 * math.log(1e200)), rel=1e-12)
    assert _dist("s", "lognormal", median=1.0, cv=3.0).sigma == pytest.approx(
        math.sqrt(math.log(10.0)), rel=1e-12
    )
    x = sample_plausible(PopulationSpec(distributions=[d]), 50, seed=1).frame["r"]
    assert np.all(np.isfinite(x))
    assert np.all(x > 0)


def test_a_fixed_value_outside_its_bounds_is_named() -> None:
    with pytest.raises(ValidationError) as exc:
        _dist("c", "fixed", value=5.0, lower=0.0, upper=1.0)
    assert _fields(exc) == ["distribution 'c'.value"]
