"""Tumor response criteria (RECIST 1.1, iRECIST, Lugano 2014) — hand-computed series."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.response import (
    ResponseAssessment,
    assess_response,
    cells_to_diameter_mm,
    diameter_mm_to_cells,
    irecist_response,
    lugano_response,
    recist_response,
)
from immunoprecise.errors import ValidationError

WEEKS_8 = [0, 56, 112, 168, 224, 280]


def _cats(result: ResponseAssessment) -> list[str]:
    """Time-point categories of the only patient."""
    assert result.n_patients == 1
    return [str(c) for c in result.categories[0]]


def _fields(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p.field for p in excinfo.value.problems]


# --- Sphere geometry -------------------------------------------------------------------------


def test_one_billion_cells_is_a_12_4_mm_sphere() -> None:
    # 1e9 cells at 1e9 cells/cm³ = 1 cm³; d = (6/π)^(1/3) cm = 1.2407 cm
    assert cells_to_diameter_mm(1e9) == pytest.approx(12.407, abs=5e-4)
    assert cells_to_diameter_mm(1e9) == pytest.approx(10 * (6 / math.pi) ** (1 / 3), rel=1e-12)
    assert isinstance(cells_to_diameter_mm(1e9), float)


def test_density_option() -> None:
    # 1e9 cells at 1e8 cells/cm³ = 10 cm³
    expected = 10 * (60 / math.pi) ** (1 / 3)
    assert cells_to_diameter_mm(1e9, cells_per_cm3=1e8) == pytest.approx(expected)
    assert diameter_mm_to_cells(expected, cells_per_cm3=1e8) == pytest.approx(1e9)


def test_sphere_round_trip_keeps_shape() -> None:
    cells = np.array([[0.0, 1.0, 1e6], [1e9, 3.3e10, 1e12]])
    diameter = cells_to_diameter_mm(cells)
    assert diameter.shape == (2, 3)
    assert diameter[0, 0] == 0.0
    np.testing.assert_allclose(diameter_mm_to_cells(diameter), cells, rtol=1e-12)
    assert diameter_mm_to_cells(20.0) == pytest.approx(math.pi / 6 * 8 * 1e9)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: cells_to_diameter_mm([1.0, -1.0]), "cells[1]"),
        (lambda: cells_to_diameter_mm(float("nan")), "cells"),
        (lambda: cells_to_diameter_mm(1e9, cells_per_cm3=0.0), "cells_per_cm3"),
        (lambda: diameter_mm_to_cells([[1.0, -2.0]]), "diameter_mm[0, 1]"),
        (lambda: cells_to_diameter_mm("many"), "cells"),
    ],
)
def test_sphere_errors_name_the_field(call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        call()
    assert _fields(excinfo) == [field]


# --- RECIST 1.1 ------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline", [10.0, 19.1, 33.3, 35.7, 50.0, 123.4])
def test_minus_30_percent_exactly_is_pr(baseline: float) -> None:
    assert _cats(recist_response([0, 56], [baseline, baseline * 0.7])) == ["BL", "PR"]


def test_minus_29_9_percent_is_sd() -> None:
    assert _cats(recist_response([0, 56], [100.0, 70.1])) == ["BL", "SD"]


@pytest.mark.parametrize(
    ("sums", "last"),
    [
        ([20.0, 25.0], "PD"),  # +25 %, +5 mm
        ([25.0, 30.0], "PD"),  # +20 % exactly, +5 mm exactly
        ([26.0, 26.0 * 1.2], "PD"),  # +20 % (+19.999999999999996 % in floating point)
        ([20.0, 24.0], "SD"),  # +20 % but only +4 mm
        ([50.0, 59.95], "SD"),  # +9.95 mm but only +19.9 %
    ],
)
def test_progression_needs_20_percent_and_5_mm(sums: list[float], last: str) -> None:
    assert _cats(recist_response([0, 56], sums))[-1] == last


def test_progression_is_measured_from_the_nadir_after_a_response() -> None:
    # nadir 25 mm at day 56; 30 mm is still −40 % from baseline but +20 % / +5 mm from nadir
    result = recist_response([0, 56, 112], [50.0, 25.0, 30.0])
    assert _cats(result) == ["BL", "PR", "PD"]
    assert result.best_response.tolist() == ["PR"]
    assert result.time_to_progression_days.tolist() == [112.0]
    assert result.progressed.tolist() == [True]
    # 29 mm is +16 % from the nadir: not progression
    assert _cats(recist_response([0, 56, 112], [50.0, 25.0, 29.0])) == ["BL", "PR", "PR"]


def test_complete_response_and_threshold() -> None:
    assert _cats(recist_response([0, 56], [40.0, 0.0])) == ["BL", "CR"]
    assert _cats(recist_response([0, 56], [40.0, 3.0])) == ["BL", "PR"]
    assert _cats(recist_response([0, 56], [40.0, 3.0], cr_threshold_mm=5.0)) == ["BL", "CR"]
    assert _cats(recist_response([0, 56], [40.0, 5.0], cr_threshold_mm=5.0)) == ["BL", "PR"]


def test_regrowth_after_cr_is_pd_from_5_mm() -> None:
    result = recist_response([0, 56, 112, 168], [40.0, 0.0, 4.0, 5.0])
    assert _cats(result) == ["BL", "CR", "PR", "PD"]
    assert result.best_response.tolist() == ["CR"]
    assert result.time_to_progression_days.tolist() == [168.0]


def test_no_progression_is_censored_as_nan() -> None:
    result = recist_response(WEEKS_8[:3], [50.0, 45.0, 48.0])
    assert result.best_response.tolist() == ["SD"]
    assert result.progressed.tolist() == [False]
    assert math.isnan(result.time_to_progression_days[0])
    assert result.best_change_percent.tolist() == [-10.0]


def test_best_change_stops_at_first_progression() -> None:
    result = recist_response(WEEKS_8[:3], [50.0, 60.0, 20.0])
    assert _cats(result) == ["BL", "PD", "PR"]  # every assessment is classified …
    assert result.best_response.tolist() == ["PD"]  # … but the best response stops at PD
    assert result.best_change_percent.tolist() == [20.0]


def test_confirmation_of_partial_response() -> None:
    times = [0, 28, 56]
    confirmed = recist_response(times, [50.0, 30.0, 32.0], confirm_days=28)
    assert confirmed.best_response.tolist() == ["PR"]
    # the PR at day 28 is not repeated: SD (documented at day 56 ≥ 42)
    # 35.5 mm: −29 % from baseline, +18 % from the nadir
    unconfirmed = recist_response(times, [50.0, 30.0, 35.5], confirm_days=28)
    assert _cats(unconfirmed) == ["BL", "PR", "SD"]
    assert unconfirmed.best_response.tolist() == ["SD"]
    assert recist_response(times, [50.0, 30.0, 35.5]).best_response.tolist() == ["PR"]
    # repeat too early (27 days later)
    early = recist_response([0, 28, 55], [50.0, 30.0, 30.0], confirm_days=28)
    assert early.best_response.tolist() == ["SD"]


def test_unconfirmed_pr_then_pd_before_sd_minimum_is_pd() -> None:
    result = recist_response([0, 28, 35], [50.0, 30.0, 40.0], confirm_days=28)
    assert _cats(result) == ["BL", "PR", "PD"]
    assert result.best_response.tolist() == ["PD"]


def test_confirmation_of_complete_response() -> None:
    result = recist_response([0, 28, 56], [50.0, 0.0, 0.0], confirm_days=28)
    assert result.best_response.tolist() == ["CR"]
    # CR not repeated, but CR then PR spans 28 days: confirmed PR
    result = recist_response([0, 28, 56], [50.0, 0.0, 4.0], confirm_days=28)
    assert result.best_response.tolist() == ["PR"]


def test_sd_minimum_duration() -> None:
    assert recist_response([0, 28], [50.0, 48.0]).best_response.tolist() == ["NE"]
    assert recist_response([0, 42], [50.0, 48.0]).best_response.tolist() == ["SD"]
    assert recist_response([0, 28], [50.0, 48.0], sd_min_days=28).best_response.tolist() == ["SD"]
    # SD too early, then progression: PD
    assert recist_response([0, 28, 56], [50.0, 48.0, 60.0]).best_response.tolist() == ["PD"]
    # baseline only: nothing to evaluate
    assert recist_response([0], [50.0]).best_response.tolist() == ["NE"]
    assert np.isnan(recist_response([0], [50.0]).best_change_percent[0])


# --- iRECIST ---------------------------------------------------------------------------------


def test_iupd_confirmed_as_icpd() -> None:
    result = irecist_response(WEEKS_8[:3], [40.0, 50.0, 56.0])
    assert _cats(result) == ["BL", "iUPD", "iCPD"]
    assert result.best_response.tolist() == ["iCPD"]
    assert result.progressed.tolist() == [True]
    assert result.time_to_progression_days.tolist() == [56.0]  # the date of the iUPD


def test_iupd_needs_a_further_5_mm() -> None:
    result = irecist_response(WEEKS_8[:3], [40.0, 50.0, 54.0])
    assert _cats(result) == ["BL", "iUPD", "iUPD"]
    assert result.best_response.tolist() == ["iUPD"]
    assert result.progressed.tolist() == [False]
    assert math.isnan(result.time_to_progression_days[0])


def test_iupd_cannot_be_confirmed_sooner_than_4_weeks() -> None:
    result = irecist_response([0, 56, 70, 112], [40.0, 50.0, 60.0, 60.0])
    assert _cats(result) == ["BL", "iUPD", "iUPD", "iCPD"]
    assert result.time_to_progression_days.tolist() == [56.0]
    relaxed = irecist_response([0, 56, 70], [40.0, 50.0, 60.0], progression_confirm_days=14)
    assert _cats(relaxed) == ["BL", "iUPD", "iCPD"]


def test_pseudo_progression_resets_the_confirmation() -> None:
    # RECIST: PD at day 56, the end; iRECIST: iUPD, then iPR
    sums = [40.0, 50.0, 26.0]
    assert recist_response(WEEKS_8[:3], sums).best_response.tolist() == ["PD"]
    result = irecist_response(WEEKS_8[:3], sums)
    assert _cats(result) == ["BL", "iUPD", "iPR"]
    assert result.best_response.tolist() == ["iPR"]
    assert result.progressed.tolist() == [False]
    # after a reset (iSD at day 112), 56 mm is a new iUPD, not a confirmation of the first
    reset = irecist_response(WEEKS_8[:4], [40.0, 50.0, 38.0, 56.0])
    assert _cats(recist_response(WEEKS_8[:4], [40.0, 50.0, 38.0, 56.0])) == [
        "BL",
        "PD",
        "SD",
        "PD",
    ]
    assert _cats(reset) == ["BL", "iUPD", "iSD", "iUPD"]
    assert reset.best_response.tolist() == ["iSD"]
    # the new episode is confirmed against its own iUPD sum (40 → 47 mm), dated day 168
    again = irecist_response(WEEKS_8[:5], [40.0, 50.0, 26.0, 40.0, 47.0])
    assert _cats(again) == ["BL", "iUPD", "iPR", "iUPD", "iCPD"]
    assert again.time_to_progression_days.tolist() == [168.0]


def test_iupd_without_following_assessment_stays_iupd() -> None:
    result = irecist_response([0, 56], [40.0, 50.0])
    assert _cats(result) == ["BL", "iUPD"]
    assert result.best_response.tolist() == ["iUPD"]
    assert result.progressed.tolist() == [False]


def test_icpd_is_final() -> None:
    result = irecist_response(WEEKS_8[:4], [40.0, 50.0, 56.0, 10.0])
    assert _cats(result) == ["BL", "iUPD", "iCPD", "iCPD"]
    assert result.best_change_percent.tolist() == [25.0]


# --- Lugano 2014 -----------------------------------------------------------------------------


def test_lugano_partial_response_at_minus_50_percent() -> None:
    assert _cats(lugano_response([0, 56], [1600.0, 800.0])) == ["BL", "PR"]
    assert _cats(lugano_response([0, 56], [1600.0, 801.0])) == ["BL", "SD"]


def test_lugano_progression_at_plus_50_percent_from_nadir() -> None:
    result = lugano_response(WEEKS_8[:3], [1600.0, 400.0, 600.0])
    assert _cats(result) == ["BL", "PR", "PD"]
    assert result.best_response.tolist() == ["PR"]
    assert result.time_to_progression_days.tolist() == [112.0]
    assert result.best_change_percent.tolist() == [-75.0]
    assert _cats(lugano_response(WEEKS_8[:3], [1600.0, 400.0, 599.0])) == ["BL", "PR", "PR"]


def test_lugano_complete_response_at_15_mm() -> None:
    assert _cats(lugano_response([0, 56], [1600.0, 225.0])) == ["BL", "CR"]  # 15 mm
    assert _cats(lugano_response([0, 56], [1600.0, 226.0])) == ["BL", "PR"]  # 15.03 mm
    assert _cats(lugano_response([0, 56], [1600.0, 400.0], cr_node_mm=20.0)) == ["BL", "CR"]


def test_lugano_progression_needs_an_abnormal_node() -> None:
    # doubling from a normal-sized nadir (10 mm → 14.1 mm) stays CR; regrowth to 20 mm is PD
    assert _cats(lugano_response(WEEKS_8[:3], [1600.0, 100.0, 200.0])) == ["BL", "CR", "CR"]
    assert _cats(lugano_response(WEEKS_8[:3], [1600.0, 0.0, 400.0])) == ["BL", "CR", "PD"]


def test_lugano_refuses_a_baseline_node_that_is_not_measurable() -> None:
    # a 10 mm node growing to 14.8 mm read as CR at every scan before the fix
    with pytest.raises(ValidationError) as excinfo:
        lugano_response(WEEKS_8[:3], [100.0, 150.0, 220.0])
    assert _fields(excinfo) == ["spd_mm2[0]"]
    message = str(excinfo.value)
    assert "measurable node at baseline" in message
    assert "more than 15 mm" in message
    assert "a node of 10 mm" in message
    # exactly 15 mm is a normal node (Lugano: measurable means > 1.5 cm)
    with pytest.raises(ValidationError, match="more than 15 mm"):
        lugano_response([0, 56], [225.0, 900.0])
    assert _cats(lugano_response([0, 56], [226.0, 900.0])) == ["BL", "PD"]
    # the rule follows cr_node_mm; the first of several patients without one is named
    with pytest.raises(ValidationError) as excinfo:
        lugano_response([0, 56], [[1600.0, 900.0], [300.0, 900.0]], cr_node_mm=20.0)
    assert _fields(excinfo) == ["spd_mm2[1, 0]"]
    assert "more than 20 mm" in str(excinfo.value)


def test_a_growing_lesion_is_never_a_lugano_complete_response() -> None:
    rng = np.random.default_rng(3)
    baseline = rng.uniform(15.01, 60.0, size=(500, 1))  # measurable nodes (mm)
    growth = np.cumsum(rng.uniform(0.0, 0.3, size=(500, 5)), axis=1)
    diameters = np.hstack([baseline, baseline * np.exp(growth)])
    result = lugano_response([0, 28, 56, 84, 112, 140], diameters**2)
    assert not np.isin(result.categories, ["CR", "PR"]).any()
    assert not np.isin(result.best_response, ["CR", "PR"]).any()


def test_assess_response_names_a_lugano_baseline_that_is_not_measurable_in_its_unit() -> None:
    with pytest.raises(ValidationError) as excinfo:
        assess_response([0, 56, 112], [2e6, 5e7, 1e9], kind="cells", criteria="lugano")
    assert _fields(excinfo) == ["burden[0]"]
    message = str(excinfo.value)
    assert "2e+06 cells, a node of 1.56 mm" in message
    assert "more than 1.767e+09 cells are needed" in message
    with pytest.raises(ValidationError, match="a node of 12 mm"):
        assess_response([0, 56], [12.0, 30.0], kind="diameter_mm", criteria="lugano")
    with pytest.raises(ValidationError, match="an SPD of 144 mm², a node of 12 mm"):
        assess_response([0, 56], [144.0, 900.0], kind="spd_mm2", criteria="lugano")
    # RECIST has no such rule: the same small lesion growing is progression (≥ +5 mm by day 112)
    recist = assess_response([0, 56, 112], [2e6, 5e7, 1e9], kind="cells")
    assert recist.categories.tolist() == [["BL", "SD", "PD"]]


def test_a_simulated_growing_tumor_is_refused_by_lugano_not_read_as_cr() -> None:
    import immunoprecise as ip

    untreated = ip.simulate("cartmath2021", t_end=112)  # 2e6 cells growing ~560-fold
    assert untreated.tumor[0, -1] > 500 * untreated.tumor[0, 0]
    with pytest.raises(ValidationError, match="measurable node at baseline"):
        untreated.response("lugano")
    measurable = ip.simulate("cartmath2021", t_end=112, initial={"T": 5e9})
    lugano = measurable.response("lugano")
    assert lugano.categories.tolist() == [["BL", "PD", "PD"]]


# --- Batch and the entry point ---------------------------------------------------------------


def _random_sums(rng: np.random.Generator, n_patients: int, n_times: int) -> npt.NDArray[Any]:
    log_change = np.cumsum(rng.normal(0.0, 0.25, size=(n_patients, n_times)), axis=1)
    log_change[:, 0] = 0.0
    sums = rng.uniform(15.0, 80.0, size=(n_patients, 1)) * np.exp(log_change)
    sums[rng.random(sums.shape) < 0.05] = 0.0
    sums[:, 0] = np.maximum(sums[:, 0], 15.0)
    return sums


@pytest.mark.parametrize(
    ("function", "options"),
    [
        (recist_response, {}),
        (recist_response, {"confirm_days": 28.0, "cr_threshold_mm": 5.0}),
        (irecist_response, {}),
        (irecist_response, {"confirm_days": 56.0, "progression_confirm_days": 60.0}),
        (lugano_response, {}),
    ],
)
def test_batch_equals_per_patient_loop(function: Any, options: dict[str, Any]) -> None:
    rng = np.random.default_rng(7)
    times = np.array([0.0, 28.0, 56.0, 112.0, 140.0, 168.0, 252.0])
    sums = _random_sums(rng, 200, times.size)
    if function is lugano_response:
        # a measurable node at baseline (longest diameter > 15 mm), then its SPD, mm²
        sums[:, 0] = np.maximum(sums[:, 0], 15.5)
        sums = sums**2
    batch = function(times, sums, **options)
    assert batch.categories.shape == (200, times.size)
    assert len(set(batch.best_response.tolist())) >= 3  # the series are not all alike
    for p in range(sums.shape[0]):
        single = function(times, sums[p], **options)
        np.testing.assert_array_equal(batch.categories[p], single.categories[0])
        assert batch.best_response[p] == single.best_response[0]
        assert batch.progressed[p] == single.progressed[0]
        np.testing.assert_array_equal(
            batch.time_to_progression_days[p], single.time_to_progression_days[0]
        )
        np.testing.assert_array_equal(batch.best_change_percent[p], single.best_change_percent[0])


def test_assess_response_default_schedule_and_cells() -> None:
    days = np.arange(0.0, 200.0)
    cells = np.vstack([2e9 * np.exp(-days / 50), 2e9 * np.exp(days / 40)])
    result = assess_response(days, cells, kind="cells")
    assert result.assessment_days.tolist() == [0.0, 56.0, 112.0, 168.0]
    diameters = cells_to_diameter_mm(cells[:, [0, 56, 112, 168]])
    direct = recist_response([0, 56, 112, 168], diameters)
    np.testing.assert_array_equal(result.categories, direct.categories)
    assert result.best_response.tolist() == ["PR", "PD"]
    assert result.parameters["kind"] == "cells"
    assert result.parameters["sd_min_days"] == 42.0
    frame = result.to_frame()
    assert list(frame.columns) == [
        "patient",
        "best_response",
        "best_change_percent",
        "time_to_progression_days",
        "progressed",
    ]
    assert frame["progressed"].tolist() == [False, True]
    assert frame["time_to_progression_days"].iloc[1] == 56.0


def test_assessment_uses_first_time_at_or_after_the_scheduled_day() -> None:
    times = [0.0, 30.0, 60.0, 100.0, 130.0, 170.0]
    result = assess_response(times, [30.0] * 6, kind="diameter_mm")
    assert result.assessment_days.tolist() == [0.0, 60.0, 130.0, 170.0]
    # a time point picked twice is used once
    sparse = assess_response([0.0, 100.0, 200.0], [30.0] * 3, kind="diameter_mm")
    assert sparse.assessment_days.tolist() == [0.0, 100.0, 200.0]
    # floating-point grids: 55.99999999 counts as day 56
    grid = np.linspace(0.0, 112.0, 4001)
    grid[2000] = 56.0 - 1e-9
    on_grid = assess_response(grid, np.full(grid.size, 30.0), kind="diameter_mm")
    assert on_grid.assessment_days[1] == pytest.approx(56.0)
    given = assess_response(times, [30.0] * 6, kind="diameter_mm", assessment_days=[0, 90])
    assert given.assessment_days.tolist() == [0.0, 100.0]
    assert given.parameters["scan_interval_days"] is None


def test_assess_response_conversions() -> None:
    times = [0, 56, 112]
    # fewer than one cell is gone: CR
    gone = assess_response(times, [1e9, 1e5, 0.5], kind="cells")
    assert _cats(gone) == ["BL", "PR", "CR"]
    # Lugano from diameters and from SPD agree (SPD = d²)
    by_diameter = assess_response(times, [40.0, 20.0, 15.0], kind="diameter_mm", criteria="lugano")
    by_spd = assess_response(times, [1600.0, 400.0, 225.0], kind="spd_mm2", criteria="lugano")
    assert _cats(by_diameter) == _cats(by_spd) == ["BL", "PR", "CR"]
    # RECIST from SPD: d = √SPD
    recist = assess_response(times, [1600.0, 784.0, 900.0], kind="spd_mm2")
    assert _cats(recist) == ["BL", "PR", "SD"]  # 40 → 28 → 30 mm: −30 %, −25 %
    # options pass through
    confirmed = assess_response(
        times, [50.0, 30.0, 35.5], kind="diameter_mm", criteria="irecist", confirm_days=56
    )
    assert confirmed.best_response.tolist() == ["iSD"]
    denser = assess_response(times, [1e9, 1e9, 1e9], kind="cells", cells_per_cm3=1e8)
    assert denser.parameters["cells_per_cm3"] == 1e8


def test_result_is_immutable() -> None:
    result = recist_response([0, 56], [40.0, 20.0])
    with pytest.raises(ValueError, match="read-only"):
        result.categories[0, 1] = "PD"
    with pytest.raises(AttributeError):
        result.criteria = "lugano"  # type: ignore[misc]


# --- Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"criteria": "who"}, "criteria", "'recist', 'irecist', 'lugano'"),
        ({"kind": "volume"}, "kind", "'cells', 'diameter_mm', 'spd_mm2'"),
        ({"cr_node_mm": 10.0}, "cr_node_mm", "allowed: cr_threshold_mm"),
        ({"cells_per_cm3": 1e9, "kind": "diameter_mm"}, "cells_per_cm3", "not an option"),
        ({"confirm_days": -1.0}, "confirm_days", "at least 0"),
        ({"sd_min_days": "six weeks"}, "sd_min_days", "finite number of days"),
        (
            {"criteria": "irecist", "progression_confirm_days": math.inf},
            "progression_confirm_days",
            "finite",
        ),
        ({"cells_per_cm3": 0.0}, "cells_per_cm3", "more than 0"),
        ({"assessment_days": [0, 56, 300]}, "assessment_days[2]", "at most the last time point"),
        ({"assessment_days": [7, 56]}, "assessment_days[0]", "must be 0"),
    ],
)
def test_option_errors_name_the_field(kwargs: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        assess_response([0, 56, 112], [1e9, 5e8, 4e8], **kwargs)
    assert field in _fields(excinfo)
    assert text in str(excinfo.value)


@pytest.mark.parametrize(
    ("times", "burden", "field", "text"),
    [
        ([0, 56, 56], [1e9, 1e9, 1e9], "times_days[2]", "strictly increasing"),
        ([1, 56, 112], [1e9, 1e9, 1e9], "times_days[0]", "baseline"),
        ([0, 56, float("nan")], [1e9, 1e9, 1e9], "times_days[2]", "finite"),
        ([[0, 56, 112]], [1e9, 1e9, 1e9], "times_days", "1-D"),
        ([0, 56, 112], [[1e9, 1e9, 1e9], [1e9, 1e9, -1.0]], "burden[1, 2]", "at least 0 cells"),
        ([0, 56, 112], [1e9, np.inf, 1e9], "burden[1]", "finite"),
        ([0, 56, 112], [1e9, 1e9], "burden", "3 values per patient"),
        ([0, 56, 112], [[1e9, 1e9, 1e9], [0.2, 1e9, 1e9]], "burden[1, 0]", "baseline"),
        ([0, 56, 112], ["a", "b", "c"], "burden", "numbers"),
    ],
)
def test_input_errors_name_the_field(times: Any, burden: Any, field: str, text: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        assess_response(times, burden)
    assert field in _fields(excinfo)
    assert text in str(excinfo.value)


def test_criteria_function_errors_name_their_fields() -> None:
    with pytest.raises(ValidationError) as excinfo:
        recist_response([0, 56], [0.0, 10.0])
    assert _fields(excinfo) == ["sums_mm[0]"]
    with pytest.raises(ValidationError) as excinfo:
        lugano_response([0, 56], [[400.0, -1.0]], cr_node_mm=-5.0)
    assert _fields(excinfo) == ["spd_mm2[0, 1]", "cr_node_mm"]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as excinfo:
        assess_response([0, 0], [-1.0, 2.0, 3.0], foo=1)
    assert _fields(excinfo) == ["foo", "times_days[1]", "burden[0]"]


def test_response_of_a_simulation_without_day_0_names_t_eval() -> None:
    tr = ip.simulate(
        "depillis2006", t_end=120, regimen="chemo 1 mg/kg q21d x3", t_eval=[30, 60, 90, 120]
    )
    with pytest.raises(ValidationError, match=r"t_eval\[0\] = 30.0: must be 0") as info:
        tr.response()
    assert "times_days" not in str(info.value)
