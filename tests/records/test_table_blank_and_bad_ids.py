"""A blank or malformed patient id in a cohort table is named once, under ``patient_id``."""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_table
from immunoprecise.records.columns import table_columns

_ID_EXPECTED = "expected a pseudonymous identifier of 1–64 characters"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_blank_id_is_reported_once_under_patient_id(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "patient_id,diagnosis,age_years,os_days,os_event\n,FL,60,100,1\nP-2,FL,61,200,0\n",
    )
    with pytest.raises(ValidationError) as info:
        read_table(path)
    # was also "row 2 (?) column (outcome)" = '?': expected a pseudonymous identifier …
    assert [(p.field, p.value) for p in info.value.problems] == [
        ("row 2 (?) column patient_id", None)
    ]
    assert info.value.problems[0].message.startswith("required field is missing")


def test_a_malformed_id_is_reported_once_with_every_other_problem_kept(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "patient_id,diagnosis,age_years,os_days,os_event\nPé-1,FL,-3,200,0\nP-2,FL,61,200,0\n",
    )
    with pytest.raises(ValidationError) as info:
        read_table(path)
    fields = [p.field for p in info.value.problems]
    # was listed a second time as "row 2 (Pé-1) column (outcome)"
    assert sorted(fields) == ["row 2 (Pé-1) column age_years", "row 2 (Pé-1) column patient_id"]
    (bad_id,) = [p for p in info.value.problems if p.field.endswith("patient_id")]
    assert bad_id.value == "Pé-1"
    assert bad_id.message.startswith(_ID_EXPECTED)


def test_the_columnar_reader_refuses_a_malformed_id_as_read_table_does(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "patient_id,diagnosis,os_days,os_event\nPé-1,FL,200,0\nP-2,FL,300,1\n,FL,100,1\n",
    )
    with pytest.raises(ValidationError) as info:
        table_columns(path)  # accepted 'Pé-1' as an id
    problems = sorted((p.field, p.value) for p in info.value.problems)
    assert problems == [
        ("row 2 (Pé-1) column patient_id", "Pé-1"),
        ("row 4 (?) column patient_id", ""),
    ]
    (bad_id,) = [p for p in info.value.problems if p.value == "Pé-1"]
    assert bad_id.message.startswith(_ID_EXPECTED)
