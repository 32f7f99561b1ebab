"""YAML records: plain scalars are read as written (YAML 1.2 core schema), never converted."""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoprecise import read_patient
from immunoprecise.errors import ValidationError

RECORD = """\
patient:
  id: {id}
  sex: {sex}
  age: 61
  prior_therapies:
  - name: R-CHOP
    start: {start}
disease: {{diagnosis: FL}}
host:
  crp: {{value: {crp}, unit: mg/L}}
"""


def _write(tmp_path: Path, **fields: str) -> Path:
    values = {"id": "P1", "sex": "female", "start": "2024-01-05", "crp": "3"} | fields
    path = tmp_path / "patient.yaml"
    path.write_text(RECORD.format(**values), encoding="utf-8")
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(ValidationError) as info:
        read_patient(path)
    return str(info.value)


@pytest.mark.parametrize("written", ["0012", "0x1F", "007"])
def test_id_with_leading_zero_or_hex_digits_is_kept_as_written(
    tmp_path: Path, written: str
) -> None:
    # YAML 1.1 read 0012 as the octal number 10 and 0x1F as 31, then refused them showing 10/31
    record = read_patient(_write(tmp_path, id=written))
    assert record.patient.id == written


def test_time_like_id_is_shown_as_written_not_in_base_60(tmp_path: Path) -> None:
    message = _refusal(_write(tmp_path, id="12:30"))
    assert "'12:30'" in message
    assert "750" not in message


@pytest.mark.parametrize("written", ["no", "yes", "off"])
def test_yes_no_is_text_and_refused_naming_the_allowed_values(tmp_path: Path, written: str) -> None:
    message = _refusal(_write(tmp_path, sex=written))
    assert f"patient.sex = '{written}'" in message
    assert "'female', 'male', 'other' or 'unknown'" in message
    assert "False" not in message
    assert "True" not in message


def test_exponent_without_a_dot_is_a_number(tmp_path: Path) -> None:
    record = read_patient(_write(tmp_path, crp="1e3"))
    assert record.host.crp is not None
    assert record.host.crp.value == pytest.approx(1000)


@pytest.mark.parametrize(("written", "expected"), [("2.5e-1", 0.25), (".5", 0.5), ("12", 12)])
def test_plain_numbers_are_still_numbers(tmp_path: Path, written: str, expected: float) -> None:
    record = read_patient(_write(tmp_path, crp=written))
    assert record.host.crp is not None
    assert record.host.crp.value == pytest.approx(expected)


def test_unquoted_date_is_read(tmp_path: Path) -> None:
    record = read_patient(_write(tmp_path, start="2024-01-05"))
    therapies = record.patient.prior_therapies
    assert therapies is not None
    assert therapies[0].start is not None
    assert therapies[0].start.isoformat() == "2024-01-05"


def test_impossible_unquoted_date_is_refused_naming_the_field(tmp_path: Path) -> None:
    # YAML 1.1 built a date while loading and failed there, outside the record's validation
    message = _refusal(_write(tmp_path, start="2024-02-30"))
    assert "patient.prior_therapies[0].start" in message
    assert "2024-02-30" in message


def test_underscored_number_is_refused_as_written(tmp_path: Path) -> None:
    # YAML 1.1 silently read 1_000 as 1000
    message = _refusal(_write(tmp_path, crp="1_000"))
    assert "host.crp" in message
    assert "'1_000'" in message


@pytest.mark.parametrize("written", ["12", "4711", "12345678901234567890123"])
def test_whole_number_id_is_read_as_its_digits(tmp_path: Path, written: str) -> None:
    # hospitals with numeric ids write them unquoted; the id was refused as "not a string"
    record = read_patient(_write(tmp_path, id=written))
    assert record.patient.id == written


@pytest.mark.parametrize(
    ("written", "number"), [("+12", "12"), ("!!int 0x1F", "31"), ("!!int 0012", "10"), ("-0", "0")]
)
def test_id_whose_number_differs_from_its_text_is_refused_with_quotes_advised(
    tmp_path: Path, written: str, number: str
) -> None:
    message = _refusal(_write(tmp_path, id=written))
    as_written = written.removeprefix("!!int ")
    assert "patient.id" in message
    assert f"{as_written} is read as the number {number}" in message
    assert f'write it in quotes: "{as_written}"' in message


@pytest.mark.parametrize("written", ["12.0", "1e3", "true"])
def test_decimal_or_flag_id_stays_refused(tmp_path: Path, written: str) -> None:
    message = _refusal(_write(tmp_path, id=written))
    assert "patient.id" in message
    assert "expected an identifier as text" in message


def test_json_whole_number_ids_are_read_as_digits_and_minus_zero_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    body = '{{"patient": {{"id": {id}}}, "disease": {{"diagnosis": "FL"}}, ' + (
        '"expression": {{"path": "m.tsv", "sample_id": {sample}}}}}'
    )
    path.write_text(body.format(id=4711, sample=7), encoding="utf-8")
    record = read_patient(path)
    assert record.patient.id == "4711"
    assert record.expression is not None
    assert record.expression.sample_id == "7"
    path.write_text(body.format(id="-0", sample=7), encoding="utf-8")
    assert "-0 is read as the number 0" in _refusal(path)
