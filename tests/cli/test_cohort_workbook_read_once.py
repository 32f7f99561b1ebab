"""A cohort workbook is read once by the cohort commands: its column names tell records from an
analysis table before its cells are read."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cli.cohort import load_cohort_frame
from immunoprecise.cohort import cohort_frame
from immunoprecise.data import example_path
from immunoprecise.records import table as records_table

runner = CliRunner()
ROWS = 60


def _cell(text: str) -> str | float | None:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _records_workbook(path: Path, *, empty_sheets: int = 0, first: str | None = None) -> Path:
    """The first patients of the example cohort as a workbook, with empty sheets after it (as
    an export leaves them) and, with ``first``, a sheet of that name holding a note before it."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if first is not None:
        sheet.title = first
        sheet.append(["exported from the trial database"])
        sheet = book.create_sheet("Cohort")
    else:
        sheet.title = "Cohort"
    with example_path("fl_cohort.csv").open(encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.reader(handle)):
            if i > ROWS:
                break
            sheet.append(row if i == 0 else [_cell(c) for c in row])
    for k in range(empty_sheets):
        book.create_sheet(f"Sheet{k + 2}")
    book.save(path)
    return path


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The workbooks whose cells are read, in order (the reader itself runs)."""
    seen: list[str] = []
    real = records_table.read_frame

    def counted(path: Path, *, sheet: str | int | None = None) -> Any:
        seen.append(Path(path).name)
        return real(path, sheet=sheet)

    monkeypatch.setattr(records_table, "read_frame", counted)
    return seen


@pytest.mark.parametrize("empty_sheets", [0, 2])
def test_a_records_workbook_is_read_once(
    tmp_path: Path, reads: list[str], empty_sheets: int
) -> None:
    path = _records_workbook(tmp_path / "cohort.xlsx", empty_sheets=empty_sheets)
    frame = load_cohort_frame(path)
    assert reads == ["cohort.xlsx"]
    assert len(frame) == ROWS
    assert frame.attrs["knowledge_base"]["version"]  # read as records, with their profiles


def test_a_named_sheet_of_records_is_read_once(tmp_path: Path, reads: list[str]) -> None:
    path = _records_workbook(tmp_path / "cohort.xlsx", first="Notes")
    out = tmp_path / "response.json"
    result = runner.invoke(
        app,
        [
            "cohort",
            "response",
            str(path),
            "--sheet",
            "Cohort",
            "--by",
            "risk.flipi:category",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert reads == ["cohort.xlsx"]
    saved = json.loads(out.read_text("utf-8"))
    assert sum(r["n"] for r in saved["rows"]) + len(saved["excluded"]) == ROWS


def test_an_analysis_workbook_is_read_once(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "analysis.xlsx"
    table = pd.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "os_days": [100.0, 200, 300], "os_event": [1, 0, 1]}
    )
    table.to_excel(path, index=False)
    frame = load_cohort_frame(path)
    assert reads == ["analysis.xlsx"]
    assert frame["os_days"].tolist() == [100.0, 200.0, 300.0]


def test_a_workbook_read_once_gives_the_table_read_before(tmp_path: Path) -> None:
    path = _records_workbook(tmp_path / "cohort.xlsx", empty_sheets=1)
    pd.testing.assert_frame_equal(load_cohort_frame(path), cohort_frame(path))


def test_the_sheet_errors_are_the_readers(tmp_path: Path) -> None:
    path = _records_workbook(tmp_path / "cohort.xlsx", first="Notes")
    unnamed = runner.invoke(app, ["cohort", "survival", str(path)])
    assert unnamed.exit_code == 2
    assert "2 sheets with data: 'Notes', 'Cohort'" in unnamed.stderr
    wrong = runner.invoke(app, ["cohort", "survival", str(path), "--sheet", "Patients"])
    assert wrong.exit_code == 2
    assert "no sheet named 'Patients'" in wrong.stderr
    assert "Traceback" not in unnamed.output + wrong.output
