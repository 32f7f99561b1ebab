"""Patients × output times are capped before anything is integrated (memory)."""

from __future__ import annotations

import numpy as np
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.schedule import compare_regimens
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ModelError, ValidationError

DESIGN = {
    "name": "x",
    "model": "cartmath2021",
    "seed": 1,
    "n_per_arm": 50,
    "follow_up_days": 112,
    "arms": [{"id": "a", "regimen": "CAR-T 1e6 cells d0"}],
}


def test_simulate_refuses_patients_times_daily_outputs_beyond_the_cap() -> None:
    with pytest.raises(ModelError) as err:
        ip.simulate("kuznetsov1994", t_end=3650, params={"s": [0.1] * 6000})
    message = str(err.value)
    assert "6,000 patients × 3,651 daily output times = 21,906,000 output points" in message
    assert "more than the 20,000,000 kept in memory" in message
    assert "t_eval" in message


def test_the_same_patients_run_with_weekly_output() -> None:
    tr = ip.simulate(
        "kuznetsov1994", t_end=70, params={"s": [0.1] * 3}, t_eval=np.arange(0.0, 71.0, 7.0)
    )
    assert tr.y.shape == (3, 11, 2)
    from immunoprecise.dynamics.simulate import check_output_size

    check_output_size(6000, 522)  # 10 years of weekly output for the same 6,000 patients


def test_compare_regimens_counts_every_regimen_it_keeps() -> None:
    with pytest.raises(ModelError) as err:
        compare_regimens(
            "cartmath2021",
            {"a": "CAR-T 1e6 cells d0", "b": "CAR-T 1e6 cells d7"},
            t_end=3000,
            n_virtual=5000,
        )
    assert "3 regimens × 5,000 patients × 3,001 daily output times = 45,015,000" in str(err.value)
    assert "n_virtual" in str(err.value)


def test_a_trial_chunk_beyond_the_cap_is_refused_with_the_chunk_size_that_fits() -> None:
    design = {
        **DESIGN,
        "n_per_arm": 20_000,
        "chunk_size": 10_000,
        "follow_up_days": 3650,
        "assessment_interval_days": 0.1,
    }
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    message = str(err.value)
    assert "10,000 patients (chunk_size) × 36,501 output times" in message
    assert "lower chunk_size to at most 547" in message
    accepted = load_trial_design({**design, "chunk_size": 500})
    assert accepted.n_chunks == 40


def test_a_trial_with_more_scans_than_any_chunk_can_hold_is_refused() -> None:
    design = {
        **DESIGN,
        "n_per_arm": 200,
        "follow_up_days": 3650,
        "assessment_interval_days": 0.001,
    }
    with pytest.raises(ValidationError, match=r"200 patients \(n_per_arm\).*lengthen assessment"):
        load_trial_design(design)


def test_kept_trajectories_beyond_the_cap_are_refused_with_the_number_that_fits() -> None:
    design = {
        **DESIGN,
        "arms": [{"id": "a", "regimen": "CAR-T 1e6 cells d0"}, {"id": "ctl", "regimen": ""}],
        "n_per_arm": 20_000,
        "chunk_size": 500,
        "follow_up_days": 3650,
        "assessment_interval_days": 0.1,
        "keep_trajectories": 1000,
    }
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    message = str(err.value)
    assert "keep_trajectories = 1000: 1,000 patients × 2 arms × 36,501 output times" in message
    assert "lower keep_trajectories to at most 273" in message
    assert load_trial_design({**design, "keep_trajectories": 273}).keep_trajectories == 273
