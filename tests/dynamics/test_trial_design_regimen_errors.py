"""A typo in an arm's regimen is reported once, on one line, with the item, line and column.

Before, the regimen's own multi-line message (the text again and a caret under the token) was
flattened into the design's one-line message: the text showed twice and the caret pointed
nowhere.
"""

from __future__ import annotations

import pytest

from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ValidationError

DESIGN = {
    "name": "x",
    "model": "depillis2006",
    "seed": 1,
    "n_per_arm": 50,
    "follow_up_days": 112,
    "arms": [{"id": "a", "regimen": "chemo 1 mg/kg d0"}],
}


def _message(regimen: str) -> str:
    with pytest.raises(ValidationError) as err:
        load_trial_design({**DESIGN, "arms": [{"id": "b", "regimen": regimen}]})
    (problem,) = err.value.problems
    assert problem.field == "arms[0].regimen"
    assert problem.value == regimen
    return problem.message


def test_a_unit_typo_names_the_item_column_and_token_once() -> None:
    message = _message("chemo 1 mgkg q21d x6; IL2 5e6 IU/d d8-12")
    assert message == (
        "item 1, column 9 (at 'mgkg'): unknown unit 'mgkg'; write a unit such as mg/kg, mg/m2, "
        "IU/d, cells or cells/d"
    )


def test_a_typo_on_the_second_line_of_a_block_regimen_names_the_line() -> None:
    message = _message("chemo 1 mg/kg q21d x6\nIL2 5e6 IU/d d0,0.5\n")
    assert message.startswith("item 2, line 2, column 36 (at 'd0,0.5'): infusion days 0 and 0.5")
    assert "^" not in message
    assert "invalid field" not in message
