"""A schedule written as clinicians write it is refused with the exact tokens to write."""

from __future__ import annotations

import pytest

from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.errors import ValidationError


@pytest.mark.parametrize(
    ("schedule", "written", "rewrite"),
    [
        ("q3w x 6", "x 6", "x6"),
        ("Day 0", "Day 0", "d0"),
        ("d0, d21, d42", "d0, d21, d42", "d0,21,42"),
        ("every 3 weeks for 6 cycles", "every 3 weeks for 6 cycles", "q3w x6"),
        ("every 21 days", "every 21 days", "q21d"),
    ],
)
def test_a_clinical_spelling_gets_its_rewrite(schedule: str, written: str, rewrite: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Regimen.parse(f"anti-PD-1 200 mg {schedule}")
    message = refused.value.problems[0].message
    assert f"cannot read the schedule {written!r}; write {rewrite!r}" in message


@pytest.mark.parametrize(
    ("schedule", "rewrite"),
    [("Day 0", "d0"), ("d0, d21, d42", "d0,21,42"), ("every 3 weeks for 6 cycles", "q3w x6")],
)
def test_the_rewrite_reads_as_the_same_schedule(schedule: str, rewrite: str) -> None:
    regimen = Regimen.parse(f"anti-PD-1 200 mg {rewrite}")
    assert regimen.items[0].agent == "anti-PD-1"
    with pytest.raises(ValidationError):
        Regimen.parse(f"anti-PD-1 200 mg {schedule}")
