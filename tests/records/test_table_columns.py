"""The columnar table reader reads every column read_table reads, or refuses it: none is dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_table
from immunoprecise.records.columns import (
    cytokine_key,
    hypoxia_key,
    record_columns,
    risk_key,
    table_columns,
)

_TABLE = (
    "patient_id,diagnosis,comorbidities,cytokine_ifng_ng_per_L,hypoxia_ca9_percent,"
    "risk_flipi_score,risk_flipi_category,treatment,best_response,pfs_months,pfs_event,"
    "os_months,os_event\n"
    "P1,follicular lymphoma,type 2 diabetes; COPD,12,30,3,high,R2,pr,2,1,10,0\n"
    "P2,follicular lymphoma,,,,,,,,,,,\n"
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_column_read_table_reads_is_read_as_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, _TABLE)
    cols = table_columns(path)
    assert cols.text("patient.comorbidities").tolist() == [("type 2 diabetes", "COPD"), ()]
    assert cols.number(cytokine_key("ifng"))[0] == 12  # ng/L is pg/mL
    assert cols.number(hypoxia_key("ca9"))[0] == 30
    assert cols.number(risk_key("flipi", "score"))[0] == 3
    assert cols.text(risk_key("flipi", "category"))[0] == "high"
    assert cols.text("outcome.treatment")[0] == "R2"
    assert cols.text("outcome.best_response")[0] == "PR"
    assert cols.number("outcome.pfs")[0] == pytest.approx(60.875)
    assert cols.number("outcome.os_event")[0] == 0
    assert np.isnan(cols.number("outcome.pfs")[1])
    # the same values as the records read_table builds
    cohort = read_table(path)
    from_records = record_columns(cohort.records)
    for key in (
        "patient.comorbidities",
        cytokine_key("IFNG"),
        hypoxia_key("CA9"),
        risk_key("FLIPI", "score"),
    ):
        assert str(from_records.columns[key][0]) == str(cols.columns[key][0]), key
    outcome = cohort.outcome("P1")
    assert outcome is not None
    assert outcome.pfs is not None
    assert outcome.pfs.value == pytest.approx(cols.number("outcome.pfs")[0])


@pytest.mark.parametrize(
    ("column", "cell", "expected"),
    [
        ("comorbidities", "none", "not names"),
        ("cytokine_ifng_ng_per_L", "abc", "expected a number"),
        ("hypoxia_ca9_percent", "130", "0–100 %"),
        ("risk_flipi_score", "2.5", "an integer"),
        ("best_response", "great", "expected one of"),
    ],
)
def test_bad_cells_of_these_columns_are_refused_as_read_table_refuses_them(
    tmp_path: Path, column: str, cell: str, expected: str
) -> None:
    header, row = _TABLE.splitlines()[:2]
    cells = row.split(",")
    cells[header.split(",").index(column)] = cell
    path = _write(tmp_path, f"{header}\n{','.join(cells)}\n")
    with pytest.raises(ValidationError):
        read_table(path)
    with pytest.raises(ValidationError) as info:
        table_columns(path)
    assert f"row 2 (P1) column {column}" in str(info.value)
    assert expected in str(info.value)


def test_an_outcome_time_without_its_event_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "patient_id,diagnosis,pfs_days\nP1,FL,100\n")
    with pytest.raises(ValidationError) as info:
        table_columns(path)
    assert "give both pfs and pfs_event" in str(info.value)


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("antigens", "CD19:lineage"),
        ("antigens", "CD19:lineage:bright"),
        ("prior_therapies", "R-CHOP:great"),
    ],
)
def test_structured_cells_read_table_refuses_are_refused_as_columns(
    tmp_path: Path, column: str, cell: str
) -> None:
    path = _write(tmp_path, f"patient_id,diagnosis,{column}\nP1,FL,{cell}\n")
    with pytest.raises(ValidationError):
        read_table(path)
    with pytest.raises(ValidationError) as info:
        table_columns(path)
    assert f"row 2 (P1) column {column}" in str(info.value)


def _refusal(table: object) -> list[str]:
    with pytest.raises(ValidationError) as info:
        table_columns(table)  # type: ignore[arg-type]
    return [f"{p.field} = {p.value!r}: {p.message}" for p in info.value.problems]


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ("P1,FL,NA,1,II", "crp_mg_per_L"),
        ("P1,FL,3,1,#N/A", "stage"),
        ("P1,FL,3,-,II", "ecog"),
        ("P1,FL,3%,1,II", "crp_mg_per_L"),
    ],
)
def test_a_frame_is_refused_as_the_file_with_the_same_cells(
    tmp_path: Path, cells: str, column: str
) -> None:
    # a DataFrame skipped these checks: '#N/A' was read as a stage
    path = _write(tmp_path, f"patient_id,diagnosis,crp_mg_per_L,ecog,stage\n{cells}\n")
    from_file = _refusal(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert _refusal(frame) == from_file
    assert any(f"column {column}" in p for p in from_file)


def test_a_frame_reads_a_percentage_and_leaves_out_empty_rows_as_a_file() -> None:
    frame = pd.DataFrame(
        {
            "patient_id ": [1001, None, 1002],
            "diagnosis": ["FL", None, "FL"],
            "pdl1_tps_percent": ["45%", np.nan, 5],
            "ecog": pd.array([1, pd.NA, pd.NA], dtype="Int64"),
        }
    )
    cols = table_columns(frame)
    assert cols.n == 2
    assert cols.text("patient.id").tolist() == ["1001", "1002"]
    assert cols.number("tumor.pdl1_tps").tolist() == [45.0, 5.0]


def test_a_frame_with_a_column_name_twice_after_trimming_is_refused() -> None:
    frame = pd.DataFrame([["P1", "FL", 1, 2]], columns=["patient_id", "diagnosis", "ecog", "ecog "])
    assert _refusal(frame) == [
        "column ecog = None: column name is written more than once; keep one"
    ]
