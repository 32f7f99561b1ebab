"""Mistakes trial designers make in a design file, each refused saying what to write."""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ValidationError

DESIGN = {
    "name": "x",
    "model": "cartmath2021",
    "seed": 1,
    "n_per_arm": 50,
    "follow_up_days": 112,
    "arms": [{"id": "a", "regimen": "CAR-T 1e6 cells d0"}],
}


def test_an_empty_design_file_says_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text("# to be written\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="is empty"):
        load_trial_design(path)


def test_an_arm_with_an_empty_regimen_line_says_how_to_write_a_control() -> None:
    with pytest.raises(ValidationError) as err:
        load_trial_design({**DESIGN, "arms": [{"id": "ctl", "regimen": None}]})
    assert err.value.problems[0].field == "arms[0].regimen"
    assert "regimen: ''" in str(err.value)


def test_a_single_name_for_vary_asks_for_a_list() -> None:
    with pytest.raises(ValidationError) as err:
        load_trial_design({**DESIGN, "population": {"vary": "rho"}})
    assert err.value.problems[0].field == "population.vary"
    assert "vary: [rho]" in str(err.value)
    assert load_trial_design({**DESIGN, "population": {"vary": ["rho"]}}).population.vary == (
        "rho",
    )


def test_a_day_finer_than_the_schedule_in_an_arm_is_refused_naming_the_arm() -> None:
    arms = [{"id": "a", "regimen": "CAR-T 1e6 cells d0.0000000001"}]
    with pytest.raises(ValidationError) as err:
        load_trial_design({**DESIGN, "arms": arms})
    assert err.value.problems[0].field == "arms[0].regimen"
    assert "0.0000000001 has 10 decimals" in str(err.value)
