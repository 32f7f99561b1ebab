"""`immunoprecise simulate`: notes on doses given only in part, and body weights in grams.

Before, doses after ``--t-end`` were warned about on stderr but left out of ``summary.json``
``notes``, an infusion cut short by ``--t-end`` was not mentioned at all, and
``--body-weight 70000`` (grams) was taken as 70 tonnes.
"""

from __future__ import annotations

import json
from pathlib import Path

import immunoprecise as ip
from cli.test_simulate_command import _fails, _simulate


def test_doses_after_t_end_are_kept_in_the_summary_notes() -> None:
    result = _simulate(
        "cartmath2021", "--regimen", "CAR-T 1e6 cells q21d x6", "--t-end", "50", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    late = (
        "3 doses start after day 50 and are not simulated (CAR-T on days 63, 84, 105); "
        "lengthen --t-end to include them"
    )
    assert f"warning: {late}" in result.stderr
    assert f"note: {late}" not in result.stderr
    assert json.loads(result.stdout)["notes"][0] == late


def test_an_infusion_cut_short_by_t_end_gets_a_note() -> None:
    result = _simulate(
        "depillis2006", "--regimen", "IL2 5e6 IU/d d8-12", "--t-end", "10", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    cut = (
        "Infusion cut short: item 1 (IL2 5e6 IU/d d8-12) runs from day 8 to 13, but the "
        "simulation ends on day 10 (--t-end), so only 2 of its 5 days (day 8 to 10) are given"
    )
    assert f"note: {cut}" in " ".join(result.stderr.split())
    assert cut in json.loads(result.stdout)["notes"]
    whole = _simulate(
        "depillis2006", "--regimen", "IL2 5e6 IU/d d8-12", "--t-end", "13", "-f", "json"
    )
    assert "cut short" not in whole.stderr


def test_a_body_weight_in_grams_is_refused_naming_the_option() -> None:
    result = _simulate(
        "fl_adcc", "-r", "rituximab 375 mg/kg d0", "--t-end", "1", "--body-weight", "70000"
    )
    _fails(
        result,
        "--body-weight 70000 kg is not a human body weight (0.2 to 650 kg): 70000 looks like "
        "grams; give the weight in kg (70)",
    )
    assert result.stdout == "", "nothing is simulated"


def test_every_note_is_shown_once_naming_the_option_t_end(tmp_path: Path) -> None:
    regimen = "IL2 5e6 IU/d d8-12; IL-2 1e6 IU/d d10-14; chemo 1 mg/kg d0 q21d x3"
    result = _simulate(
        "depillis2006", "--regimen", regimen, "--t-end", "11", "-f", "json", "-o", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    notes = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["notes"]
    library = ip.simulate("depillis2006", t_end=11, regimen=regimen).notes
    assert len(library) == 4  # doses after the end, two infusions cut short, an overlap
    for note in library:
        worded = note.replace("t_end", "--t-end")
        assert notes.count(worded) == 1, notes
        assert " ".join(result.stderr.split()).count(worded) == 1
    assert not any("t_end" in n for n in notes)
    assert sum("(--t-end)" in n or "lengthen --t-end" in n for n in notes) == 3


def test_errors_about_the_end_time_name_the_option_t_end() -> None:
    _fails(_simulate("fl_adcc", "--t-end", "0"), "error: --t-end must be a positive number of days")
    _fails(
        _simulate("fl_adcc", "--t-end", "40000"),
        "error: --t-end must be at most 36,525 days (100 years), not 40000",
    )
    stderr = _fails(
        _simulate("fl_adcc", "--t-end", "10", "-r", "rituximab 375 mg/m2 d20"),
        "its first dose is on day 20, after --t-end = 10 days",
        "lengthen --t-end or start the regimen earlier",
    )
    assert "t_end" not in stderr
