"""Calibration: parameters recovered from synthetic data, identifiability, priors, inputs, errors.

Synthetic data come from :func:`immunoprecise.simulate` with known parameters and seeded
multiplicative noise; tolerances are stated next to each assertion.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from immunoprecise.data import example_path
from immunoprecise.dynamics.calibration import CHI2_1_95, Calibration, calibrate
from immunoprecise.dynamics.response import diameter_mm_to_cells
from immunoprecise.dynamics.simulate import simulate
from immunoprecise.errors import ModelError, ValidationError
from immunoprecise.records import PatientRecord, read_patient

NOISE_LOG10 = 0.03  # sd of the synthetic measurement error, decades (≈ 7%)


def _synthetic(
    model: str,
    days: np.ndarray,
    *,
    params: dict[str, float],
    initial: dict[str, float] | None = None,
    regimen: str | None = None,
    seed: int,
    noise: float = NOISE_LOG10,
) -> pd.DataFrame:
    """Tumor cells at ``days`` with lognormal noise; the day-0 value is exact (it is the start)."""
    tr = simulate(
        model, t_end=float(days[-1]), t_eval=days, params=params, initial=initial, regimen=regimen
    )
    rng = np.random.default_rng(seed)
    cells = tr.tumor[0] * 10.0 ** rng.normal(0.0, noise, days.size)
    cells[0] = tr.tumor[0, 0]
    return pd.DataFrame({"day": days, "cells": cells})


# --- recovery of known parameters ----------------------------------------------------------

KUZ_TRUE = {"a": 0.25, "n": 1.5e-7}  # default a = 0.18, n = 1.101e-7


@pytest.fixture(scope="module")
def kuznetsov_fit() -> Calibration:
    data = _synthetic(
        "kuznetsov1994", np.arange(0.0, 61.0, 4.0), params=KUZ_TRUE, initial={"T": 1e7}, seed=1
    )
    return calibrate("kuznetsov1994", data, fit=["a", "n"], uncertainty="profile")


def test_kuznetsov_a_and_n_recovered_within_5_percent(kuznetsov_fit: Calibration) -> None:
    for name, true in KUZ_TRUE.items():
        assert kuznetsov_fit.estimates[name] == pytest.approx(true, rel=0.05), name


def test_kuznetsov_true_values_inside_profile_intervals(kuznetsov_fit: Calibration) -> None:
    for name, true in KUZ_TRUE.items():
        low, high = kuznetsov_fit.intervals[name]
        assert low < true < high, (name, low, high)
        assert low < kuznetsov_fit.estimates[name] < high
        assert kuznetsov_fit.identifiable[name]


def test_profile_interval_agrees_with_laplace_for_a_well_determined_parameter(
    kuznetsov_fit: Calibration,
) -> None:
    # a nearly quadratic profile: half-width ≈ 1.96 Laplace SE (within 30%)
    low, high = kuznetsov_fit.intervals["a"]
    half_width = (math.log10(high) - math.log10(low)) / 2
    assert half_width == pytest.approx(1.96 * kuznetsov_fit.standard_errors_log10["a"], rel=0.3)


def test_profile_points_rise_past_the_threshold(kuznetsov_fit: Calibration) -> None:
    prof = kuznetsov_fit.profiles
    assert prof is not None
    for name in KUZ_TRUE:
        rows = prof[prof["parameter"] == name]
        for side in ("low", "high"):
            assert rows.loc[rows["side"] == side, "delta_objective"].max() >= CHI2_1_95
        assert rows["delta_objective"].min() >= -1e-6  # the estimate is the profile minimum


def test_diagnostics_of_a_good_fit(kuznetsov_fit: Calibration) -> None:
    d = kuznetsov_fit.diagnostics
    assert d["converged"]
    assert d["n_data"] == 15  # 16 days; day 0 sets the initial tumor
    assert d["n_parameters"] == 2
    assert d["rmse_log10"] == pytest.approx(NOISE_LOG10, rel=0.5)
    assert d["r2"] > 0.95
    assert d["n_function_evaluations"] > d["n_simulate_calls"] > 0
    data = kuznetsov_fit.data
    assert (data["role"] == "initial").sum() == 1
    assert data.loc[data["role"] == "fit", "residual_log10"].abs().max() < 4 * NOISE_LOG10


def test_cartmath_r_and_gamma_recovered_under_a_car_t_regimen() -> None:
    regimen = "CAR-T 1e5 cells d14"  # tumor grows, is cut back by the CAR-T cells, relapses
    true = {"r": 0.08, "gamma": 5e-6}  # defaults r = 0.0565, gamma = 3.7e-6
    data = _synthetic(
        "cartmath2021", np.arange(0.0, 85.0, 7.0), params=true, regimen=regimen, seed=7
    )
    cal = calibrate("cartmath2021", data, fit=["r", "gamma"], regimen=regimen)
    for name, value in true.items():
        assert cal.estimates[name] == pytest.approx(value, rel=0.05), name
        low, high = cal.intervals[name]
        assert low < value < high, (name, low, high)
        assert cal.identifiable[name]
    # the calibrated patient reproduces the data through the regimen
    tr = cal.simulate(84.0, t_eval=data["day"].to_numpy())
    err = np.log10(tr.tumor[0, 1:]) - np.log10(data["cells"].to_numpy()[1:])
    assert np.max(np.abs(err)) < 4 * NOISE_LOG10


# --- identifiability and priors ------------------------------------------------------------


@pytest.fixture(scope="module")
def small_tumor() -> pd.DataFrame:
    # a 1e5-cell tumor over 30 days never nears the carrying capacity 1/b = 5e8 cells, so the
    # data say nothing about how small b is
    return _synthetic(
        "kuznetsov1994", np.arange(0.0, 31.0, 3.0), params={}, initial={"T": 1e5}, seed=3
    )


def test_parameter_the_data_cannot_inform_is_flagged(small_tumor: pd.DataFrame) -> None:
    cal = calibrate("kuznetsov1994", small_tumor, fit=["a", "b"], priors=False)
    assert cal.identifiable["a"]
    assert cal.estimates["a"] == pytest.approx(0.18, rel=0.05)
    assert not cal.identifiable["b"]
    low, high = cal.intervals["b"]
    assert low == 1e-13  # runs to the declared lower bound
    assert high < 1e-6  # while large b (a low carrying capacity) is excluded
    assert "NOT identifiable" in cal.summary()
    assert not cal.to_frame().loc["b", "identifiable"]


def test_priors_pull_an_unidentifiable_parameter_to_their_centre(
    small_tumor: pd.DataFrame,
) -> None:
    cal = calibrate(
        "kuznetsov1994",
        small_tumor,
        fit=["a", "b"],
        priors={"b": (1e-10, 0.3)},
        uncertainty="none",
    )
    assert cal.estimates["b"] == pytest.approx(1e-10, rel=0.05)  # the prior centre
    assert cal.estimates["a"] == pytest.approx(0.18, rel=0.05)  # the data still decide a
    assert cal.priors["b"] == (1e-10, 0.3)
    assert not cal.identifiable["b"]
    assert cal.standard_errors_log10["b"] == pytest.approx(0.3, rel=0.1)  # the prior's width
    assert math.isnan(cal.intervals["a"][0])  # uncertainty="none": no intervals


def test_without_priors_an_uninformed_parameter_has_infinite_laplace_se(
    small_tumor: pd.DataFrame,
) -> None:
    cal = calibrate("kuznetsov1994", small_tumor, fit=["a", "b"], priors=False, uncertainty="none")
    assert math.isinf(cal.standard_errors_log10["b"])
    assert math.isfinite(cal.standard_errors_log10["a"])
    assert cal.diagnostics["covariance_regularized"]
    assert not cal.identifiable["b"]
    assert cal.identifiable["a"]


# --- bootstrap and sampling ----------------------------------------------------------------


@pytest.fixture(scope="module")
def growth() -> pd.DataFrame:
    return _synthetic(
        "kuznetsov1994", np.arange(0.0, 41.0, 5.0), params={"a": 0.25}, initial={"T": 1e7}, seed=5
    )


def test_bootstrap_is_reproducible_with_the_same_seed(growth: pd.DataFrame) -> None:
    runs = [
        calibrate("kuznetsov1994", growth, fit="a", uncertainty="bootstrap", n_boot=20, seed=s)
        for s in (11, 11, 12)
    ]
    first, same, other = runs
    assert first.bootstrap is not None
    assert same.bootstrap is not None
    assert first.bootstrap.shape == (20, 3)  # replicate, a, objective
    pd.testing.assert_frame_equal(first.bootstrap, same.bootstrap)
    assert first.intervals == same.intervals
    assert other.intervals != first.intervals
    low, high = first.intervals["a"]
    assert low < 0.25 < high
    assert first.diagnostics["n_boot"] == 20


def test_sample_parameters_shape_bounds_and_spread(kuznetsov_fit: Calibration) -> None:
    samples = kuznetsov_fit.sample_parameters(500, seed=2)
    assert samples.shape == (500, 2)
    assert list(samples.columns) == ["a", "n"]
    for name in ("a", "n"):
        low, high = kuznetsov_fit.bounds[name]
        assert samples[name].between(low, high).all()
        spread = np.log10(samples[name]).std()
        assert spread == pytest.approx(kuznetsov_fit.standard_errors_log10[name], rel=0.15)
    again = kuznetsov_fit.sample_parameters(500, seed=2)
    pd.testing.assert_frame_equal(samples, again)
    wide = kuznetsov_fit.sample_parameters(3, seed=2, include_fixed=True)
    assert set(wide.columns) == set(kuznetsov_fit.model.parameter_names)


def test_samples_are_clipped_to_the_bounds(small_tumor: pd.DataFrame) -> None:
    # without priors b runs to its lower bound and its variance is the regularised 1 decade²,
    # so about half of the draws fall below the bound and are clipped onto it
    cal = calibrate("kuznetsov1994", small_tumor, fit=["a", "b"], priors=False, uncertainty="none")
    low, high = cal.bounds["b"]
    assert cal.estimates["b"] == pytest.approx(low)
    samples = cal.sample_parameters(2000, seed=0)
    assert samples["b"].between(low, high).all()
    assert 0.3 < (samples["b"] == low).mean() < 0.7
    assert (samples["a"] > 0).all()


def test_samples_run_as_a_batch_of_virtual_patients(kuznetsov_fit: Calibration) -> None:
    cloud = kuznetsov_fit.sample_parameters(20, seed=4, include_fixed=True)
    tr = simulate(
        "kuznetsov1994", t_end=60, params=cloud, initial=kuznetsov_fit.initial, t_eval=[0, 60]
    )
    assert tr.ok.all()
    assert tr.tumor.shape == (20, 2)


# --- reading data --------------------------------------------------------------------------


def _record(burden: list[dict[str, object]]) -> PatientRecord:
    return PatientRecord.model_validate(
        {
            "patient": {"id": "CAL-1"},
            "disease": {"diagnosis": "Colon adenocarcinoma (test)", "burden": burden},
        }
    )


def test_record_sum_of_diameters_is_read_as_spheres_from_the_first_date() -> None:
    record = _record(
        [
            {"date": "2026-03-26", "sum_of_diameters": "14 mm"},
            {"date": "2026-01-01", "sum_of_diameters": "10 mm"},  # any order
            {"date": "2026-01-29", "sum_of_diameters": "1.2 cm"},
            {"date": "2026-02-26", "spd": "169 mm²"},  # 13 mm
            {"date": "2026-02-12", "marrow_blasts": "5 %"},  # not convertible: left out
        ]
    )
    cal = calibrate("kuznetsov1994", record, fit=["a"], fixed={"b": 1e-11}, uncertainty="none")
    data = cal.data
    assert data["day"].tolist() == [0.0, 28.0, 56.0, 84.0]
    assert data["measure"].tolist() == [
        "sum_of_diameters",
        "sum_of_diameters",
        "spd",
        "sum_of_diameters",
    ]
    expected = [diameter_mm_to_cells(d) for d in (10.0, 12.0, 13.0, 14.0)]
    np.testing.assert_allclose(data["value"], expected, rtol=1e-12)
    assert data["date"].iloc[0] == dt.date(2026, 1, 1)
    assert cal.initial["T"] == pytest.approx(expected[0])  # the first measurement is the start
    assert cal.fixed["b"] == 1e-11
    assert cal.diagnostics["n_data"] == 3
    assert 0.001 <= cal.estimates["a"] <= 2.0


def test_record_start_date_drops_earlier_measurements() -> None:
    record = _record(
        [
            {"date": "2025-06-01", "sum_of_diameters": "30 mm"},  # before start_date: left out
            {"date": "2026-01-01", "cell_count": "4e8 cells"},
            {"date": "2026-01-15", "cell_count": "6e8 cells"},
        ]
    )
    cal = calibrate(
        "kuznetsov1994",
        record,
        fit="a",
        start_date=dt.date(2026, 1, 1),
        fixed={"b": 1e-11},
        priors=False,
        uncertainty="none",
    )
    assert cal.data["day"].tolist() == [0.0, 14.0]
    assert cal.data["measure"].tolist() == ["cell_count", "cell_count"]
    assert cal.initial["T"] == 4e8
    # one data point, one parameter, no prior: an exact fit; σ assumed rather than estimated
    assert cal.data["fitted"].iloc[1] == pytest.approx(6e8, rel=1e-3)
    assert not cal.diagnostics["sigma_estimated"]


def test_example_record_with_sums_of_diameters() -> None:
    record = read_patient(example_path("crc_msih.json"))  # 57 → 66 mm in 8 weeks
    # ~1e11 cells: effector inactivation m·T is fast, so the stiff integrator suits it
    cal = calibrate(
        "kuznetsov1994",
        record,
        fit="a",
        fixed={"b": 1e-12},
        uncertainty="none",
        method="rodas4",
    )
    assert cal.data["measure"].tolist() == ["sum_of_diameters", "sum_of_diameters"]
    # one point, one parameter: σ cannot be estimated, 0.1 decade is assumed, and the prior
    # (1 decade around a = 0.18/d) pulls the fit a little off the measurement
    assert cal.diagnostics["sigma_log10"] == 0.1
    residual = cal.data["residual_log10"].iloc[1]
    assert 0 < residual < 0.1
    assert cal.estimates["a"] < 0.18


def test_table_columns_diameter_and_zero_cells() -> None:
    table = {
        "day": [0, 10, 20, 30],
        "diameter_mm": [20.0, None, None, None],
        "cells": [None, 3e9, 1e9, 0.0],  # 0 cells: read as the one-cell floor
    }
    cal = calibrate("kuznetsov1994", table, fit="a", uncertainty="none")
    assert cal.data["measure"].tolist() == ["diameter_mm", "cells", "cells", "cells"]
    assert cal.data["value"].iloc[0] == pytest.approx(diameter_mm_to_cells(20.0))
    assert np.isfinite(cal.data["residual_log10"].iloc[1:]).all()


def test_effector_data_are_fitted_jointly() -> None:
    days = np.arange(0.0, 41.0, 5.0)
    true = {"a": 0.25, "s": 2.6e4}  # default s = 1.3e4 effectors/day
    tr = simulate("kuznetsov1994", t_end=40, t_eval=days, params=true, initial={"T": 1e7})
    tumor = pd.DataFrame({"day": days, "cells": tr.tumor[0]})
    effectors = pd.DataFrame({"day": days[1:], "state": "E", "value": tr.state("E")[0, 1:]})
    cal = calibrate(
        "kuznetsov1994", tumor, fit=["a", "s"], effector_data=effectors, uncertainty="none"
    )
    assert cal.estimates["a"] == pytest.approx(0.25, rel=0.01)
    assert cal.estimates["s"] == pytest.approx(2.6e4, rel=0.01)
    assert cal.diagnostics["n_data"] == 16
    assert set(cal.data["state"]) == {"T", "E"}


def test_initial_given_makes_every_measurement_a_residual() -> None:
    data = pd.DataFrame({"day": [5.0, 15.0, 25.0], "cells": [2e7, 5e7, 1e8]})
    cal = calibrate("kuznetsov1994", data, fit="a", initial={"T": 1e7}, uncertainty="none")
    assert cal.diagnostics["n_data"] == 3
    assert not cal.diagnostics["initial_from_data"]
    assert (cal.data["role"] == "fit").all()


# --- refusals ------------------------------------------------------------------------------


def test_refuses_fewer_data_points_than_parameters() -> None:
    data = pd.DataFrame({"day": [0, 14, 28], "cells": [1e7, 3e7, 6e7]})
    with pytest.raises(ValidationError) as err:
        calibrate("kuznetsov1994", data, fit=["a", "n", "m"])
    problem = err.value.problems[0]
    assert problem.field == "data"
    assert "2 data points" in problem.message
    assert "3 fitted parameters" in problem.message


def test_unknown_parameter_lists_the_models_parameters() -> None:
    data = pd.DataFrame({"day": [0, 14, 28], "cells": [1e7, 3e7, 6e7]})
    with pytest.raises(ModelError, match=r"no parameter 'growth'.*parameters: s, p, g, m, n, d"):
        calibrate("kuznetsov1994", data, fit=["growth"])
    with pytest.raises(ModelError, match="'zz'"):
        calibrate("kuznetsov1994", data, fit=["a"], priors={"zz": (1.0, 1.0)})


def test_refuses_a_start_below_the_detection_floor() -> None:
    # a day-0 burden of 0 cells (or a 0 mm lesion) starts the model eradicated: before, the fit
    # "converged" on the prior centre with σ̂ ≈ 11 decades
    data = pd.DataFrame({"day": [0, 14, 28], "cells": [0.0, 4e7, 1e8]})
    with pytest.raises(ValidationError) as err:
        calibrate("kuznetsov1994", data, fit="a", uncertainty="none")
    problem = err.value.problems[0]
    assert problem.field == "data"
    assert "T = 0 on day 0" in str(problem.value)
    assert "detection floor" in problem.message
    later = pd.DataFrame({"day": [14, 28], "cells": [4e7, 1e8]})
    with pytest.raises(ValidationError) as err:
        calibrate("kuznetsov1994", later, fit="a", initial={"T": 0.0}, uncertainty="none")
    assert err.value.problems[0].field == "initial['T']"


def test_refuses_a_first_measurement_after_day_0_without_initial() -> None:
    data = pd.DataFrame({"day": [3, 14, 28], "cells": [1e7, 3e7, 6e7]})
    with pytest.raises(ValidationError, match="day 3"):
        calibrate("kuznetsov1994", data, fit="a")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"uncertainty": "jackknife"}, "uncertainty"),
        ({"n_boot": 1}, "n_boot"),
        ({"priors": {"a": (-1.0, 1.0)}}, "priors['a']"),
        ({"fixed": {"a": 0.2}}, "fixed"),
        ({"floor": 0.0}, "floor"),
    ],
)
def test_bad_options_name_their_field(kwargs: dict[str, object], field: str) -> None:
    data = pd.DataFrame({"day": [0, 14, 28], "cells": [1e7, 3e7, 6e7]})
    with pytest.raises(ValidationError) as err:
        calibrate("kuznetsov1994", data, fit="a", **kwargs)  # type: ignore[arg-type]
    assert field in [p.field for p in err.value.problems]


def test_bad_table_values_name_row_and_column() -> None:
    with pytest.raises(ValidationError) as err:
        calibrate("kuznetsov1994", {"day": [0, 7, -1], "cells": [1e7, -5.0, 1e7]}, fit="a")
    fields = [p.field for p in err.value.problems]
    assert fields == ["data row 1 column cells", "data row 2 column day"]
    with pytest.raises(ValidationError, match="needs a column 'day'"):
        calibrate("kuznetsov1994", {"t": [0, 1], "cells": [1.0, 2.0]}, fit="a")


def test_record_without_convertible_burden_is_refused() -> None:
    record = read_patient(example_path("mm_post_asct.json"))  # M-protein only
    with pytest.raises(ValidationError, match=r"data\.disease\.burden"):
        calibrate("kuznetsov1994", record, fit="a")
