"""Files as other programs export them: a title above the column names, UTF-16 text, date-times."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from immunoprecise import read_patient, read_patients
from immunoprecise.errors import ValidationError
from immunoprecise.records.columns import table_columns

_NAMES_IN_ROW_2 = (
    "the column names are in row 2 (where 'patient_id' is), not in row 1: delete the rows "
    "above them"
)


def _problems(read: object, path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        read(path)  # type: ignore[operator]
    return [(p.field, p.message) for p in info.value.problems]


@pytest.mark.parametrize(
    "title", ["Immunology export 2026-01-05", "Immunology export 2026-01-05,,"]
)
def test_a_title_line_above_the_column_names_of_a_csv_is_named(tmp_path: Path, title: str) -> None:
    # was: "line 2: has 3 cells but the header has 1: a separator inside a cell ..." or
    # "column 2 (B): has values but no name", neither naming the title
    path = tmp_path / "export.csv"
    path.write_text(f"{title}\npatient_id,diagnosis,crp_mg_per_L\nP1,FL,3\n", encoding="utf-8")
    for read in (read_patients, table_columns):
        ((field, message),) = _problems(read, path)
        assert field == "row 1"
        assert message.startswith(_NAMES_IN_ROW_2)


def test_a_merged_title_row_above_the_column_names_of_a_workbook_is_named(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Immunology export 2026-01-05"])
    sheet.merge_cells("A1:C1")
    sheet.append(["patient_id", "diagnosis", "crp_mg_per_L"])
    sheet.append(["P1", "FL", 3])
    workbook.save(path)
    for read in (read_patients, table_columns):
        ((field, message),) = _problems(read, path)
        assert field == "row 1"
        assert message.startswith(_NAMES_IN_ROW_2)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_two_row_group_header_is_named_with_where_the_names_are(
    tmp_path: Path, suffix: str
) -> None:
    # a merged "Laboratory" cell above crp/ldh, the identifying columns merged down over both
    # rows; was: "unknown column 'Laboratory'" and "column 4 (D): has values but no name"
    path = tmp_path / f"export{suffix}"
    rows = [
        ["patient_id", "diagnosis", "Laboratory", None],
        [None, None, "crp_mg_per_L", "ldh_U_per_L"],
        ["P1", "FL", 3, 200],
    ]
    if suffix == ".xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for row in rows:
            sheet.append(row)
        for cells in ("A1:A2", "B1:B2", "C1:D1"):
            sheet.merge_cells(cells)
        workbook.save(path)
    else:
        path.write_text(
            "\n".join(",".join("" if c is None else str(c) for c in row) for row in rows),
            encoding="utf-8",
        )
    for read in (read_patients, table_columns):
        ((field, message),) = _problems(read, path)
        assert field == "row 1"
        assert message.startswith(
            "the column names are split over rows 1 and 2: row 2 names column(s) "
            "C (crp_mg_per_L), D (ldh_U_per_L) below the group header 'Laboratory' in row 1"
        )
        assert "write every column name in row 2" in message
        assert "delete row 1" in message


def test_a_group_header_above_names_with_units_in_brackets_is_named_as_split(
    tmp_path: Path,
) -> None:
    # a clinical export: a merged "Laboratory" above "CRP (mg/dL)" and "LDH (U/L)", and the
    # other names merged down over both rows; was: "column 4 (D): has values but no name"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (
        ["Patient ID", "Diagnosis", "Laboratory", None],
        [None, None, "CRP (mg/dL)", "LDH (U/L)"],
        ["P1", "NSCLC", 1.2, 250],
    ):
        sheet.append(row)
    for cells in ("A1:A2", "B1:B2", "C1:D1"):
        sheet.merge_cells(cells)
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    for read in (read_patients, table_columns):
        ((field, message),) = _problems(read, path)
        assert field == "row 1"
        assert message.startswith(
            "the column names are split over rows 1 and 2: row 2 names column(s) "
            "C (CRP (mg/dL)), D (LDH (U/L)) below the group header 'Laboratory' in row 1"
        )
        assert "has values but no name" not in message


def test_a_table_without_patient_id_anywhere_is_refused_as_before(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,diagnosis\nP1,FL\n", encoding="utf-8")
    assert not any(_NAMES_IN_ROW_2 in m for _, m in _problems(table_columns, path))


@pytest.mark.parametrize(
    ("name", "text", "encoding"),
    [
        ("t.csv", "patient_id\tdiagnosis\nP1\tFL\n", "utf-16"),  # Excel's "Unicode Text"
        ("t.tsv", "patient_id\tdiagnosis\nP1\tFL\n", "utf-16-le"),  # no byte-order mark
        ("p.json", '{"patient": {"id": "P1"}, "disease": {"diagnosis": "FL"}}', "utf-16"),
        ("p.yaml", "patient: {id: P1}\ndisease: {diagnosis: FL}\n", "utf-16-be"),
    ],
)
def test_utf16_text_is_named_with_how_to_save_it(
    tmp_path: Path, name: str, text: str, encoding: str
) -> None:
    # was: "holds NUL bytes: a binary file, or text not in UTF-8"
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    ((field, message),) = _problems(read_patients, path)
    assert field == "(file)"
    assert message.startswith("is UTF-16 text")
    assert "save it as UTF-8 text" in message


def test_a_binary_file_is_still_named_binary(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"PK\x03\x04\x00\x00\x00\x00\x14\x00")
    ((_, message),) = _problems(read_patient, path)
    assert message.startswith("holds NUL bytes")


@pytest.mark.parametrize("written", ["2026-01-05 13:45", "2026-01-05T13:45:00+01:00"])
def test_a_date_time_in_a_date_field_says_to_write_the_date(tmp_path: Path, written: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"patient_id,diagnosis,collected_on\nP1,FL,{written}\n", encoding="utf-8")
    ((field, message),) = _problems(read_patients, path)
    assert field == "row 2 (P1) column collected_on"
    assert "the field holds a date without a time of day: write 2026-01-05" in message
