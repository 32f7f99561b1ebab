"""A spreadsheet's number cell read as text: one rule for text columns and event columns."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from immunoprecise.records import read_table
from immunoprecise.records import table as table_module
from immunoprecise.records.cell_text import number_as_text
from immunoprecise.records.events import event_flags


def test_numbers_are_written_as_the_digits_a_spreadsheet_shows() -> None:
    assert number_as_text(1001.0) == "1001"
    assert number_as_text(1001) == "1001"
    assert number_as_text(2.5) == "2.5"
    assert number_as_text(-3.0) == "-3"


def test_the_table_reader_and_the_event_columns_share_one_rule() -> None:
    assert table_module.number_as_text is number_as_text
    flags, problems = event_flags("os_event", [1.0, 0.0, float("nan")])
    assert (flags, problems) == ([True, False, None], [])
    # a stray number is named as written, by the same rule: 2.0 is '2'
    _, (problem,) = event_flags("os_event", [1.0, 2.0, 5.5, 0.0, 1.0])
    assert problem.value == ["2", "5.5"]


def test_a_workbook_number_is_read_alike_as_an_id_and_as_an_event(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patient_id", "diagnosis", "os_days", "os_event"])
    sheet.append([1001.0, "FL", 100, 1.0])
    sheet.append([1002.0, "FL", 200, 0.0])
    path = tmp_path / "cohort.xlsx"
    workbook.save(path)
    cohort = read_table(path)
    assert [r.patient_id for r in cohort.records] == ["1001", "1002"]
    assert [o.os_event for o in cohort.outcomes] == [True, False]
