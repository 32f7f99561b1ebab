"""The batched integrator's guarantees, the simulate API's errors, schedule choice and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate._ivp.rk import RK45

import immunoprecise as ip
from immunoprecise.dynamics import integrator
from immunoprecise.dynamics.candidates import class_comparison
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


def test_simulated_regimens_carry_failed_simulations_into_the_report() -> None:
    record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    ev = ip.evaluate(record, simulate=True, seed=7)
    cmp = class_comparison(ev.simulations[0].therapy_class, n_virtual=30, seed=7)
    failed = dict(zip(cmp.table["regimen"], cmp.table["n_failed"], strict=True))
    first_class = [s for s in ev.simulations if s.therapy_class == ev.simulations[0].therapy_class]
    assert [s.n_failed for s in first_class] == [failed[s.regimen_label] for s in first_class]
    assert "simulations failed" not in render_html(ev, record)
    # a regimen where 3 of 30 virtual patients failed says so beside its shares
    broken = ev.simulations[0].model_copy(update={"n_failed": 3})
    shown = ev.model_copy(update={"simulations": (broken, *ev.simulations[1:])})
    html = render_html(shown, record)
    assert "3 of 30 simulations failed; shares and medians are over the other 27" in html


# --- Options refused with the option named (never a raw traceback) ------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"t_end": "10"}, "t_end must be a positive number of days, not '10'"),
        ({"t_end": None}, "t_end must be a positive number of days, not None"),
        ({"t_end": float("inf")}, "t_end must be a positive number of days, not inf"),
        ({"t_end": True}, "t_end must be a positive number of days, not True"),
        ({"rtol": 0.0}, "rtol must be a number between 0 and 1"),
        ({"rtol": -1e-6}, "rtol must be a number between 0 and 1"),
        ({"rtol": 1.5}, "rtol must be a number between 0 and 1"),
        ({"rtol": float("nan")}, "rtol must be a number between 0 and 1"),
        ({"rtol": "1e-6"}, "rtol must be a number between 0 and 1 .*not '1e-6'"),
        ({"atol": -1.0}, "atol must be a positive number"),
        ({"atol": 0.0}, "atol must be a positive number"),
        ({"atol": float("inf")}, "atol must be a positive number"),
        ({"body_weight_kg": 0.0}, "body_weight_kg must be a positive number of kilograms"),
        ({"body_weight_kg": -70.0}, "body_weight_kg must be a positive number of kilograms"),
        ({"body_weight_kg": float("nan")}, "body_weight_kg must be a positive number"),
        ({"body_weight_kg": "70"}, "body_weight_kg must be a positive number .*not '70'"),
        ({"t_eval": [[0.0, 1.0], [2.0, 3.0]]}, r"t_eval has shape \(2, 2\): must be a 1-D"),
        ({"t_eval": [0.0, float("nan")]}, r"t_eval\[1\] = nan: output times must be finite"),
        ({"t_eval": [0.0, float("inf")]}, r"t_eval\[1\] = inf: output times must be finite"),
        ({"t_eval": ["a", "b"]}, "t_eval .* must be a 1-D sequence of numbers"),
        ({"t_eval": [0.0, 11.0]}, r"t_eval\[1\] = 11: output times must lie within \[0, t_end\]"),
        ({"t_eval": [0.0, 5.0, 3.0]}, r"t_eval\[2\] = 3: output times must be strictly increasing"),
        ({"t_eval": []}, r"t_eval is empty: give at least one output time in days"),
        ({"regimen": "CAR-T 1e6 cells d30"}, r"its first dose is on day 30, after t_end = 10 days"),
        ({"thresholds": {"x": ("T",)}}, r"thresholds\['x'\] = \('T',\): must be \(state, value\)"),
        ({"thresholds": {"x": "T"}}, r"thresholds\['x'\] = 'T': must be \(state, value\)"),
        ({"thresholds": {"x": ("T", "many")}}, r"thresholds\['x'\]: the value 'many' must be a"),
        ({"thresholds": {"x": ("T", float("nan"))}}, r"thresholds\['x'\]: the value nan must be"),
        ({"thresholds": {"x": ("T", 1.0, "sideways")}}, "direction 'sideways' must be one of"),
        ({"thresholds": {"x": (3, 1.0)}}, "the state must be a state name, not 3"),
        ({"thresholds": {"x": ("Q", 1.0)}}, "no state 'Q'"),
        ({"thresholds": [("T", 1.0)]}, "thresholds = .*: must be a mapping of name"),
        ({"progress": 5}, "progress must be a function .* not 5"),
    ],
)
def test_simulate_refuses_malformed_options_naming_them(
    kwargs: dict[str, object], words: str
) -> None:
    args: dict[str, object] = {"t_end": 10}
    args.update(kwargs)
    with pytest.raises(ModelError, match=words):
        ip.simulate("kuznetsov1994", **args)  # type: ignore[arg-type]


def test_a_per_kg_dose_needs_a_positive_body_weight() -> None:
    # a body weight of 0 made the per-kg dose vanish silently (the tumor grew untreated)
    with pytest.raises(ModelError, match="body_weight_kg"):
        ip.simulate("depillis2006", t_end=5, regimen="chemo 1 mg/kg d0", body_weight_kg=0)
    dosed = ip.simulate("depillis2006", t_end=5, regimen="chemo 1 mg/kg d0", body_weight_kg=50)
    assert dosed.state("M")[0, 0] == pytest.approx(50.0 / 5.0)  # 50 mg into 5 L


# --- Threshold crossings made by a dose ---------------------------------------------------------


def test_a_bolus_that_jumps_across_a_threshold_crosses_it_on_the_dose_day() -> None:
    tr = ip.simulate(
        "stein2019",
        t_end=40,
        regimen="CAR-T 1e8 cells d10",
        thresholds={"E>1": ("E", 1.0), "E>1 up": ("E", 1.0, "up"), "E<1": ("E", 1.0, "down")},
    )
    assert tr.state("E")[0, 9] == 0.0  # nothing before the infusion
    assert tr.state("E")[0, 10] > 1.0  # the infusion itself lifts E above 1
    assert tr.crossing_days["E>1"][0] == 10.0
    assert tr.crossing_days["E>1 up"][0] == 10.0
    # a jump upwards is not a downward crossing; E stays above 1 to day 40
    assert np.isnan(tr.crossing_days["E<1"][0])


def test_a_bolus_on_the_last_day_and_a_reset_cross_thresholds_at_the_dose_time() -> None:
    # CAR-T in cartmath2021: the infused cells are the state itself
    late = ip.simulate(
        "cartmath2021",
        t_end=40,
        regimen="CAR-T 1e6 cells d40",
        thresholds={"CAR-T > 5e5": ("C_T", 5e5)},
    )
    assert late.crossing_days["CAR-T > 5e5"][0] == 40.0
    # stein2019: a second infusion resets the expansion clock tau (days since infusion) to 0
    reset = ip.simulate(
        "stein2019",
        t_end=30,
        regimen="CAR-T 1e8 cells d0,20",
        thresholds={"tau back below 5": ("tau", 5.0, "down"), "tau above 5": ("tau", 5.0, "up")},
    )
    assert reset.crossing_days["tau above 5"][0] == pytest.approx(5.0, abs=1e-6)
    assert reset.crossing_days["tau back below 5"][0] == 20.0


def test_an_earlier_crossing_is_kept_when_a_dose_crosses_again() -> None:
    tr = ip.simulate(
        "cartmath2021",
        t_end=60,
        regimen="CAR-T 1e6 cells d5,40",
        thresholds={"CAR-T > 5e5": ("C_T", 5e5, "up")},
    )
    assert tr.crossing_days["CAR-T > 5e5"][0] == 5.0


def test_direction_up_ignores_a_shrinking_state() -> None:
    # kuznetsov1994 from 3e9 cells shrinks towards its carrying capacity 1/b = 5e8
    tr = ip.simulate(
        "kuznetsov1994",
        t_end=60,
        initial={"T": 3e9},
        thresholds={"any": ("T", 1e9), "down": ("T", 1e9, "down"), "up": ("T", 1e9, "up")},
    )
    assert tr.tumor[0, -1] < 1e9
    assert 0 < tr.crossing_days["down"][0] < 60
    assert tr.crossing_days["any"][0] == tr.crossing_days["down"][0]
    assert np.isnan(tr.crossing_days["up"][0])


# --- compare_regimens: Kaplan–Meier median TTP, failures counted -------------------------------


def _exact_km_median(times: np.ndarray, events: np.ndarray) -> tuple[float, bool]:
    """The Kaplan–Meier median in exact fractions, and whether the estimate hits 1/2 exactly."""
    from fractions import Fraction

    survival, exact_half = Fraction(1), False
    for day in sorted(set(times[events].tolist())):
        at_risk = int(np.count_nonzero(times >= day))
        survival *= 1 - Fraction(int(np.count_nonzero(events & (times == day))), at_risk)
        exact_half |= survival == Fraction(1, 2)
        if survival <= Fraction(1, 2):
            return day, exact_half
    return float("nan"), exact_half


def test_kaplan_meier_median_equals_lifelines() -> None:
    from lifelines import KaplanMeierFitter

    from immunoprecise.dynamics.schedule import kaplan_meier_median

    rng = np.random.default_rng(11)
    compared = 0
    for trial in range(200):
        n = int(rng.integers(1, 40))
        times = rng.choice([56.0, 112.0, 168.0, 224.0], size=n)
        events = rng.random(n) < rng.uniform(0.1, 0.9)
        ours = kaplan_meier_median(times, events)
        exact, exact_half = _exact_km_median(times, events)
        assert ours == exact or (np.isnan(ours) and np.isnan(exact)), trial
        if exact_half:  # lifelines' float product may land a hair above 1/2 there
            continue
        fitted = KaplanMeierFitter().fit(times, events).median_survival_time_
        assert ours == fitted or (np.isnan(ours) and np.isinf(fitted)), trial
        compared += 1
    assert compared > 100


def test_median_ttp_is_not_reached_when_fewer_than_half_progress() -> None:
    from immunoprecise.dynamics.schedule import kaplan_meier_median

    cmp = compare_regimens(
        "cartmath2021", {"low dose": "CAR-T 1e5 cells d0"}, t_end=224, n_virtual=50, seed=1
    )
    table = cmp.table.set_index("regimen")
    low = cmp.trajectories["low dose"].response("recist")
    assert 0 < low.progressed.sum() < 25  # some progress, fewer than half
    assert table.loc["low dose", "progression_fraction"] == low.progressed.mean()
    assert pd.isna(table.loc["low dose", "ttp_median_days"])  # not reached
    # untreated, every patient progresses: the Kaplan–Meier median of the progression days
    untreated = cmp.trajectories["no treatment"].response("recist")
    assert untreated.progressed.all()
    ttp = untreated.time_to_progression_days
    assert table.loc["no treatment", "ttp_median_days"] == kaplan_meier_median(
        ttp, np.ones(ttp.size, dtype=bool)
    )


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the blowing-up patient
def test_compare_regimens_counts_failed_simulations_and_states_the_denominator() -> None:
    cloud = virtual_patients("cartmath2021", 8, seed=1)
    cloud.loc[3, "phi"] = 1e3  # absurd CAR-T proliferation: this patient's simulation blows up
    cmp = compare_regimens(
        "cartmath2021", {"d0": "CAR-T 1e6 cells d0"}, t_end=150, params=cloud, control=False
    )
    row = cmp.table.set_index("regimen").loc["d0"]
    tr = cmp.trajectories["d0"]
    assert tr.ok.tolist() == [True, True, True, False, True, True, True, True]
    assert row["n"] == 8
    assert row["n_failed"] == 1
    # every share is over the 7 patients whose simulation succeeded
    assert row["eradicated_fraction"] == pytest.approx(tr.eradicated[tr.ok].sum() / 7)
    assert row["response_rate"] is not None
    assert row["response_rate"] * 7 == pytest.approx(round(row["response_rate"] * 7))
    clean = compare_regimens(
        "cartmath2021", {"d0": "CAR-T 1e6 cells d0"}, t_end=150, n_virtual=8, seed=1
    ).table
    assert clean["n"].tolist() == [8, 8]
    assert clean["n_failed"].tolist() == [0, 0]


def test_compare_regimens_keeps_the_control_label_for_the_untreated_row() -> None:
    regimens = {"no treatment": "CAR-T 1e6 cells d0"}
    with pytest.raises(ModelError, match="'no treatment' is the untreated control row's"):
        compare_regimens("cartmath2021", regimens, t_end=60, n_virtual=3)
    own = compare_regimens("cartmath2021", regimens, t_end=60, n_virtual=3, control=False)
    assert own.table["regimen"].tolist() == ["no treatment"]
    assert own.trajectories["no treatment"].regimen is not None


@pytest.mark.parametrize("compare", ["compare_regimens", "search_timing"])
def test_compare_regimens_caps_the_virtual_patients_it_keeps_in_memory(compare: str) -> None:
    too_many = 10_001  # one above the documented maximum of 10,000

    def run() -> object:
        if compare == "compare_regimens":
            return compare_regimens("kuznetsov1994", {}, t_end=1, n_virtual=too_many)
        return search_timing(
            "cartmath2021", "CAR-T 1e6 cells d{day}", [0], t_end=1, n_virtual=too_many
        )

    with pytest.raises(ModelError) as caught:
        run()
    message = str(caught.value)
    assert "n_virtual = 10001" in message
    assert "at most 10,000" in message
    assert "virtual_trial" in message


def test_compare_regimens_takes_the_largest_allowed_cloud() -> None:
    from immunoprecise.dynamics.schedule import MAX_COMPARED_PATIENTS

    assert MAX_COMPARED_PATIENTS == 10_000
    cmp = compare_regimens("kuznetsov1994", {}, t_end=1, n_virtual=MAX_COMPARED_PATIENTS)
    assert cmp.table["n"].tolist() == [MAX_COMPARED_PATIENTS]


def test_a_blow_up_reaches_the_user_as_a_status_not_as_numpy_warnings() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would raise here
        tr = ip.simulate("kuznetsov1994", t_end=5, initial={"T": 1e300})
    assert tr.status.tolist() == [1]
    assert "gave NaN or infinite values" in tr.messages[0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n": 0}, "n must be a whole number ≥ 1, not 0"),
        ({"n": -1}, "n must be a whole number ≥ 1, not -1"),
        ({"n": 2.5}, "n must be a whole number ≥ 1, not 2.5"),
        ({"seed": -1}, "seed must be a whole number ≥ 0, not -1"),
        ({"cv": -1}, "cv must be a finite number ≥ 0"),
        ({"cv": float("nan")}, "cv must be a finite number ≥ 0"),
        ({"vary": ["nope"]}, "vary names 'nope', not a parameter of cartmath2021"),
        ({"vary": "phi"}, "vary must be a list of parameter names, not the text 'phi'"),
    ],
)
def test_virtual_patients_names_a_bad_option(options: dict[str, object], message: str) -> None:
    given: dict[str, object] = {"n": 3, "seed": 1, **options}
    with pytest.raises(ModelError) as caught:
        virtual_patients("cartmath2021", **given)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_compare_regimens_refuses_a_comparison_with_nothing_to_compare() -> None:
    with pytest.raises(ModelError, match="no regimen to compare"):
        compare_regimens("cartmath2021", {}, t_end=60, n_virtual=3, control=False)
    with pytest.raises(ModelError, match="params has no rows"):
        compare_regimens(
            "cartmath2021", {"a": "CAR-T 1e6 cells d0"}, t_end=60, params=pd.DataFrame()
        )
    with pytest.raises(ModelError, match=r"initial\['T'\] = 0: .* more than 0 cells"):
        compare_regimens(
            "cartmath2021", {"a": "CAR-T 1e6 cells d0"}, t_end=60, n_virtual=3, initial={"T": 0}
        )
