"""``read_table`` given the cells of a sheet already read, rather than the file again."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_table
from immunoprecise.records.table import check_frame, read_frame


def _workbook(tmp_path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patient_id", "diagnosis", "crp_mg_per_dL", "os_days", "os_event"])
    for row in rows:
        sheet.append(row)
    path = tmp_path / "cohort.xlsx"
    workbook.save(path)
    return path


def test_the_cells_read_from_a_workbook_are_read_as_the_workbook(tmp_path: Path) -> None:
    path = _workbook(tmp_path, [["P1", "FL", 0.5, 100, 1], [None] * 5, ["P2", "FL", 1.2, 200, 0]])
    cells = read_frame(path)
    assert "diagnosis" in cells.columns  # looked at before the records are read
    from_cells, from_file = read_table(cells), read_table(path)
    assert from_cells.model_dump() == from_file.model_dump()
    assert from_cells.records[1].host.crp is not None
    assert from_cells.records[1].host.crp.value == 12  # mg/dL converted to mg/L


def test_messages_name_the_file_and_its_rows_as_for_the_file(tmp_path: Path) -> None:
    # an empty row 3: the bad cell is in row 4 of the sheet, as the file's own message says
    path = _workbook(tmp_path, [["P1", "FL", 0.5, 100, 1], [None] * 5, ["P2", "FL", -1, 200, 0]])
    with pytest.raises(ValidationError) as from_file:
        read_table(path)
    with pytest.raises(ValidationError) as from_cells:
        read_table(read_frame(path))
    assert str(from_cells.value) == str(from_file.value)
    assert from_cells.value.source == str(path)
    assert from_cells.value.problems[0].field == "row 4 (P2) column crp_mg_per_dL"


def test_a_frame_of_ones_own_is_checked_as_a_file_is() -> None:
    frame = pd.DataFrame(
        {"patient_id": [1001, 1002], "diagnosis": ["FL", "FL"], "pdl1_tps_percent": ["45%", "NA"]}
    )
    with pytest.raises(ValidationError) as info:
        read_table(frame)
    (problem,) = info.value.problems
    assert problem.field == "row 3 (1002) column pdl1_tps_percent"
    assert info.value.source == "(table)"
    frame.loc[1, "pdl1_tps_percent"] = ""
    cohort = read_table(frame)
    assert [r.patient_id for r in cohort.records] == ["1001", "1002"]
    assert cohort.records[0].tumor.pdl1_tps is not None
    assert cohort.records[0].tumor.pdl1_tps.value == 45


def test_a_sheet_is_refused_with_a_frame() -> None:
    frame = pd.DataFrame({"patient_id": ["P1"], "diagnosis": ["FL"]})
    with pytest.raises(ValidationError, match="sheet=0 is for Excel workbooks"):
        read_table(frame, sheet=0)


def test_relative_paths_are_read_from_the_folder_given(tmp_path: Path) -> None:
    frame = pd.DataFrame({"patient_id": ["P1"], "diagnosis": ["FL"]})
    assert read_table(frame).records[0].source_dir is None
    assert read_table(frame, folder=tmp_path).records[0].source_dir == tmp_path
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    assert read_table(path).records[0].source_dir == tmp_path


def test_check_frame_keeps_the_rows_of_the_cells_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("patient_id,diagnosis\nP1,FL\n,\nP2,FL\n", encoding="utf-8")
    cells = read_frame(path)
    assert cells.index.tolist() == [2, 4]
    checked = check_frame(cells)
    assert checked.index.tolist() == [2, 4]
    assert checked.attrs["source"] == str(path)
    # positions, not rows of a file: counted from row 2
    assert check_frame(cells.reset_index(drop=True)).index.tolist() == [2, 3]
