"""`immunoprecise simulate`: notes on doses given only in part, and body weights in grams.

Before, doses after ``--t-end`` were warned about on stderr but left out of ``summary.json``
``notes``, an infusion cut short by ``--t-end`` was not mentioned at all, and
``--body-weight 70000`` (grams) was taken as 70 tonnes.
"""

from __future__ import annotations

import json

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
