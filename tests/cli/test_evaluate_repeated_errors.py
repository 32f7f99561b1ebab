"""A mistake of the command line that every patient meets (``--what-if crp=abc`` over a table
of patients) is reported once with the patients it stopped, not once per patient."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from immunoprecise.cli import app

runner = CliRunner()


def _table(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "patients.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "diagnosis", "oncotree_code", "crp_mg_per_L"])
        for i in range(1, n + 1):
            writer.writerow([f"P{i:03d}", "Colon adenocarcinoma", "COAD", 5 + i])
    return path


def test_the_same_what_if_error_is_listed_once(tmp_path: Path) -> None:
    table = _table(tmp_path, 30)
    result = runner.invoke(app, ["evaluate", str(table), "--what-if", "crp=abc", "-f", "jsonl"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("expected a number in mg/L") == 1
    assert f"error: {table}: patient P001: what-if overrides" in result.stderr
    # the others are named, and counted as not evaluated
    assert "the same error as patient P001 for 29 more patients: P002, P003," in result.stderr
    assert "30 patients could not be evaluated (see above)." in result.stderr
    assert len(result.stderr.splitlines()) < 10


def test_an_error_of_several_fields_is_listed_once(tmp_path: Path) -> None:
    table = _table(tmp_path, 2)
    result = runner.invoke(
        app, ["evaluate", str(table), "--what-if", "crp=abc", "--what-if", "tmb=-1"]
    )
    assert result.exit_code == 2
    assert result.stderr.count("expected a number in mg/L") == 1
    assert result.stderr.count("expected a number ≥ 0 mut/Mb") == 1
    assert "the same error as patient P001 for 1 more patient: P002" in result.stderr
    assert "2 patients could not be evaluated (see above)." in result.stderr


def test_a_table_given_twice_names_its_patients_once(tmp_path: Path) -> None:
    table = _table(tmp_path, 30)
    out = tmp_path / "out"
    result = runner.invoke(app, ["evaluate", str(table), str(table), "-f", "jsonl", "-o", str(out)])
    assert result.exit_code == 2
    assert (
        f"error: {table}: patient P001 was already evaluated from {table}; give each patient once"
        in result.stderr
    )
    assert f"error: {table}: 29 more patients already evaluated from {table}: P002, P003," in (
        result.stderr
    )
    assert "30 patients could not be evaluated (see above)." in result.stderr
    assert len(result.stderr.splitlines()) < 10
    lines = (out / "evaluations.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30  # each patient once
