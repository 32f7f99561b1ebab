"""Doses of one agent from different regimen items given at the same time are told, not hidden.

Concurrent administrations add up in the model (as two concurrent infusions would), so they are
simulated as written; before, nothing said so, and a day written twice, or an agent written
under two of its names (``IL2`` and ``IL-2``), went unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.dynamics.models import get_model
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.simulate import dose_overlap_notes
from immunoprecise.dynamics.trials import TrialDesign, run_trial

runner = CliRunner()
DEPILLIS = get_model("depillis2006")


def _notes(text: str, t_end: float = 120) -> list[str]:
    return dose_overlap_notes(DEPILLIS, Regimen.parse(text), t_end)


def test_two_names_of_one_agent_infused_at_once_are_named_with_items_and_days() -> None:
    (note,) = _notes("IL2 5e6 IU/d d8-12; chemo 1 mg/kg d0; IL-2 1e6 IU/d d10-14")
    assert note.startswith("Overlapping doses of IL2 / IL-2: item 1 (IL2 5e6 IU/d d8-12) and ")
    assert "item 3 (IL-2 1e6 IU/d d10-14) are both given from day 10 to 13;" in note
    assert "they add up in the model's input IL-2" in note


def test_boluses_on_the_same_days_are_listed_shortened() -> None:
    (note,) = _notes("chemo 1 mg/kg q21d x6; chemo 2 mg/kg d0 q21d x6")
    assert "item 1 (chemo 1 mg/kg d0 q21d x6) and item 2 (chemo 2 mg/kg d0 q21d x6)" in note
    assert "on days 0, 21, 42, …, 105;" in note


def test_a_bolus_during_an_infusion_of_the_same_agent_is_told() -> None:
    (note,) = _notes("IL2 5e6 IU/d d0-4; IL2 1e6 IU d2")
    assert "are both given on day 2;" in note


@pytest.mark.parametrize(
    "text",
    [
        "IL2 5e6 IU/d d0-4; IL2 5e6 IU/d d5-9",  # back to back: [0, 5) then [5, 10)
        "IL2 5e6 IU/d d0-4; IL2 1e6 IU d5",  # the bolus after the infusion has ended
        "chemo 1 mg/kg d0; IL2 5e6 IU/d d0",  # two agents
        "chemo 1 mg/kg d0,7,14",  # one item
        "chemo 1 mg/kg d0; chemo 1 mg/kg d200",  # the second after t_end
    ],
)
def test_doses_that_do_not_overlap_give_no_note(text: str) -> None:
    assert _notes(text) == []


def test_simulate_prints_the_note_and_records_it_with_the_same_numbers(tmp_path: Path) -> None:
    text = "chemo 1 mg/kg d0; chemo 2 mg/kg d0"
    out = tmp_path / "o"
    args = ["simulate", "depillis2006", "-r", text, "--t-end", "10", "-o", str(out)]
    result = runner.invoke(app, [*args, "-f", "json", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert "note: Overlapping doses of chemo: item 1 (chemo 1 mg/kg d0) and item 2" in (
        result.stderr
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [n for n in summary["notes"] if n.startswith("Overlapping doses of chemo")]
    frame = ip.simulate("depillis2006", t_end=10, regimen=text).to_frame()
    written = np.loadtxt(out / "trajectories.csv", delimiter=",", skiprows=1, usecols=(1, 2))
    assert np.allclose(written, frame.iloc[:, 1:3].to_numpy(), rtol=1e-9)


def test_a_trial_arm_with_overlapping_doses_says_so_in_its_notes(tmp_path: Path) -> None:
    design = {
        "name": "overlap",
        "model": "depillis2006",
        "seed": 2,
        "n_per_arm": 5,
        "follow_up_days": 56,
        "population": {"vary": []},
        "keep_trajectories": 0,
        "arms": [
            {"id": "twice", "regimen": "chemo 1 mg/kg d0; chemo 1 mg/kg d0"},
            {"id": "once", "regimen": "chemo 2 mg/kg d0"},
        ],
    }
    result = run_trial(TrialDesign.model_validate(design), scheduler="synchronous")
    overlap = [n for n in result.notes if "Overlapping" in n]
    assert overlap == [
        "Arm twice: Overlapping doses of chemo: item 1 (chemo 1 mg/kg d0) and item 2 (chemo 1 "
        "mg/kg d0) are both given on day 0; they add up in the model's input chemo, as "
        "concurrent administrations would; change one item's days if that is not intended."
    ]
    # given as written: twice 1 mg/kg on day 0 is 2 mg/kg on day 0
    twice = result.outcomes[result.outcomes["arm"] == "twice"]
    once = result.outcomes[result.outcomes["arm"] == "once"]
    for column in ("tumor_nadir_cells", "best_change_percent"):
        assert np.allclose(twice[column].to_numpy(), once[column].to_numpy(), rtol=1e-6)
    path = tmp_path / "overlap.yaml"
    path.write_text(yaml.safe_dump(design), encoding="utf-8")
    args = ["trial", str(path), "--scheduler", "synchronous", "--no-progress", "--no-report"]
    cli = runner.invoke(app, [*args, "--out", str(tmp_path / "run")])
    assert cli.exit_code == 0, cli.output
    assert "Arm twice: Overlapping doses of chemo" in cli.stdout


def test_ip_simulate_returns_the_overlap_note_with_its_trajectories() -> None:
    text = "IL2 5e6 IU/d d8-12; chemo 1 mg/kg d0; IL-2 1e6 IU/d d10-14"
    tr = ip.simulate("depillis2006", t_end=30, regimen=text)
    assert tr.notes == tuple(_notes(text, 30))
    (note,) = tr.notes
    assert note.startswith("Overlapping doses of IL2 / IL-2: item 1 (IL2 5e6 IU/d d8-12) and ")
    assert "from day 10 to 13" in note


@pytest.mark.parametrize(
    "regimen",
    [None, "IL2 5e6 IU/d d0-4; IL2 5e6 IU/d d5-9", "chemo 1 mg/kg d0; chemo 1 mg/kg d200"],
)
def test_ip_simulate_without_overlapping_doses_has_no_notes(regimen: str | None) -> None:
    notes = ip.simulate("depillis2006", t_end=30, regimen=regimen).notes
    # the dose on day 200, after t_end, is not simulated: that is the only note
    assert notes == (() if "d200" not in (regimen or "") else (_late_note,))


_late_note = (
    "1 dose starts after day 30 and is not simulated (chemo on day 200); lengthen t_end to "
    "include them"
)


def test_the_overlap_note_leaves_the_numbers_as_they_were() -> None:
    twice = ip.simulate("depillis2006", t_end=20, regimen="chemo 1 mg/kg d0; chemo 1 mg/kg d0")
    once = ip.simulate("depillis2006", t_end=20, regimen="chemo 2 mg/kg d0")
    assert len(twice.notes) == 1
    assert once.notes == ()
    assert np.allclose(twice.y, once.y, rtol=1e-9)
