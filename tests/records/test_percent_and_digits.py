"""Both table readers agree on digits other than 0-9 and on '50%' typed as text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from immunoprecise import read_cohort
from immunoprecise.errors import ValidationError
from immunoprecise.records.columns import table_columns

READERS: list[Callable[[Path], Any]] = [read_cohort, table_columns]


def _csv(tmp_path: Path, column: str, cell: str, sep: str = ",") -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text(f"patient_id{sep}diagnosis{sep}{column}\nP1{sep}FL{sep}{cell}\n", "utf-8")
    return path


def _refusal(reader: Callable[[Path], Any], path: Path) -> str:
    with pytest.raises(ValidationError) as info:
        reader(path)
    return str(info.value)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("column", "cell", "plain"),
    [
        ("pdl1_tps_percent", "３", "'3'"),
        ("pdl1_tps_percent", "５０", "'50'"),
        ("crp_mg_per_L", "３.５", "'3.5'"),
        ("crp_mg_per_L", "٣", "'3'"),
        ("ecog", "２", "'2'"),
    ],
)
def test_digits_other_than_0_to_9_are_refused_with_the_number_in_0_to_9(
    tmp_path: Path, reader: Callable[[Path], Any], column: str, cell: str, plain: str
) -> None:
    message = _refusal(reader, _csv(tmp_path, column, cell))
    assert f"column {column} = {cell!r}" in message
    assert f"write the number with the digits 0-9: {plain}" in message


@pytest.mark.parametrize("cell", ["50%", "50 %", " 50% ", "12.5%"])
def test_percent_sign_in_a_percent_column_is_read_by_both_readers(
    tmp_path: Path, cell: str
) -> None:
    path = _csv(tmp_path, "pdl1_tps_percent", cell)
    expected = float(cell.strip().rstrip("%").strip())
    record = read_cohort(path).records[0]
    assert record.tumor.pdl1_tps is not None
    assert record.tumor.pdl1_tps.value == pytest.approx(expected)
    assert record.tumor.pdl1_tps.unit == "%"
    assert table_columns(path).number("tumor.pdl1_tps")[0] == pytest.approx(expected)


def test_percent_sign_with_a_decimal_comma_in_a_semicolon_table(tmp_path: Path) -> None:
    path = _csv(tmp_path, "pdl1_tps_percent", "12,5%", sep=";")
    record = read_cohort(path).records[0]
    assert record.tumor.pdl1_tps is not None
    assert record.tumor.pdl1_tps.value == pytest.approx(12.5)
    assert table_columns(path).number("tumor.pdl1_tps")[0] == pytest.approx(12.5)


def test_percent_typed_as_text_in_a_workbook_percent_column(tmp_path: Path) -> None:
    path = tmp_path / "cohort.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["patient_id", "diagnosis", "pdl1_tps_percent"])
    sheet.append(["P1", "FL", "50%"])
    book.save(path)
    record = read_cohort(path).records[0]
    assert record.tumor.pdl1_tps is not None
    assert record.tumor.pdl1_tps.value == pytest.approx(50)
    assert table_columns(path).number("tumor.pdl1_tps")[0] == pytest.approx(50)


@pytest.mark.parametrize("reader", READERS)
def test_percent_sign_in_a_column_with_another_unit_is_refused(
    tmp_path: Path, reader: Callable[[Path], Any]
) -> None:
    message = _refusal(reader, _csv(tmp_path, "crp_mg_per_L", "50%"))
    assert "column crp_mg_per_L = '50%'" in message
    assert "is a percentage, but this column is in mg/L" in message


@pytest.mark.parametrize("reader", READERS)
def test_percent_sign_in_a_column_without_unit_is_refused(
    tmp_path: Path, reader: Callable[[Path], Any]
) -> None:
    message = _refusal(reader, _csv(tmp_path, "ecog", "1%"))
    assert "column ecog = '1%'" in message
    assert "not in percent: write the number without '%'" in message


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("cell", "advice"), [("1.200%", "'1.200' could be"), ("３%", "0-9")])
def test_misleading_number_before_a_percent_sign_is_refused_as_written(
    tmp_path: Path, reader: Callable[[Path], Any], cell: str, advice: str
) -> None:
    message = _refusal(reader, _csv(tmp_path, "pdl1_tps_percent", cell))
    assert f"column pdl1_tps_percent = {cell!r}" in message
    assert advice in message
