"""Cohort tables whose rows disagree with themselves or with each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_table
from immunoprecise.records.columns import table_columns


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_pfs_longer_than_os_is_refused_by_both_readers_naming_both_columns(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "patient_id,diagnosis,os_months,os_event,pfs_months,pfs_event\n"
        "P1,FL,12.5,dead,14,progressed\n"
        "P2,FL,30,alive,12,progressed\n",
    )
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        # was "(record)" for read_table, and no problem at all for table_columns
        assert problem.field == "row 2 (P1) column pfs_months, os_months"
        assert problem.message.startswith("pfs (426.125 days) is longer than os (380.469 days)")


def test_an_outcome_time_without_its_event_names_the_column_not_the_record(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "patient_id,diagnosis,pfs_days,pfs_event\nP1,FL,,0\n")
    with pytest.raises(ValidationError) as info:
        read_table(path)
    (problem,) = info.value.problems
    assert problem.field == "row 2 (P1) column pfs_event"
    assert problem.value == "0"  # as written, not as read
    assert problem.message == "give both pfs and pfs_event, or neither"


def test_a_patient_id_on_two_rows_is_refused_naming_the_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "patient_id,diagnosis,crp_mg_per_L\nP1,FL,3\nP2,FL,4\nP1,FL,5\nP3,FL,\n"
    )
    for reader in (read_table, table_columns):  # table_columns accepted both rows
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        assert problem.field == "column patient_id"
        assert problem.value == "P1"
        assert problem.message.startswith(
            "occurs more than once, in rows 2, 4: a table has one row per patient"
        )
