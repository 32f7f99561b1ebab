"""``immunoprecise evaluate`` on a workbook of several sheets: refused naming them, or read from
the sheet given with ``--sheet``."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from immunoprecise.cli import app

runner = CliRunner()


def _workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["exported from the tumour board list"])
    patients = workbook.create_sheet("Patients")
    patients.append(["patient_id", "diagnosis", "oncotree_code", "crp_mg_per_L"])
    patients.append(["WB-001", "Colon adenocarcinoma", "COAD", 4])
    workbook.save(path)
    return path


def test_a_workbook_of_several_sheets_is_refused_naming_them(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(_workbook(tmp_path / "board.xlsx"))])
    assert result.exit_code == 2
    assert "2 sheets with data: 'Notes', 'Patients'" in result.stderr
    assert "--sheet 'Notes'" in result.stderr
    assert "Traceback" not in result.output


def test_sheet_chooses_the_sheet_of_patients(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "board.xlsx")
    result = runner.invoke(app, ["evaluate", str(path), "--sheet", "Patients"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["patient_id"] == "WB-001"
