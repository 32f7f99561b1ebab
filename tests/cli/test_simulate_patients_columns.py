"""A column of a `simulate --patients` table that is no parameter or state says what it was
likely meant as: a body size is an option, and names are case-sensitive."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from immunoprecise.cli import app

runner = CliRunner()


def _run(tmp_path: Path, table: str) -> str:
    path = tmp_path / "patients.csv"
    path.write_text(table, encoding="utf-8")
    args = ["simulate", "kuznetsov1994", "--patients", str(path), "--t-end", "10"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_a_weight_column_points_to_the_body_weight_option(tmp_path: Path) -> None:
    said = _run(tmp_path, "patient,T,weight_kg\nA,1e6,70\nB,2e6,80\n")
    assert "column weight_kg" in said
    assert "--body-weight" in said


def test_a_state_in_another_case_is_named(tmp_path: Path) -> None:
    said = _run(tmp_path, "patient,t\nA,1e6\n")
    assert "did you mean 'T'?" in said
