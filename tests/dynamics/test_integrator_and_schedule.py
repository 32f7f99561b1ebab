"""The batched integrator's guarantees, the simulate API's errors, schedule choice and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate._ivp.rk import RK45

import immunoprecise as ip
from immunoprecise.dynamics import integrator
from immunoprecise.dynamics.integrator import Crossing, Segment, integrate
from immunoprecise.dynamics.schedule import compare_regimens, search_timing, virtual_patients
from immunoprecise.errors import ModelError, UnitError, ValidationError
from immunoprecise.report import render_html


def test_dormand_prince_coefficients_are_scipys() -> None:
    assert np.allclose(integrator.DOPRI5_C, RK45.C)
    assert np.allclose(integrator.DOPRI5_A, RK45.A)
    assert np.allclose(integrator.DOPRI5_B, RK45.B)
    assert np.allclose(integrator.DOPRI5_E, RK45.E)
    assert np.allclose(integrator.DOPRI5_P, RK45.P)


def decay(t: np.ndarray, y: np.ndarray, p: dict[str, np.ndarray], u: np.ndarray) -> np.ndarray:
    return -p["k"][:, None] * y


@pytest.mark.parametrize("method", ["dopri5", "rodas4", "rosenbrock23"])
def test_eradication_and_threshold_times_are_located_exactly(method: str) -> None:
    k = np.array([0.5, 1.0, 2.0])
    res = integrate(
        decay,
        np.full((3, 1), 1e6),
        {"k": k},
        [Segment(0.0, 40.0, np.zeros(0))],
        np.array([0.0, 40.0]),
        rtol=1e-9,
        atol=1e-9,
        method=method,
        tumor_state=0,
        crossings=[Crossing("half", 0, 5e5, "down")],
    )
    assert np.allclose(res.eradication_time, np.log(1e6) / k, rtol=1e-5)
    assert np.allclose(res.crossing_times["half"], np.log(2) / k, rtol=1e-5)
    assert np.all(res.y[:, -1, 0] == 0.0)  # eradicated tumors stay at zero


def test_batch_gives_each_patient_its_own_solution() -> None:
    params = pd.DataFrame({"a": [0.1, 0.18, 0.3], "n": [1e-7, 1.1e-7, 2e-7]})
    batch = ip.simulate("kuznetsov1994", t_end=100, params=params)
    for i in range(3):
        alone = ip.simulate("kuznetsov1994", t_end=100, params=params.iloc[[i]])
        assert np.allclose(batch.y[i], alone.y[0], rtol=1e-12, atol=0)
    assert np.all(batch.settings["steps"] > 0)
    assert len(set(batch.settings["steps"].tolist())) > 1  # per-patient step control


def test_stiff_patients_switch_to_rodas4_automatically() -> None:
    tr = ip.simulate(
        "cartmath2021",
        t_end=15,
        parameter_set="RAJI_IDO",
        initial={"T": 3e6},
        regimen="CAR-T 1e7 cells d7",
    )
    assert tr.ok.all()
    assert tr.settings["methods_used"].tolist() == ["rodas4"]
    mild = ip.simulate("cartmath2021", t_end=100, regimen="CAR-T 1e6 cells d42")
    assert mild.settings["methods_used"].tolist() == ["dopri5"]


def test_a_blow_up_is_reported_per_patient_not_raised() -> None:
    def explode(
        t: np.ndarray, y: np.ndarray, p: dict[str, np.ndarray], u: np.ndarray
    ) -> np.ndarray:
        return p["c"][:, None] * y**2

    res = integrate(
        explode,
        np.ones((2, 1)),
        {"c": np.array([0.0, 1.0])},
        [Segment(0.0, 2.0, np.zeros(0))],
        np.array([0.0, 2.0]),
    )
    assert res.status.tolist() == [0, 1]
    assert "stopped at day" in res.messages[1]
    assert np.isnan(res.y[1, -1, 0])
    assert res.y[0, -1, 0] == pytest.approx(1.0)


def test_to_frame_is_long_with_patient_ids_from_the_table() -> None:
    params = pd.DataFrame({"patient": ["A", "B"], "a": [0.1, 0.2]})
    frame = ip.simulate("kuznetsov1994", t_end=3, params=params).to_frame()
    assert frame.columns.tolist() == ["patient", "t", "E", "T"]
    assert frame["patient"].tolist() == ["A"] * 4 + ["B"] * 4
    assert frame["t"].tolist()[:4] == [0.0, 1.0, 2.0, 3.0]


def test_dose_at_an_output_time_shows_after_the_dose() -> None:
    tr = ip.simulate(
        "cartmath2021", t_end=50, t_eval=[41.0, 42.0, 43.0], regimen="CAR-T 1e6 cells d42"
    )
    assert tr.state("C_T")[0, 0] == 0.0
    assert tr.state("C_T")[0, 1] == pytest.approx(1e6)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"model": "nope"}, ModelError, "known models"),
        ({"params": {"zz": 1.0}}, ModelError, "no parameter 'zz'"),
        ({"initial": {"Q": 1.0}}, ModelError, "no state 'Q'"),
        ({"initial": {"T": -5.0}}, ModelError, "≥ 0"),
        ({"regimen": "aspirin 1 mg d0"}, ModelError, "cannot take agent 'aspirin'"),
        (
            {"regimen": "anti-PD-1 1e6 cells d0", "model": "kuznetsov1994+checkpoint"},
            UnitError,
            "takes mg",
        ),
        ({"regimen": "anti-PD-1 200 mgg d0"}, ValidationError, "mgg"),
        ({"t_end": -1}, ModelError, "positive number of days"),
        (
            {"params": {"a": [0.1, 0.2]}, "initial": {"T": [1.0, 2.0, 3.0]}},
            ModelError,
            "give one row per patient",
        ),
    ],
)
def test_simulate_errors_name_what_is_wrong(
    kwargs: dict[str, object], error: type, words: str
) -> None:
    args: dict[str, object] = {"model": "kuznetsov1994", "t_end": 10}
    args.update(kwargs)
    model = args.pop("model")
    with pytest.raises(error, match=words):
        ip.simulate(model, **args)  # type: ignore[arg-type]


def test_virtual_patients_are_seeded_and_centred() -> None:
    a = virtual_patients("kuznetsov1994", 20, seed=3)
    b = virtual_patients("kuznetsov1994", 20, seed=3)
    c = virtual_patients("kuznetsov1994", 20, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert a.iloc[0]["a"] == 0.18  # the first virtual patient is the published one


def test_compare_regimens_ranks_treatment_above_no_treatment() -> None:
    cmp = compare_regimens(
        "kuznetsov1994+checkpoint",
        {"ICI": "anti-PD-1 200 mg q21d x8"},
        t_end=240,
        initial={"T": 3e8},
        n_virtual=12,
        seed=2,
    )
    table = cmp.table.set_index("regimen")
    assert (
        table.loc["ICI", "tumor_change_percent"] < table.loc["no treatment", "tumor_change_percent"]
    )
    assert table.loc["ICI", "tumor_change_p5"] <= table.loc["ICI", "tumor_change_percent"]
    assert table.loc["ICI", "tumor_change_percent"] <= table.loc["ICI", "tumor_change_p95"]
    assert set(cmp.trajectories) == {"no treatment", "ICI"}


def test_timing_search_finds_an_earlier_car_t_better_for_a_growing_tumor() -> None:
    search = search_timing(
        "cartmath2021",
        "CAR-T 1e6 cells d{day}",
        [0, 30, 90],
        t_end=200,
        objective="eradicated_fraction",
        n_virtual=10,
        seed=5,
    )
    table = search.comparison.table
    assert search.best_day == 0.0
    assert table["eradicated_fraction"].iloc[0] >= table["eradicated_fraction"].iloc[-1]
    with pytest.raises(ModelError, match="placeholder"):
        search_timing("cartmath2021", "CAR-T 1e6 cells d0", [0], t_end=10)


def test_example_report_shows_simulated_candidate_regimens() -> None:
    record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    ev = ip.evaluate(record, simulate=True, seed=7)
    assert {s.model for s in ev.simulations} >= {"cartmath2021"}
    assert all(s.seed == 7 for s in ev.simulations)
    html = render_html(ev, record)
    assert "Simulated candidate regimens" in html
    assert "not calibrated to this" in html
    assert 'id="svg-regimens-0' in html
    plain = ip.evaluate(record)
    assert plain.simulations == ()
