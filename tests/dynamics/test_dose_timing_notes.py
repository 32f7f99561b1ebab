"""Doses the run to ``t_end`` gives only in part are named in ``Trajectories.notes``.

Before, a Python caller of ``ip.simulate`` was not told that doses after ``t_end`` were left
out (only the CLI said so), and nobody was told that an infusion still running at ``t_end``
was given only up to it.
"""

from __future__ import annotations

import numpy as np
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.simulate import LATE_DOSES_FIX, dose_timing_notes, late_doses_fix


def test_doses_after_t_end_are_in_the_notes_of_simulate() -> None:
    tr = ip.simulate("cartmath2021", t_end=50, regimen="CAR-T 1e6 cells q21d x6")
    assert tr.notes == (
        "3 doses start after day 50 and are not simulated (CAR-T on days 63, 84, 105); "
        "lengthen t_end to include them",
    )
    assert tr.notes[0].endswith(LATE_DOSES_FIX)


def test_an_infusion_cut_short_by_t_end_is_named_with_the_part_given() -> None:
    tr = ip.simulate("depillis2006", t_end=10, regimen="IL2 5e6 IU/d d8-12")
    assert tr.notes == (
        "Infusion cut short: item 1 (IL2 5e6 IU/d d8-12) runs from day 8 to 13, but the "
        "simulation ends on day 10 (t_end), so only 2 of its 5 days (day 8 to 10) are given",
    )


@pytest.mark.parametrize(
    ("text", "t_end", "expected"),
    [
        ("IL2 5e6 IU/d d8-12", 13, []),  # ends exactly at t_end: given whole
        ("IL2 5e6 IU/d d8-12", 60, []),
        ("CAR-T 1e6 cells d0", 10, []),
        (
            "IL2 5e6 IU/d d8-12",
            8,
            [
                "Infusion cut short: item 1 (IL2 5e6 IU/d d8-12) runs from day 8 to 13, but the "
                "simulation ends on day 8 (t_end), so none of it is given (it starts on the last "
                "simulated day)"
            ],
        ),
        (
            "CAR-T 1e6 cells d0; IL2 1e6 IU/d d0-2 q7d x3",
            8,
            [
                "1 dose starts after day 8 and is not simulated (IL2 on day 14); lengthen t_end "
                "to include them",
                "Infusion cut short: item 2 (IL2 1e6 IU/d d0-2 q7d x3) runs from day 7 to 10, "
                "but the simulation ends on day 8 (t_end), so only 1 of its 3 days (day 7 to 8) "
                "is given",
            ],
        ),
    ],
)
def test_dose_timing_notes(text: str, t_end: float, expected: list[str]) -> None:
    assert dose_timing_notes(Regimen.parse(text), t_end) == expected


def test_dose_timing_notes_without_a_regimen_are_empty() -> None:
    assert dose_timing_notes(None, 10) == []


def test_the_notes_do_not_change_the_numbers() -> None:
    cut = ip.simulate("depillis2006", t_end=10, regimen="IL2 5e6 IU/d d8-12")
    whole = ip.simulate("depillis2006", t_end=20, regimen="IL2 5e6 IU/d d8-12")
    np.testing.assert_allclose(cut.y[:, :10], whole.y[:, :10], rtol=1e-5)


def test_a_trial_arm_whose_infusion_the_follow_up_cuts_short_is_noted() -> None:
    from immunoprecise.dynamics.trials import TrialDesign, run_trial

    design = TrialDesign.model_validate(
        {
            "name": "IL-2 cut short",
            "model": "depillis2006",
            "seed": 1,
            "n_per_arm": 20,
            "follow_up_days": 56,
            "endpoints": ["orr"],
            "population": {"parameter_set": "patient9"},
            "arms": [{"id": "il2", "label": "IL-2", "regimen": "IL2 5e6 IU/d d50-59"}],
        }
    )
    result = run_trial(design, scheduler="synchronous")
    assert (
        "Arm il2: Infusion cut short: item 1 (IL2 5e6 IU/d d50-59) runs from day 50 to 60, but "
        "the simulation ends on day 56 (follow_up_days), so only 6 of its 10 days (day 50 to "
        "56) are given." in result.notes
    )


def test_dose_timing_notes_name_the_end_time_as_the_caller_does() -> None:
    reg = Regimen.parse("IL2 5e6 IU/d d8-12; CAR-T 1e6 cells d0 q21d x3")
    late, cut = dose_timing_notes(reg, 10, t_end_name="--t-end")
    assert late.endswith("; lengthen --t-end to include them")
    assert late.endswith(late_doses_fix("--t-end"))
    assert "but the simulation ends on day 10 (--t-end), so only 2 of its 5 days" in cut
    assert dose_timing_notes(reg, 10) == [
        late.replace("--t-end", "t_end"),
        cut.replace("--t-end", "t_end"),
    ]


def test_simulate_names_the_end_time_in_its_notes_as_the_caller_does() -> None:
    regimen = "IL2 5e6 IU/d d8-12; IL-2 1e6 IU/d d10-14; chemo 1 mg/kg d0 q21d x3"
    plain = ip.simulate("depillis2006", t_end=11, regimen=regimen)
    named = ip.simulate("depillis2006", t_end=11, regimen=regimen, t_end_name="--t-end")
    assert [n.startswith("Overlapping doses") for n in named.notes] == [False, False, False, True]
    assert named.notes[0].endswith(late_doses_fix("--t-end"))
    assert "(--t-end)" in named.notes[1]
    assert "(--t-end)" in named.notes[2]
    assert named.notes == tuple(n.replace("t_end", "--t-end") for n in plain.notes)
    np.testing.assert_array_equal(named.y, plain.y)  # the wording only


@pytest.mark.parametrize("name", ["", "  ", 3, None])
def test_simulate_refuses_an_end_time_name_that_is_no_name(name: object) -> None:
    with pytest.raises(
        ip.errors.ModelError, match="t_end_name must be the name of the end time shown"
    ):
        ip.simulate("kuznetsov1994", t_end=10, t_end_name=name)  # type: ignore[arg-type]


def test_simulate_names_the_end_time_in_its_errors_as_the_caller_does() -> None:
    with pytest.raises(ip.errors.ModelError, match=r"^--t-end must be a positive number of days"):
        ip.simulate("kuznetsov1994", t_end=0, t_end_name="--t-end")
    with pytest.raises(ip.errors.ModelError, match="after --t-end = 10 days") as err:
        ip.simulate("cartmath2021", t_end=10, regimen="CAR-T 1e6 cells d30", t_end_name="--t-end")
    assert "lengthen --t-end or start the regimen earlier" in str(err.value)
