"""A virtual patient without a tumor at baseline is NE under RECIST with a note in words, and
the other patients are still assessed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from immunoprecise.cli import app

runner = CliRunner()


def _table(*args: str) -> str:
    result = runner.invoke(app, ["simulate", "kuznetsov1994", *args], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_one_patient_without_tumor_gets_the_note_not_an_internal_message() -> None:
    out = _table("-i", "T=0", "--t-end", "10")
    assert "RECIST needs a tumor at baseline: 1 patient starts with 0 tumor cells (NE)" in out
    assert "burden[0, 0]" not in out


def test_the_other_patients_are_still_assessed(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("patient,T\nA,0\nB,2e6\n", encoding="utf-8")
    out = _table("--patients", str(path), "--t-end", "60")
    assert "RECIST 1.1 at scans on days 0, 56" in out
    assert "1 patient starts with 0 tumor cells (NE)" in out
    row_b = [cell.strip() for cell in out[out.index("│ B ") :].split("│")[1:7]]
    assert row_b[0] == "B"
    assert row_b[-1] == "SD", row_b
