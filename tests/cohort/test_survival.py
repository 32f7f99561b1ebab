"""Kaplan–Meier, log-rank (incl. trend) and Cox against lifelines and direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi, load_waltons
from lifelines.statistics import logrank_test, multivariate_logrank_test

import immunoprecise as ip
from immunoprecise.cohort import cohort_frame, cox_model, kaplan_meier, log_rank, survival_data
from immunoprecise.errors import CohortError


def _waltons() -> pd.DataFrame:
    w = load_waltons()
    return pd.DataFrame({"os_days": w["T"], "os_event": w["E"], "arm": w["group"]})


def test_cohort_frame_converts_months_to_days_and_keeps_profile_values() -> None:
    raw = pd.read_csv(ip.data.example_path("fl_cohort.csv")).set_index("patient_id")
    frame = cohort_frame(ip.data.example_path("fl_cohort.csv"))
    assert frame.shape[0] == len(raw) == 200
    np.testing.assert_allclose(frame["os_days"], raw["os_months"] * 30.4375)
    np.testing.assert_array_equal(frame["pfs_event"], raw["pfs_event"])
    assert (frame["risk.flipi"] == raw["risk_flipi_score"]).all()
    ratio = (
        raw["ihc_cd8_interfollicular_cells_per_mm2"]
        / raw["ihc_foxp3_interfollicular_cells_per_mm2"]
    )
    np.testing.assert_allclose(frame["cd8_foxp3_ratio.interfollicular"], ratio, rtol=1e-3)


@pytest.mark.parametrize(
    ("times", "events", "message"),
    [
        ([10.0, -1.0], [1, 0], "p2: os_days = -1.0 .* expected days ≥ 0"),
        ([10.0, 20.0], [1, 2], r"p2: os_event = 2.0 is not an event flag"),
        ([np.nan, np.nan], [1, 0], "no patient has both"),
    ],
)
def test_survival_data_names_the_bad_value(
    times: list[float], events: list[int], message: str
) -> None:
    frame = pd.DataFrame({"os_days": times, "os_event": events}, index=["p1", "p2"])
    with pytest.raises(CohortError, match=message):
        survival_data(frame, "os")


def test_survival_data_lists_excluded_patients_and_unknown_columns() -> None:
    frame = pd.DataFrame(
        {"os_days": [10.0, 20.0, 30.0], "os_event": [1, 0, 1], "x": [1.0, None, 2.0]},
        index=["a", "b", "c"],
    )
    data = survival_data(frame, "os", require=["x"])
    assert data.excluded == ("b",)
    assert list(data.index) == ["a", "c"]
    with pytest.raises(CohortError, match="no column 'pfs_days'"):
        survival_data(frame, "pfs")
    with pytest.raises(CohortError, match="endpoint 'dfs'"):
        survival_data(frame, "dfs")


def test_kaplan_meier_equals_lifelines_with_numbers_at_risk() -> None:
    frame = _waltons()
    km = kaplan_meier(frame, group="arm", at_risk_times=[0, 20, 40, 60])
    for curve in km.curves:
        part = frame[frame["arm"] == curve.label]
        ref = KaplanMeierFitter().fit(part["os_days"], part["os_event"])
        np.testing.assert_allclose(curve.survival, ref.survival_function_.iloc[:, 0])
        np.testing.assert_allclose(curve.ci_low, ref.confidence_interval_.iloc[:, 0])
        assert curve.median.estimate == pytest.approx(ref.median_survival_time_)
        assert curve.at_risk == tuple(int((part["os_days"] >= t).sum()) for t in (0, 20, 40, 60))
        assert curve.n == len(part)
        assert curve.events == int(part["os_event"].sum())
    ref_test = logrank_test(
        frame.loc[frame.arm == "control", "os_days"],
        frame.loc[frame.arm == "miR-137", "os_days"],
        frame.loc[frame.arm == "control", "os_event"],
        frame.loc[frame.arm == "miR-137", "os_event"],
    )
    assert km.log_rank is not None
    assert km.log_rank.estimate == pytest.approx(ref_test.test_statistic)
    assert km.log_rank.p_value == pytest.approx(ref_test.p_value)


def test_survival_at_reads_the_step_function() -> None:
    frame = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
    curve = kaplan_meier(frame).curves[0]
    assert curve.survival_at(9.9).estimate == 1.0
    assert curve.survival_at(10).estimate == pytest.approx(0.75)
    assert curve.survival_at(30).estimate == pytest.approx(0.375)
    with pytest.raises(CohortError, match="days ≥ 0"):
        curve.survival_at(-1)


def test_k_sample_log_rank_equals_lifelines_on_the_example_cohort() -> None:
    frame = cohort_frame(ip.data.example_path("fl_cohort.csv"))
    ours = log_rank(frame, group="risk.flipi:category", endpoint="pfs")
    ref = multivariate_logrank_test(
        frame["pfs_days"], frame["risk.flipi:category"], frame["pfs_event"]
    )
    assert ours.estimate == pytest.approx(ref.test_statistic)
    assert ours.df == 2
    assert ours.p_value == pytest.approx(ref.p_value)


def _trend_by_loops(
    time: np.ndarray, event: np.ndarray, group: np.ndarray, w: dict[str, float]
) -> float:
    """The trend statistic written the textbook way, one event time at a time."""
    u = 0.0
    var = 0.0
    levels = list(w)
    for t in np.unique(time[event == 1]):
        at_risk = {g: int(((time >= t) & (group == g)).sum()) for g in levels}
        died = {g: int(((time == t) & (event == 1) & (group == g)).sum()) for g in levels}
        n = sum(at_risk.values())
        d = sum(died.values())
        u += sum(w[g] * (died[g] - d * at_risk[g] / n) for g in levels)
        if n > 1:
            mean_w = sum(w[g] * at_risk[g] for g in levels) / n
            mean_w2 = sum(w[g] ** 2 * at_risk[g] for g in levels) / n
            var += d * (n - d) / (n - 1) * (mean_w2 - mean_w**2)
    return u * u / var


def test_trend_test_equals_direct_computation_and_two_group_log_rank() -> None:
    rng = np.random.default_rng(3)
    n = 150
    group = rng.choice(["low", "mid", "high"], n)
    hazard = np.select([group == "low", group == "mid"], [0.01, 0.015], 0.025)
    time = np.round(rng.exponential(1 / hazard), 0) + 1
    event = (rng.random(n) < 0.8).astype(int)
    frame = pd.DataFrame({"os_days": time, "os_event": event, "g": group})
    order = ["low", "mid", "high"]
    ours = log_rank(frame, group="g", trend=True, order=order)
    assert ours.estimate == pytest.approx(
        _trend_by_loops(time, event, group, {"low": 1, "mid": 2, "high": 3}), rel=1e-10
    )
    assert ours.p_value is not None
    assert ours.p_value < 0.01
    two = frame[frame.g != "mid"]
    assert log_rank(two, group="g", trend=True, order=["low", "high"]).estimate == pytest.approx(
        log_rank(two, group="g").estimate, rel=1e-10
    )
    with pytest.raises(CohortError, match="give their order"):
        log_rank(frame, group="g", trend=True)
    with pytest.raises(CohortError, match="leaves out the levels"):
        log_rank(frame, group="g", trend=True, order=["low", "high"])


@pytest.mark.parametrize(
    ("order", "message"),
    [
        # scored anyway, the unknown name made the scores low=1, mid=3, high=4
        (["low", "Mid", "mid", "high"], r"names \['Mid'\], not a level .*did you mean 'mid'\?"),
        (["low", "medium", "mid", "high"], r"names \['medium'\], not a level of column 'g'"),
    ],
)
def test_trend_order_with_a_name_that_is_not_a_level_is_refused(
    order: list[str], message: str
) -> None:
    frame = pd.DataFrame(
        {
            "os_days": [10.0, 20, 30, 40, 50, 60],
            "os_event": [1, 1, 0, 1, 0, 1],
            "g": ["low", "mid", "high", "low", "mid", "high"],
        }
    )
    with pytest.raises(CohortError, match=message):
        log_rank(frame, group="g", trend=True, order=order)


def test_cox_model_equals_lifelines_and_flags_non_proportional_hazards() -> None:
    rossi = load_rossi()
    frame = rossi.rename(columns={"week": "os_days", "arrest": "os_event"})
    covs = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    model = cox_model(frame, covs)
    ref = CoxPHFitter().fit(rossi, "week", "arrest")
    for name in covs:
        assert model.hazard_ratios[name].estimate == pytest.approx(
            ref.hazard_ratios_[name], rel=1e-6
        )
    assert model.concordance == pytest.approx(ref.concordance_index_)
    # lifelines' documentation of check_assumptions on this data: age and wexp fail
    assert {"age", "wexp"} <= set(model.ph_violated)
    assert "fin" not in model.ph_violated
    assert model.n == len(rossi)
    assert model.events == int(rossi["arrest"].sum())


def test_cox_model_codes_categories_against_the_reference_level() -> None:
    path = ip.data.example_path("fl_cohort.csv")
    model = cox_model(
        path, ["risk.flipi:category"], reference_levels={"risk.flipi:category": "low"}
    )
    frame = cohort_frame(path)
    design = pd.DataFrame(
        {
            "high": (frame["risk.flipi:category"] == "high").astype(float),
            "intermediate": (frame["risk.flipi:category"] == "intermediate").astype(float),
            "T": frame["os_days"],
            "E": frame["os_event"],
        }
    )
    ref = CoxPHFitter().fit(design, "T", "E")
    assert model.hazard_ratios["risk.flipi:category=high"].estimate == pytest.approx(
        ref.hazard_ratios_["high"], rel=1e-6
    )
    assert model.reference_levels == {"risk.flipi:category": "low"}
    with pytest.raises(CohortError, match="reference level 'poor'"):
        cox_model(path, ["risk.flipi:category"], reference_levels={"risk.flipi:category": "poor"})


def test_cox_model_explains_separation() -> None:
    frame = pd.DataFrame(
        {
            "os_days": np.arange(1.0, 21.0),
            "os_event": [1] * 10 + [0] * 10,
            "x": [1.0] * 10 + [0.0] * 10,
        }
    )
    with pytest.raises(CohortError, match="did not converge"):
        cox_model(frame, ["x"])


def test_a_patient_with_two_rows_is_refused_by_every_analysis() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "c", "d", "e"],
            "best_response": ["CR", "PD", "PR", "SD", "PD", "CR"],
            "arm": list("AABBBA"),
            "os_days": [10.0, 20, 30, 40, 50, 60],
            "os_event": [1, 0, 1, 1, 0, 1],
            "x": [1.0, 2, 3, 4, 5, 6],
        }
    )
    message = "patient a has more than one row"
    with pytest.raises(CohortError, match=message):
        ip.cohort.response_table(frame, by="arm")
    with pytest.raises(CohortError, match=message):
        kaplan_meier(frame, group="arm")
    with pytest.raises(CohortError, match=message):
        cox_model(frame, ["x"])
    with pytest.raises(CohortError, match=message):
        cohort_frame(frame.set_index("patient_id"))


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("os_days", "50d", r"patient e: os_days = '50d' is not a number; expected a survival time"),
        ("os_event", "yes", r"patient e: os_event = 'yes' is not a number; expected an event flag"),
    ],
)
def test_text_in_a_time_or_event_column_is_refused_not_left_out(
    column: str, value: str, message: str
) -> None:
    frame = pd.DataFrame(
        {"os_days": [10.0, 20, 30, 40, 50], "os_event": [1, 0, 1, 1, 0]},
        index=pd.Index(list("abcde"), name="patient_id"),
    ).astype(object)
    frame.loc["e", column] = value
    with pytest.raises(CohortError, match=message):
        kaplan_meier(frame)
    frame.loc["e", column] = None  # missing is still left out, and listed
    assert kaplan_meier(frame).excluded == ("e",)


def test_survival_is_not_carried_past_a_groups_last_follow_up() -> None:
    frame = pd.DataFrame(
        {
            "os_days": [30.0, 60, 90, 120, 200, 400, 1900, 2000, 2100, 2200],
            "os_event": [1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
            "g": ["a"] * 6 + ["b"] * 4,
        }
    )
    a, b = kaplan_meier(frame, group="g").curves
    inside = a.survival_at(400)
    assert inside.estimate == pytest.approx(a.survival[-1])
    assert inside.ci_low is not None
    late = a.survival_at(1826.25)
    assert np.isnan(late.estimate)
    assert (late.ci_low, late.ci_high) == (None, None)
    assert late.method.endswith("not estimable: follow-up ends at day 400")
    assert b.survival_at(1826.25).estimate == 1.0
    # a curve that has reached 0 stays at 0 after its last time
    ended = kaplan_meier(pd.DataFrame({"os_days": [5.0, 8.0], "os_event": [1, 1]})).curves[0]
    assert ended.survival_at(100).estimate == 0.0


def test_cox_model_refuses_options_out_of_range_and_mixed_columns() -> None:
    rossi = load_rossi().rename(columns={"week": "os_days", "arrest": "os_event"})
    with pytest.raises(CohortError, match=r"ph_alpha = 5 is out of range"):
        cox_model(rossi, ["age"], ph_alpha=5)
    with pytest.raises(CohortError, match=r"penalizer = -0.1 is out of range"):
        cox_model(rossi, ["age"], penalizer=-0.1)
    one = cox_model(rossi, "age")  # one name is a list of one, not its letters
    assert list(one.hazard_ratios) == ["age"]
    mixed = rossi.astype({"prio": object})
    mixed.iloc[3, mixed.columns.get_loc("prio")] = "1-2"
    with pytest.raises(CohortError, match=r"'prio' mixes numbers and text: patient 3 has '1-2'"):
        cox_model(mixed, ["prio"])
    # named in reference_levels, a column of numbers and text is coded as levels on purpose
    mixed["prio"] = rossi["prio"].map(lambda v: v if v < 2 else "2+").astype(object)
    levels = cox_model(mixed, ["prio"], reference_levels={"prio": 0})
    assert levels.reference_levels == {"prio": "0"}
    assert set(levels.hazard_ratios) == {"prio=1", "prio=2+"}


def test_groups_without_any_event_get_curves_and_a_note_instead_of_an_error() -> None:
    frame = pd.DataFrame(
        {"os_days": [30.0, 60, 90, 45, 75], "os_event": [0, 0, 0, 0, 0], "arm": list("aabbb")}
    )
    km = kaplan_meier(frame, group="arm")
    assert [c.label for c in km.curves] == ["a", "b"]
    assert [c.n for c in km.curves] == [2, 3]
    assert all(c.events == 0 and set(c.survival) == {1.0} for c in km.curves)
    assert km.log_rank is None
    assert km.notes == (
        "no os event was observed: every patient is censored, so the curves stay at 1 and the "
        "log-rank test is undefined",
    )
    # asked for explicitly, the test itself is still refused with the reason
    with pytest.raises(CohortError, match="no os event was observed; the log-rank test"):
        log_rank(frame, group="arm")
    # with events there is no note
    assert kaplan_meier(_waltons(), group="arm").notes == ()
