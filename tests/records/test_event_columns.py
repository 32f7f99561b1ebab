"""Outcome event columns (``pfs_event``, ``os_event``) written as a clinical export writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_table
from immunoprecise.records.columns import table_columns

_HEADER = "patient_id,diagnosis,pfs_days,pfs_event,os_days,os_event\n"


def _write(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    """A table of one row per (pfs_event, os_event) pair."""
    lines = [f"P{i},FL,100,{pfs},200,{os}" for i, (pfs, os) in enumerate(rows, start=1)]
    path = tmp_path / "cohort.csv"
    path.write_text(_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("pfs", "os", "expected"),
    [
        ("progressed", "dead", (True, True)),
        ("No progression", "alive", (False, False)),
        ("relapsed", "Deceased", (True, True)),
        ("censored", "living", (False, False)),
        ("progression-free", "censored", (False, False)),
        ("yes", "no", (True, False)),
    ],
)
def test_unambiguous_event_words_are_read_by_both_table_readers(
    tmp_path: Path, pfs: str, os: str, expected: tuple[bool, bool]
) -> None:
    path = _write(tmp_path, [(pfs, os)])
    outcome = read_table(path).outcomes[0]
    assert (outcome.pfs_event, outcome.os_event) == expected
    cols = table_columns(path)
    assert (cols.number("outcome.pfs_event")[0], cols.number("outcome.os_event")[0]) == expected


def test_a_column_coded_1_2_is_refused_once_explaining_both_conventions(tmp_path: Path) -> None:
    # R's survival package: 1 = censored, 2 = event; read as 1/0, every 1 would flip
    path = _write(tmp_path, [("0", "1"), ("1", "2"), ("1", "2"), ("0", "2")])
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        problems = info.value.problems
        assert len(problems) == 1, problems
        (problem,) = problems
        assert problem.field == "column os_event"
        assert problem.value == ["1", "2"]
        message = problem.message
        assert "'1' (row 2 (P1))" in message
        assert "'2' (3 rows, the first row 3 (P2))" in message
        assert "1 as censored and 2 as the event" in message
        assert "write 1 for the event and 0 for censored" in message
        assert "Input should be a valid boolean" not in str(info.value)


def test_a_column_of_unreadable_words_gets_one_message_naming_values_and_accepted(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, [("alive", "dead"), ("alive", "alive"), ("maybe", "dead")])
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        assert problem.field == "column pfs_event"
        assert "'alive' (2 rows, the first row 2 (P1))" in problem.message
        assert "'maybe' (row 4 (P3))" in problem.message
        assert "accepted: 1/0, true/false, yes/no" in problem.message
        assert "progressed" in problem.message
        assert "no progression" in problem.message
        assert "a living patient may have progressed" in problem.message


def test_a_workbook_event_column_of_numbers_and_true_false_is_read(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patient_id", "diagnosis", "os_days", "os_event"])
    sheet.append(["P1", "FL", 100, 1])
    sheet.append(["P2", "FL", 200, False])
    sheet.append(["P3", "FL", 300, "Dead"])
    path = tmp_path / "cohort.xlsx"
    workbook.save(path)
    assert [o.os_event for o in read_table(path).outcomes] == [True, False, True]
    assert list(table_columns(path).number("outcome.os_event")) == [1.0, 0.0, 1.0]


def test_a_workbook_column_coded_1_2_as_numbers_is_refused(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patient_id", "diagnosis", "os_days", "os_event"])
    sheet.append([1001, "FL", 100, 1])
    sheet.append([1002, "FL", 200, 2])
    path = tmp_path / "cohort.xlsx"
    workbook.save(path)
    with pytest.raises(ValidationError) as info:
        read_table(path)
    (problem,) = info.value.problems
    assert problem.field == "column os_event"
    assert "'2' (row 3 (1002))" in problem.message


def test_missing_event_cells_stay_missing(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("patient_id,diagnosis,os_days,os_event\nP1,FL,100,dead\nP2,FL,,\n")
    assert [o.patient_id for o in read_table(path).outcomes] == ["P1"]
    assert np.isnan(table_columns(path).number("outcome.os_event")[1])


def test_a_stray_cell_in_a_column_otherwise_read_is_named_by_its_row(tmp_path: Path) -> None:
    # a typing slip among 0/1 is a cell to correct, named as every other bad cell is
    path = _write(tmp_path, [("0", "1"), ("1", "0"), ("1", "2"), ("0", "0")])
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        assert problem.field == "row 4 (P3) column os_event"
        assert problem.value == "2"
        assert problem.message.startswith("expected the event or censored: 1/0, true/false")
        assert "dead, deceased" in problem.message


def test_a_row_without_outcome_is_not_refused_beside_a_refused_event_cell(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(
        "patient_id,diagnosis,os_days,os_event\nP1,FL,100,dead\nP2,FL,,\nP3,FL,200,lost\n"
    )
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        assert [p.field for p in info.value.problems] == ["row 4 (P3) column os_event"]


@pytest.mark.parametrize(
    ("stray", "listed"),
    [
        ({3: "2", 5: "x"}, "row 4 (P3) '2' and row 6 (P5) 'x'"),
        ({3: "2", 5: "x", 6: "?!"}, "row 4 (P3) '2', row 6 (P5) 'x' and row 7 (P6) '?!'"),
    ],
)
def test_two_or_three_stray_cells_get_one_message_listing_their_rows(
    tmp_path: Path, stray: dict[int, str], listed: str
) -> None:
    rows = [("0", stray.get(i, "1" if i % 2 else "0")) for i in range(1, 9)]
    path = _write(tmp_path, rows)
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        assert problem.field == "column os_event"
        assert problem.value == list(stray.values())
        assert problem.message.startswith(
            f"{len(stray)} cells are not read as the event or censored: {listed}; accepted: "
            "1/0, true/false, yes/no, or the words dead"
        )
        # the accepted values are said once, not once per cell
        assert str(info.value).count("accepted") == 1


def test_many_stray_cells_are_named_once_by_value_with_the_values_to_correct(
    tmp_path: Path,
) -> None:
    rows = [("0", c) for c in ("1", "0", "2", "x", "2", "maybe", "1", "lost")]
    path = _write(tmp_path, rows)
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        assert problem.field == "column os_event"
        assert problem.value == ["2", "lost", "maybe", "x"]  # not the 0 and 1 that are read
        assert "'2' (2 rows, the first row 4 (P3))" in problem.message
        assert "'lost' (row 9 (P8))" in problem.message
