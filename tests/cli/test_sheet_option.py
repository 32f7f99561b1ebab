"""``--sheet`` on the commands that read a cohort table: the sheet of a workbook to read, refused
for files that are not workbooks, as ``evaluate --sheet`` is."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()
ROWS = 80  # patients of the example cohort copied into the workbook


def _cell(text: str) -> str | float | None:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


@pytest.fixture
def cohort_csv(tmp_path: Path) -> Path:
    """The first patients of the example cohort, as a CSV file."""
    lines = example_path("fl_cohort.csv").read_text("utf-8").splitlines(keepends=True)
    path = tmp_path / "cohort.csv"
    path.write_text("".join(lines[: ROWS + 1]), "utf-8")
    return path


@pytest.fixture
def workbook(tmp_path: Path, cohort_csv: Path) -> Path:
    """A workbook of two sheets with data: 'Notes' first, then 'Cohort' with the patients."""
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["exported from the follicular lymphoma registry"])
    sheet = book.create_sheet("Cohort")
    with cohort_csv.open(encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.reader(handle)):
            sheet.append(row if i == 0 else [_cell(c) for c in row])
    path = tmp_path / "cohort.xlsx"
    book.save(path)
    return path


def test_cohort_workbook_of_several_sheets_without_sheet_is_refused_naming_them(
    workbook: Path,
) -> None:
    result = runner.invoke(app, ["cohort", "survival", str(workbook)])
    assert result.exit_code == 2
    assert "2 sheets with data: 'Notes', 'Cohort'" in result.stderr
    assert "--sheet 'Notes' on the command line" in result.stderr
    assert "Traceback" not in result.output


def test_cohort_response_from_a_sheet_equals_the_same_table_as_csv(
    tmp_path: Path, workbook: Path, cohort_csv: Path
) -> None:
    by_sheet, by_csv = tmp_path / "sheet.json", tmp_path / "csv.json"
    args = ["--by", "risk.flipi:category"]
    result = runner.invoke(
        app,
        ["cohort", "response", str(workbook), "--sheet", "Cohort", *args, "--json", str(by_sheet)],
    )
    assert result.exit_code == 0, result.output
    reference = runner.invoke(
        app, ["cohort", "response", str(cohort_csv), *args, "--json", str(by_csv)]
    )
    assert reference.exit_code == 0, reference.output
    payload = json.loads(by_sheet.read_text("utf-8"))
    assert payload == json.loads(by_csv.read_text("utf-8"))
    assert sum(row["n"] for row in payload["rows"]) == ROWS


@pytest.mark.parametrize(
    "args",
    [
        ["survival", "--endpoint", "pfs", "--by", "risk.flipi:category"],
        ["cutpoint", "density.FOXP3.interfollicular", "--n-boot", "20"],
        ["predictors", "--predictor", "crp", "--outcome", "best_response"],
    ],
    ids=["survival", "cutpoint", "predictors"],
)
def test_cohort_commands_read_the_sheet_given(workbook: Path, args: list[str]) -> None:
    command, *options = args
    result = runner.invoke(app, ["cohort", command, str(workbook), *options, "--sheet", "Cohort"])
    assert result.exit_code == 0, result.output


def test_cohort_report_reads_the_sheet_given(tmp_path: Path, workbook: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["cohort", "report", str(workbook), "--sheet", "Cohort", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_cohort_sheet_that_does_not_exist_is_refused_naming_the_sheets(workbook: Path) -> None:
    result = runner.invoke(app, ["cohort", "survival", str(workbook), "--sheet", "Patients"])
    assert result.exit_code == 2
    assert "no sheet named 'Patients'" in result.stderr
    assert "Traceback" not in result.output


def test_cohort_sheet_for_a_csv_file_is_refused(cohort_csv: Path) -> None:
    result = runner.invoke(app, ["cohort", "survival", str(cohort_csv), "--sheet", "Cohort"])
    assert result.exit_code == 2
    assert "sheet='Cohort' is for Excel workbooks" in result.stderr


def test_cohort_sheet_for_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "icb"
    folder.mkdir()
    result = runner.invoke(app, ["cohort", "survival", str(folder), "--sheet", "Cohort"])
    assert result.exit_code == 2
    assert "--sheet is for Excel workbooks, not a folder" in result.stderr


def test_db_import_reads_the_sheet_named(workbook: Path, cohort_csv: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    assert runner.invoke(app, ["db", "init", "--db", url]).exit_code == 0
    refused = runner.invoke(app, ["db", "import", str(workbook), "--db", url, "--actor", "ann"])
    assert refused.exit_code == 2
    assert "Cohort" in refused.output
    assert "Notes" in refused.output
    read = runner.invoke(
        app, ["db", "import", str(workbook), "--sheet", "Cohort", "--db", url, "--actor", "ann"]
    )
    assert read.exit_code == 0, read.output
    assert f"{ROWS} rows, {ROWS} new" in read.output
    # the same patients as the CSV: importing it changes nothing
    again = runner.invoke(app, ["db", "import", str(cohort_csv), "--db", url, "--actor", "ann"])
    assert again.exit_code == 0, again.output
    assert f"{ROWS} rows, 0 new, 0 updated, {ROWS} unchanged" in again.output


def test_db_import_refuses_a_sheet_when_no_file_is_a_workbook(
    cohort_csv: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    assert runner.invoke(app, ["db", "init", "--db", url]).exit_code == 0
    result = runner.invoke(
        app, ["db", "import", str(cohort_csv), "--sheet", "Cohort", "--db", url, "--actor", "ann"]
    )
    assert result.exit_code == 2
    assert "is for Excel workbooks, and none of the files is one" in result.output
