"""Analysis tables exported from spreadsheets: empty rows below the data, ids read as floats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort import cohort_frame, kaplan_meier
from immunoprecise.errors import CohortError

runner = CliRunner()
EXPORT = "patient_id,os_days,os_event,arm\nP1,120,1,A\nP2,300,0,A\nP3,50,1,B\nP4,80,0,B\n"


def test_empty_rows_below_the_data_are_not_patients(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(EXPORT + ",,,\n,,,\n", encoding="utf-8")
    frame = cohort_frame(pd.read_csv(path))
    assert list(frame.index) == ["P1", "P2", "P3", "P4"]
    km = kaplan_meier(frame, group="arm")
    assert km.excluded == ()
    assert [c.n for c in km.curves] == [2, 2]


def test_the_command_reads_an_export_with_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(EXPORT + ",,,\n,,,\n", encoding="utf-8")
    result = runner.invoke(app, ["cohort", "survival", str(path), "--by", "arm"])
    assert result.exit_code == 0, result.output
    assert "log-rank" in result.stdout
    assert "left out" not in result.stdout


def test_a_row_with_values_but_no_id_is_refused() -> None:
    table = pd.DataFrame(
        {"patient_id": ["P1", None, "P3"], "os_days": [10.0, 20, 30], "os_event": [1, 0, 1]}
    )
    with pytest.raises(CohortError, match=r"row 2 of the table .* has values but no patient_id"):
        cohort_frame(table)


def test_whole_number_ids_are_kept_as_written() -> None:
    table = pd.DataFrame(
        {
            "patient_id": [101.0, 102.0, 103.0, np.nan],  # as read beside an empty row
            "os_days": [10.0, np.nan, 30, np.nan],
            "os_event": [1, 0, 1, np.nan],
        }
    )
    frame = cohort_frame(table)
    assert [str(i) for i in frame.index] == ["101", "102", "103"]
    assert kaplan_meier(frame).excluded == ("102",)


def test_a_patient_indexed_without_any_value_is_kept_and_listed() -> None:
    table = pd.DataFrame(
        {"os_days": [10.0, np.nan, 30], "os_event": [1, np.nan, 1]},
        index=pd.Index(["P1", "P2", "P3"], name="patient_id"),
    )
    assert list(cohort_frame(table).index) == ["P1", "P2", "P3"]
    assert kaplan_meier(table).excluded == ("P2",)
