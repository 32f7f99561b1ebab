"""Tables as spreadsheets and statistics programs export them: separators, decimal commas,
missing-value markers, several sheets, old workbooks, empty rows and repeated keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_patient, read_patients, read_table
from immunoprecise.records.columns import table_columns

READERS: list[Callable[..., Any]] = [read_table, table_columns]


def _crp(path: Path, **options: Any) -> list[float]:
    """CRP (mg/L) of every patient, read by ``read_table``; checked against ``table_columns``."""
    records = read_table(path, **options).records
    values = [r.host.crp.value if r.host.crp else float("nan") for r in records]
    columns = table_columns(path, **options).number("host.crp").tolist()
    np.testing.assert_array_equal(values, columns)
    return values


def _refused(path: Path, reader: Callable[..., Any], **options: Any) -> str:
    with pytest.raises(ValidationError) as info:
        reader(path, **options)
    return str(info.value)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


# -- separators and decimal commas -------------------------------------------------------------


def test_a_semicolon_separated_csv_is_read_with_its_decimal_commas(tmp_path: Path) -> None:
    # Excel's "CSV" where the decimal mark is the comma (German, French, ... settings)
    path = _write(
        tmp_path / "t.csv",
        "patient_id;diagnosis;crp_mg_per_L;pdl1_tps_percent;stage\r\n"
        'P1;FL;1,5;50;"II, bulky"\r\n'
        "P2;FL;12;5,5;III\r\n",
    )
    assert _crp(path) == [1.5, 12]
    records = read_table(path).records
    assert [r.tumor.pdl1_tps.value for r in records if r.tumor.pdl1_tps] == [50, 5.5]
    assert records[0].disease.stage == "II, bulky"  # text is left as written


def test_a_semicolon_table_writing_decimals_both_ways_is_refused(tmp_path: Path) -> None:
    # with 2.5 written with a point, 1,500 could be 1.5 or 1500
    path = _write(tmp_path / "t.csv", "patient_id;diagnosis;crp_mg_per_L\nP1;FL;1,500\nP2;FL;2.5\n")
    for reader in READERS:
        message = _refused(path, reader)
        assert "both with a comma (row 2 (P1) column crp_mg_per_L '1,500')" in message
        assert "with a point (row 3 (P2) column crp_mg_per_L '2.5')" in message


def test_excel_separator_line_and_a_mislabelled_separator_are_read(tmp_path: Path) -> None:
    declared = _write(tmp_path / "a.csv", "sep=;\npatient_id;diagnosis;crp_mg_per_L\nP1;FL;2,5\n")
    assert _crp(declared) == [2.5]
    tabs = _write(tmp_path / "b.csv", "patient_id\tdiagnosis\tcrp_mg_per_L\nP1\tFL\t3\n")
    assert _crp(tabs) == [3]


def test_a_decimal_comma_in_a_comma_separated_row_is_refused_not_shifted(tmp_path: Path) -> None:
    # pandas would take the first cell as the row's index: the id 'FL', the diagnosis '1'
    path = _write(tmp_path / "t.csv", "patient_id,diagnosis,crp_mg_per_L\nP1,FL,1,5\nP2,FL,2,5\n")
    for reader in READERS:
        message = _refused(path, reader)
        assert "line 2: has 4 cells but the header has 3" in message
        assert "decimal comma" in message


# -- missing values --------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["NA", "N/A", "n/a", "null", ".", "-", "#N/A", "?"])
@pytest.mark.parametrize("column", ["crp_mg_per_L", "stage"])
def test_missing_value_markers_are_refused_with_how_to_write_a_missing_value(
    tmp_path: Path, marker: str, column: str
) -> None:
    path = _write(tmp_path / "t.csv", f"patient_id,diagnosis,{column}\nP1,FL,{marker}\n")
    for reader in READERS:
        message = _refused(path, reader)
        assert f"row 2 (P1) column {column} = {marker!r}" in message
        assert "leave the cell empty for a missing value" in message


def test_spreadsheet_error_cells_are_refused_not_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["patient_id", "diagnosis", "crp_mg_per_L"])
    sheet.append(["P1", "FL", "#DIV/0!"])  # stored as an error cell
    sheet.append([1002, "FL", "#VALUE!"])  # a numeric patient id, as a number
    workbook.save(path)
    for reader in READERS:
        message = _refused(path, reader)
        # named with the patient, as every other cell is
        assert "row 2 (P1) column crp_mg_per_L = '#DIV/0!': the workbook shows an error" in message
        assert "row 3 (1002) column crp_mg_per_L = '#VALUE!'" in message


# -- workbooks -------------------------------------------------------------------------------


def _workbook(
    path: Path, sheets: dict[str, list[list[Any]]], hidden: frozenset[str] = frozenset()
) -> Path:
    workbook = openpyxl.Workbook()
    for n, (title, rows) in enumerate(sheets.items()):
        sheet = workbook.active if n == 0 else workbook.create_sheet()
        assert sheet is not None
        sheet.title = title
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    workbook.save(path)
    return path


HEADER = ["patient_id", "diagnosis", "crp_mg_per_L"]


def test_a_workbook_with_several_sheets_of_data_is_refused_naming_them(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "t.xlsx",
        {"Old": [HEADER, ["P0", "FL", 9]], "Patients": [HEADER, ["P1", "FL", 3]]},
        hidden=frozenset({"Old"}),
    )
    for reader in [*READERS, read_patients]:
        message = _refused(path, reader)
        assert "2 sheets with data: 'Old' (hidden), 'Patients'" in message
        assert "sheet='Patients'" in message
    assert _crp(path, sheet="Patients") == [3]
    assert _crp(path, sheet=0) == [9]
    assert [r.patient.id for r in read_patients(path, sheet="Patients")] == ["P1"]
    message = _refused(path, read_table, sheet="patients")
    assert "no sheet named 'patients'; the workbook's sheets are 'Old', 'Patients'" in message


def test_the_one_sheet_with_data_is_read_and_named_in_messages(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "t.xlsx", {"Sheet1": [], "Patients": [HEADER, ["P1", "FL", "high"]]}
    )
    for reader in READERS:
        message = _refused(path, reader)
        assert "(sheet 'Patients'): 1 invalid field" in message
        assert "row 2 (P1) column crp_mg_per_L = 'high'" in message


def test_sheet_is_refused_for_a_text_table(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "patient_id,diagnosis\nP1,FL\n")
    assert "sheet='Patients' is for Excel workbooks" in _refused(path, read_table, sheet="Patients")


def test_an_xls_workbook_is_refused_with_what_to_save_it_as(tmp_path: Path) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    for name in ("t.xls", "renamed.xlsx"):  # an old workbook given the new suffix, too
        path = tmp_path / name
        path.write_bytes(ole2)
        for reader in [*READERS, read_patients]:
            message = _refused(path, reader)
            assert "Excel 97–2003 workbook (.xls), which is not read" in message
            assert "save it as an Excel workbook (.xlsx) or as CSV UTF-8" in message


# -- rows and cells --------------------------------------------------------------------------


def test_empty_rows_are_left_out_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv",
        "patient_id,diagnosis,crp_mg_per_L\nP1,FL,3\n,,\n\nP2,FL,high\n,,\n,,\n",
    )
    for reader in READERS:
        message = _refused(path, reader)
        assert "1 invalid field" in message
        assert "row 5 (P2) column crp_mg_per_L = 'high'" in message
    path.write_text("patient_id,diagnosis,crp_mg_per_L\nP1,FL,3\n,,\n,,\n", encoding="utf-8")
    assert _crp(path) == [3]


def test_a_row_without_a_patient_id_names_no_nan_patient(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", {"S": [HEADER, [None, "FL", 3]]})
    message = _refused(path, read_table)
    assert "row 2 (?) column" in message
    assert "nan" not in message


def test_two_columns_for_one_field_are_refused_by_both_readers(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv", "patient_id,diagnosis,crp_mg_per_L,crp_mg_per_dL\nP1,FL,3,4\n"
    )
    for reader in READERS:
        assert "fills host.crp like column crp_mg_per_L; keep one" in _refused(path, reader)


def test_true_or_false_in_a_number_column_is_refused_by_both_readers(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "t.xlsx", {"S": [HEADER, ["P1", "FL", True]]})
    for reader in READERS:
        assert "row 2 (P1) column crp_mg_per_L = True" in _refused(path, reader)


def test_a_table_not_in_utf8_is_refused_with_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("patient_id,diagnosis\nP1,Lymphome folliculaire é\n".encode("latin-1"))
    for reader in READERS:
        assert "is not UTF-8 text; save it as CSV UTF-8" in _refused(path, reader)


def test_export_details_are_read(tmp_path: Path) -> None:
    # BOM, CRLF, quoted cells with line breaks and separators, scientific notation, µ or u
    path = tmp_path / "t.csv"
    path.write_bytes(
        (
            "\ufeffpatient_id,diagnosis,crp_mg_per_L,lymphocytes_cells_per_µL,\r\n"
            'P1,"Follicular\r\nlymphoma, grade 2",1.5E+01,1.2e3,\r\n'
        ).encode()
    )
    (record,) = read_table(path).records
    assert record.disease.diagnosis == "Follicular\r\nlymphoma, grade 2"
    assert record.host.crp is not None
    assert record.host.crp.value == 15
    assert record.host.blood.lymphocytes is not None
    assert record.host.blood.lymphocytes.value == 1200
    assert table_columns(path).number("host.blood.lymphocytes").tolist() == [1200]


# -- documents -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("p.json", '{"patient": {"id": "P1"}, "disease": {"diagnosis": "FL"}, '
         '"host": {"crp": 3, "crp": 300}}'),
        ("p.yaml", "patient: {id: P1}\ndisease: {diagnosis: FL}\nhost:\n  crp: 3\n  crp: 300\n"),
    ],
)  # fmt: skip
def test_a_key_given_twice_in_a_document_is_refused(tmp_path: Path, name: str, text: str) -> None:
    # json and PyYAML keep the last silently: a CRP of 300 where 3 was also written
    path = _write(tmp_path / name, text)
    message = _refused(path, read_patient)
    assert "'crp' is given twice" in message


def test_a_document_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.json", "[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in _refused(path, read_patient)


# -- column names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "advice"),
    [
        ("crp (mg/L)", "write the unit in the name: 'crp_mg_per_L'"),
        ("Lymphocytes [10^9/L]", "write the unit in the name: 'lymphocytes_10^9_per_L'"),
        ("CD8 (cells/mm²)", "'/' written as '_per_' (crp_mg_per_L, ihc_cd8_tumor_core_"),
    ],
)
def test_a_unit_in_brackets_is_refused_with_the_name_to_write(
    tmp_path: Path, column: str, advice: str
) -> None:
    path = _write(tmp_path / "t.csv", f'patient_id,diagnosis,"{column}"\nP1,FL,3\n')
    for reader in READERS:
        assert advice in _refused(path, reader)


@pytest.mark.parametrize("micro", ["µ", "μ", "u"])  # micro sign, Greek mu, ASCII
def test_micro_is_read_in_any_spelling(tmp_path: Path, micro: str) -> None:
    path = _write(
        tmp_path / "t.csv", f"patient_id,diagnosis,lymphocytes_cells_per_{micro}L\nP1,FL,1200\n"
    )
    (record,) = read_table(path).records
    assert record.host.blood.lymphocytes is not None
    assert record.host.blood.lymphocytes.value == 1200
    assert table_columns(path).number("host.blood.lymphocytes").tolist() == [1200]


def test_a_quote_never_closed_is_named_by_its_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", 'patient_id,diagnosis\nP1,FL\n"P2,FL\nP3,FL\n')
    for reader in READERS:
        message = _refused(path, reader)
        assert "row 3: a cell opened with a double quote" in message
