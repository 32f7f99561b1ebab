"""User-written YAML (records, trial designs, regimen files) is read by one loader: a key given
twice is refused, and plain scalars are read as written (YAML 1.2 core schema)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import immunoprecise as ip
from immunoprecise.documents import load_yaml
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ValidationError


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("0012", "0012"),  # YAML 1.1: octal 10
        ("12:30", "12:30"),  # YAML 1.1: 750, base 60
        ("no", "no"),  # YAML 1.1: False
        ("2024-01-05", "2024-01-05"),  # YAML 1.1: a date object
        ("1e3", 1000.0),  # YAML 1.1: the text '1e3'
        ("3.0e8", 3.0e8),  # YAML 1.1: the text '3.0e8'
        ("-2", -2),
        ("true", True),
        ("~", None),
    ],
)
def test_plain_scalars_are_read_as_written(written: str, read: object) -> None:
    assert load_yaml(f"value: {written}") == {"value": read}


def test_a_key_given_twice_is_refused_naming_it_and_its_first_line() -> None:
    with pytest.raises(yaml.YAMLError) as info:
        load_yaml("dose: 1\nname: x\ndose: 2\n")
    assert "the key 'dose' is given twice (first at line 1)" in str(info.value)


def _design_text() -> str:
    return ip.data.example_path("fl_gammadelta_trial.yaml").read_text(encoding="utf-8")


def test_a_trial_design_giving_a_key_twice_is_refused(tmp_path: Path) -> None:
    text = _design_text()
    path = tmp_path / "design.yaml"
    path.write_text(text + "\nseed: 99\n", encoding="utf-8")
    assert "\nseed:" in text  # the example states its seed: the line above repeats it
    with pytest.raises(ValidationError, match="the key 'seed' is given twice"):
        load_trial_design(path)


def test_a_trial_design_seed_with_a_leading_zero_is_the_decimal_number(tmp_path: Path) -> None:
    lines = [
        "seed: 0012" if line.startswith("seed:") else line for line in _design_text().splitlines()
    ]
    path = tmp_path / "design.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_trial_design(path).seed == 12  # YAML 1.1 read octal 10


def test_a_regimen_file_giving_a_key_twice_is_refused() -> None:
    text = "name: twice\nname: again\nitems: []\n"
    with pytest.raises(ValidationError, match="the key 'name' is given twice"):
        Regimen.from_yaml(text)
