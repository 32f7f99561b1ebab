"""Regimens with the unit left out, or the amount written in words, are refused in plain words.

Before the fix ``CAR-T 1e8 d0`` was refused with "unit 'd0' has a number ('0') that is neither
a leading power of ten ... nor an exponent", and ``CAR-T 100 million cells d0`` with "unknown
unit 'million'" (in YAML: "unknown unit 'millioncells'"), neither saying what to write.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "token"),
    [("CAR-T 1e8 d0", "'d0'"), ("IL2 5e6 q21d", "'q21d'"), ("chemo 2 x6", "'x6'")],
)
def test_a_schedule_token_where_the_unit_belongs_is_named_as_such(text: str, token: str) -> None:
    with pytest.raises(ValidationError) as info:
        Regimen.parse(text)
    message = str(info.value)
    assert "expected a unit after the amount" in message
    assert f"got the schedule token {token}" in message
    assert "power of ten" not in message


@pytest.mark.parametrize(
    ("text", "number"),
    [("CAR-T 100 million cells d0", "100 million is 1e8"), ("TIL 2.5 billion cells d0", "2.5e9")],
)
def test_an_amount_in_words_is_refused_with_its_number(text: str, number: str) -> None:
    with pytest.raises(ValidationError) as info:
        Regimen.parse(text)
    assert "is not a unit; write the amount as one number before the unit" in str(info.value)
    assert number in str(info.value)


def test_an_amount_in_words_in_a_yaml_dose_is_refused_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("items:\n  - {agent: CAR-T, dose: 100 million cells, days: [0]}\n")
    with pytest.raises(ValidationError) as info:
        Regimen.from_yaml(path)
    message = str(info.value)
    assert "items[0].dose" in message
    assert "'million' is not a unit" in message
    assert "100 million is 1e8" in message
    assert "millioncells" not in message
