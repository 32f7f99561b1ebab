"""`immunoprecise cohort`: tables that Excel saved as ';'-separated CSV (decimal commas)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cli.cohort import load_cohort_frame
from immunoprecise.data import example_path

runner = CliRunner()


def test_a_semicolon_table_of_records_is_read_as_read_cohort_reads_it(tmp_path: Path) -> None:
    cells = pd.read_csv(example_path("fl_cohort.csv"), dtype=str, keep_default_na=False)
    path = tmp_path / "fl_semicolon.csv"
    cells.to_csv(path, sep=";", index=False)
    frame = load_cohort_frame(path)
    expected = load_cohort_frame(example_path("fl_cohort.csv"))
    assert frame.shape == expected.shape
    pd.testing.assert_series_equal(frame["os_days"], expected["os_days"])
    result = runner.invoke(app, ["cohort", "survival", str(path), "--by", "risk.flipi:category"])
    assert result.exit_code == 0, result.output
    assert "log-rank χ² 29.559" in result.stdout


def test_a_semicolon_analysis_table_reads_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "analysis.csv"
    path.write_text(
        "sep=;\npatient_id;os_days;os_event;arm;tmb\n"
        "P1;120,5;1;A;4,2\nP2;300;0;A;10\nP3;50;1;B;2,5\nP4;80,25;0;B;7\n",
        encoding="utf-8",
    )
    frame = load_cohort_frame(path)
    assert frame["os_days"].tolist() == [120.5, 300.0, 50.0, 80.25]
    assert frame["tmb"].tolist() == [4.2, 10.0, 2.5, 7.0]
    out = tmp_path / "km.json"
    result = runner.invoke(
        app, ["cohort", "survival", str(path), "--by", "arm", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    curves = json.loads(out.read_text(encoding="utf-8"))["kaplan_meier"]["curves"]
    assert [c["n"] for c in curves] == [2, 2]
    assert 120.5 in curves[0]["times"]


def test_decimal_points_in_a_semicolon_table_stay_numbers(tmp_path: Path) -> None:
    path = tmp_path / "analysis.csv"
    path.write_text(
        "patient_id;os_days;os_event\nP1;120.5;1\nP2;300;0\nP3;50;1\n", encoding="utf-8"
    )
    assert load_cohort_frame(path)["os_days"].tolist() == [120.5, 300.0, 50.0]
