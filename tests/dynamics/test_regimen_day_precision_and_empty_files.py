"""Days finer than the schedule keeps, and regimen files with nothing in them."""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoprecise.dynamics.regimen import Regimen, RegimenSyntaxError
from immunoprecise.dynamics.schedule import search_timing
from immunoprecise.errors import ModelError, ValidationError


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("chemo 1 mg d10.0000000001", "10.0000000001"),
        ("chemo 1 mg d1-3.00000000001", "3.00000000001"),
        ("chemo 1 mg d0,7.0000000001", "7.0000000001"),
        ("chemo 1 mg d0 q21.0000000001d x2", "21.0000000001"),
        ("chemo 1 mg d0 q1.00000000001w x2", "1.00000000001"),
        # more digits than decimal arithmetic's default 28 significant ones
        ("chemo 1 mg d1.00000000000000000000000000001", "1.00000000000000000000000000001"),
    ],
)
def test_a_day_written_finer_than_the_schedule_is_refused(text: str, value: str) -> None:
    with pytest.raises(RegimenSyntaxError) as err:
        Regimen.parse(f"IL2 5e6 IU/d d8-12; {text}")
    assert err.value.item == 2
    message = str(err.value)
    assert value in message
    assert "more than the 9 the schedule keeps" in message
    assert "at most 9 decimals" in message


def test_nine_decimals_are_kept_exactly_and_trailing_zeros_lose_nothing() -> None:
    assert [d.start for d in Regimen.parse("chemo 1 mg d10.000000001").doses()] == [10.000000001]
    assert [d.start for d in Regimen.parse("chemo 1 mg d10.50000000000").doses()] == [10.5]
    assert [d.start for d in Regimen.parse("chemo 1 mg d0.0000000000000").doses()] == [0.0]
    assert [d.start for d in Regimen.parse("chemo 1 mg d0 q21.000000000000d x2").doses()] == [
        0.0,
        21.0,
    ]


@pytest.mark.parametrize(
    ("item", "field", "value"),
    [
        ("{agent: chemo, dose: 1 mg, days: 10.0000000001}", "items[0].days", "10.0000000001"),
        ("{agent: chemo, dose: 1 mg, days: '10.0000000001'}", "items[0].days", "10.0000000001"),
        ("{agent: chemo, dose: 1 mg, days: [1, 10.0000000001]}", "items[0].days[1]", "10.0"),
        ("{agent: chemo, dose: 1 mg, days: 1.0e-10}", "items[0].days", "1e-10"),
        (
            "{agent: chemo, dose: 1 mg, every_days: 21.0000000001, cycles: 2}",
            "items[0].every_days",
            "21.0000000001",
        ),
    ],
)
def test_a_yaml_day_finer_than_the_schedule_is_refused(item: str, field: str, value: str) -> None:
    with pytest.raises(ValidationError) as err:
        Regimen.from_yaml(f"items:\n  - {item}\n")
    problem = err.value.problems[0]
    assert problem.field == field
    assert value in str(err.value)
    assert "decimals" in problem.message


def test_search_timing_refuses_a_day_finer_than_the_schedule_naming_it() -> None:
    with pytest.raises(ModelError, match=r"days\[1\] = 0\.3333333333333333 has 16 decimals"):
        search_timing("cartmath2021", "CAR-T 1e6 cells d{day}", [0, 1 / 3], t_end=30, n_virtual=2)


@pytest.mark.parametrize("content", ["", "   \n\n", "# the plan for patient 7\n\n", "---\n"])
def test_a_regimen_file_with_nothing_in_it_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        Regimen.from_yaml(path)
    assert err.value.source == str(path)
    assert "is empty" in str(err.value)
    assert "items: []" in str(err.value)


def test_an_explicitly_empty_regimen_file_is_no_treatment(tmp_path: Path) -> None:
    path = tmp_path / "control.yaml"
    path.write_text("name: control\nitems: []\n", encoding="utf-8")
    regimen = Regimen.from_yaml(path)
    assert regimen == Regimen()
    assert regimen.name == "control"
