"""Real-world spreadsheet exports: numbers in text columns, as Excel stores them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_table
from immunoprecise.records.columns import table_columns


def test_numbers_in_text_columns_of_a_workbook_are_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "patients.xlsx"
    pd.DataFrame(
        {
            "patient_id": [1001, 1002],  # numeric pseudonyms, stored by Excel as numbers
            "diagnosis": ["follicular lymphoma"] * 2,
            "stage": [4, 3],
            "histologic_grade": [2, 3.0],
            "risk_flipi_category": [2, 1],
            "treatment": [7, 7],
        }
    ).to_excel(path, index=False)
    cohort = read_table(path)
    assert [r.patient.id for r in cohort.records] == ["1001", "1002"]
    assert [r.disease.stage for r in cohort.records] == ["4", "3"]
    assert [r.disease.histologic_grade for r in cohort.records] == ["2", "3"]
    assert cohort.records[0].disease.risk_indices[0].category == "2"
    cols = table_columns(path)
    assert cols.patient_ids.tolist() == ["1001", "1002"]
    assert cols.text("disease.histologic_grade").tolist() == ["2", "3"]


def test_an_empty_column_without_a_name_is_left_out(tmp_path: Path) -> None:
    # a trailing delimiter, or a spreadsheet's formatted but empty column
    path = tmp_path / "t.csv"
    path.write_text("patient_id,diagnosis,crp_mg_per_L,\nP1,FL,3,\nP2,FL,4,\n", encoding="utf-8")
    assert [r.host.crp.value for r in read_table(path).records if r.host.crp] == [3, 4]
    assert table_columns(path).number("host.crp").tolist() == [3, 4]
    workbook = tmp_path / "t.xlsx"
    pd.DataFrame(
        [["patient_id", "diagnosis", None, "crp_mg_per_L"], ["P1", "FL", None, 3]]
    ).to_excel(workbook, index=False, header=False)
    (record,) = read_table(workbook).records
    assert record.host.crp is not None


def test_a_column_with_values_but_no_name_is_refused_by_its_position(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("patient_id,diagnosis,,crp_mg_per_L\nP1,FL,x,3\n", encoding="utf-8")
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        assert "column 3 (C): has values but no name" in str(info.value)


def test_a_date_in_a_text_column_is_refused_not_read_as_its_date(tmp_path: Path) -> None:
    # Excel turns a histologic grade typed as 1-2 into the date 2 January
    path = tmp_path / "t.xlsx"
    pd.DataFrame(
        {
            "patient_id": ["P1"],
            "diagnosis": ["follicular lymphoma"],
            "histologic_grade": [dt.datetime(2026, 1, 2)],
        }
    ).to_excel(path, index=False)
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        assert "row 2 (P1) column histologic_grade" in str(info.value)
        assert "a date in a text column" in str(info.value)


def _workbook(path: Path, header: list[str], row: list[Any], percent: set[str]) -> Path:
    """A workbook whose cells in the columns ``percent`` are formatted as percentages."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    sheet.append(row)
    for column, name in enumerate(header, start=1):
        if name in percent:
            sheet.cell(row=2, column=column).number_format = "0%"
    workbook.save(path)
    return path


def test_a_cell_shown_as_a_percentage_is_read_as_the_percentage_shown(tmp_path: Path) -> None:
    # Excel stores "50%" as 0.5: read as stored, a PD-L1 TPS of 50 % would be 0.5 %
    path = _workbook(
        tmp_path / "t.xlsx",
        ["patient_id", "diagnosis", "pdl1_tps_percent", "stromal_tils_percent"],
        ["P1", "NSCLC", 0.5, 0.07],
        {"pdl1_tps_percent", "stromal_tils_percent"},
    )
    (record,) = read_table(path).records
    assert record.tumor.pdl1_tps is not None
    assert record.tumor.pdl1_tps.value == 50
    assert record.microenvironment.stromal_tils is not None
    assert record.microenvironment.stromal_tils.value == 7
    cols = table_columns(path)
    assert cols.number("tumor.pdl1_tps")[0] == 50


def test_a_percentage_format_in_a_column_not_in_percent_is_refused(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "t.xlsx",
        ["patient_id", "diagnosis", "crp_mg_per_L"],
        ["P1", "FL", 0.05],
        {"crp_mg_per_L"},
    )
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        assert "row 2 (P1) column crp_mg_per_L" in str(info.value)
        assert "as a percentage (5%)" in str(info.value)


def test_a_date_time_cell_is_read_as_its_date_by_both_readers(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    pd.DataFrame(
        {
            "patient_id": ["P1"],
            "diagnosis": ["FL"],
            "collected_on": [dt.datetime(2026, 1, 5, 14, 30)],
            "burden_date": [dt.datetime(2026, 1, 2, 9, 0)],
            "burden_spd_mm2": [1200],
        }
    ).to_excel(path, index=False)
    (record,) = read_table(path).records
    assert record.collected_on == dt.date(2026, 1, 5)
    assert table_columns(path).text("collected_on")[0] == "2026-01-05"


def _rows_workbook(path: Path, rows: list[list[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


@pytest.mark.parametrize("marker", ["NA", "n/a", "NULL", "nan", "-"])
def test_a_missing_value_marker_typed_in_a_workbook_is_refused_as_in_a_csv(
    tmp_path: Path, marker: str
) -> None:
    # pandas.read_excel made these cells empty, so a workbook's 'NA' was read as no value
    header = ["patient_id", "diagnosis", "crp_mg_per_L"]
    workbook = _rows_workbook(tmp_path / "t.xlsx", [header, ["P1", "FL", marker]])
    text = tmp_path / "t.csv"
    text.write_text(f"{','.join(header)}\nP1,FL,{marker}\n", encoding="utf-8")
    for reader in (read_table, table_columns):
        messages = []
        for path in (workbook, text):
            with pytest.raises(ValidationError) as info:
                reader(path)
            messages.append([(p.field, p.value, p.message) for p in info.value.problems])
        assert messages[0] == messages[1]
        assert messages[0][0][:2] == ("row 2 (P1) column crp_mg_per_L", marker)


def test_none_as_prior_therapy_in_a_workbook_means_no_prior_therapy(tmp_path: Path) -> None:
    # pandas.read_excel made 'None' empty: the history read as not recorded, not as none
    path = _rows_workbook(
        tmp_path / "t.xlsx",
        [["patient_id", "diagnosis", "prior_therapies"], ["P1", "FL", "None"], ["P2", "FL", None]],
    )
    first, second = read_table(path).records
    assert first.patient.prior_therapies == ()
    assert second.patient.prior_therapies is None
    assert table_columns(path).number("patient.prior_therapies")[:1].tolist() == [0.0]


def test_a_workbook_with_blank_rows_and_trailing_empty_cells_keeps_its_row_numbers(
    tmp_path: Path,
) -> None:
    path = _rows_workbook(
        tmp_path / "t.xlsx",
        [
            ["patient_id", "diagnosis", "crp_mg_per_L", None, ""],
            ["P1", "FL", 3.0, None, ""],
            [],
            ["P2", "FL", "1,5"],
            [None, None, None, None],
        ],
    )
    with pytest.raises(ValidationError) as info:
        read_table(path)
    (problem,) = info.value.problems
    assert problem.field.startswith("row 4 (P2) column crp_mg_per_L")


def test_a_numeric_id_shown_with_leading_zeros_is_refused_not_read_without_them(
    tmp_path: Path,
) -> None:
    # hospital numbers typed as numbers and formatted "0000": shown as 0012, read as 12
    path = tmp_path / "t.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["patient_id", "diagnosis", "crp_mg_per_L"])
    workbook.active.append([12, "FL", 3.5])
    workbook.active.append([13, "FL", 4.5])
    workbook.active["A2"].number_format = "0000"
    workbook.active["C3"].number_format = "0.00"  # a number format outside the id column is fine
    workbook.save(path)
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        assert problem.field == "row 2 (12) column patient_id"
        assert "shows this identifier as 0012 with the number format '0000'" in problem.message
        assert "stores the number 12" in problem.message
    workbook.active["A2"].number_format = "General"
    workbook.save(path)
    assert [r.patient.id for r in read_table(path).records] == ["12", "13"]
