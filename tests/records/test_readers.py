"""Readers: JSON, YAML, CSV, TSV and Excel, with conversion on read and clear refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from immunoprecise import read_cohort, read_patient, read_patients
from immunoprecise.errors import ValidationError
from immunoprecise.records.columns import table_columns


def test_json(write_json: Callable[..., Path], minimal: dict[str, Any]) -> None:
    record = read_patient(write_json(minimal))
    assert record.patient.age is not None
    assert record.patient.age.value == 61


def test_yaml(tmp_path: Path, minimal: dict[str, Any]) -> None:
    minimal["host"]["crp"] = "2.5 mg/dL"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(minimal, allow_unicode=True), encoding="utf-8")
    record = read_patient(path)
    assert record.host.crp is not None
    assert record.host.crp.value == pytest.approx(25)
    assert read_patients(path) == [record]


def _problem_messages(path: Path, reader: Callable[[Path], Any] = read_patient) -> str:
    with pytest.raises(ValidationError) as info:
        reader(path)
    return str(info.value)


def test_malformed_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"patient": {"id": "X"},\n "disease": }', encoding="utf-8")
    assert "not valid JSON" in _problem_messages(path)
    assert "line 2" in _problem_messages(path)


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("patient:\n  id: X\n disease: [", encoding="utf-8")
    assert "not valid YAML" in _problem_messages(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.json", "", "is empty"),
        ("list.json", "[1, 2]", "must hold one record"),
        ("patient.txt", "{}", "unknown file type"),
        ("binary.json", b"\xff\xfe\x00\x01garbage", "UTF-8"),
    ],
)
def test_unusable_files(tmp_path: Path, name: str, content: str | bytes, expected: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert expected in _problem_messages(path)


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _problem_messages(tmp_path / "absent.json")


def test_invalid_record_names_file_and_field(
    write_json: Callable[..., Path], minimal: dict[str, Any]
) -> None:
    minimal["host"]["crp"] = "-1 mg/L"
    message = _problem_messages(write_json(minimal))
    assert "patient.json" in message
    assert "host.crp" in message


TABLE = """patient_id,age_years,sex,diagnosis,oncotree_code,crp_mg_per_dL,lymphocytes_1e9_per_L,\
ihc_cd8_interfollicular_cells_per_mm2,ihc_foxp3_interfollicular_cells_per_mm2,driver_mutations,\
antigens,prior_therapies,risk_flipi_score,risk_flipi_category,burden_date,burden_spd_mm2,\
cytokine_il10_pg_per_mL,pfs_months,pfs_event,os_months,os_event,best_response
P1,64,male,Follicular lymphoma,FL,1.2,0.9,150,100,EZH2 Y641F,CD20:lineage:positive,R-CHOP:CR,2,\
intermediate,2025-03-01,2400,8,14,1,30,0,PR
P2,51,female,Follicular lymphoma,FL,,1.6,80,,,,,,,,,,20,0,20,0,
"""


def test_csv_table(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text(TABLE, encoding="utf-8")
    cohort = read_cohort(path)
    p1, p2 = cohort.records
    assert p1.host.crp is not None
    assert p1.host.crp.value == pytest.approx(12)
    assert p1.host.blood.lymphocytes is not None
    assert p1.host.blood.lymphocytes.value == pytest.approx(900)
    assert p1.microenvironment.density("FOXP3", "interfollicular") == 100
    assert p1.tumor.driver_mutations[0].gene == "EZH2"
    assert p1.tumor.antigens[0].name == "CD20"
    assert p1.patient.prior_therapies[0].best_response is not None
    assert p1.disease.risk_indices[0].name == "FLIPI"
    assert p1.disease.risk_indices[0].score == 2
    assert p1.disease.burden[0].spd is not None
    assert p1.disease.burden[0].spd.value == 2400
    assert p1.host.cytokines["IL10"].value == 8
    assert p2.host.crp is None  # empty cell = missing, not zero
    out1 = cohort.outcome("P1")
    assert out1 is not None
    assert out1.pfs is not None
    assert out1.pfs.value == pytest.approx(14 * 365.25 / 12)  # Julian month
    assert out1.pfs_event is True
    assert out1.os_event is False
    assert [r.patient_id for r in read_patients(path)] == ["P1", "P2"]


def test_tsv_and_excel_match_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "cohort.csv"
    csv_path.write_text(TABLE, encoding="utf-8")
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    tsv_path = tmp_path / "cohort.tsv"
    frame.to_csv(tsv_path, sep="\t", index=False)
    xlsx_path = tmp_path / "cohort.xlsx"
    numeric = pd.read_csv(csv_path)  # typed cells, NaN for empty, as Excel users write them
    numeric["burden_date"] = pd.to_datetime(numeric["burden_date"])
    numeric.to_excel(xlsx_path, index=False)
    expected = read_cohort(csv_path)
    assert read_cohort(tsv_path) == expected
    assert read_cohort(xlsx_path) == expected


def test_single_row_table_is_one_patient(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("patient_id,diagnosis,crp_mg_per_L\nP9,NSCLC,4\n", encoding="utf-8")
    assert read_patient(path).patient_id == "P9"
    two = tmp_path / "two.csv"
    two.write_text("patient_id,diagnosis\nA,x\nB,y\n", encoding="utf-8")
    assert "holds 2 patients" in _problem_messages(two)


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("crp_mg_per_L", "abc", "row 2 (P1) column crp_mg_per_L"),
        ("crp_mg_per_L", "-5", "outside the plausible range"),
        ("crp", "5", "needs its unit in the name"),
        ("crp_cells_per_uL", "5", "unknown column 'crp_cells_per_uL'"),
        ("cpr_mg_per_L", "5", "did you mean 'crp_mg_per_L'"),
        ("ecog", "9", "row 2 (P1) column ecog"),
        ("ihc_cd8_core_cells_per_mm2", "5", "unknown column"),
        ("pfs_days", "-3", "column pfs_days"),
    ],
)
def test_bad_cells_name_row_and_column(
    tmp_path: Path, header: str, row: str, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"patient_id,diagnosis,{header}\nP1,FL,{row}\n", encoding="utf-8")
    assert expected in _problem_messages(path, read_patients)


def test_two_columns_for_one_field(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(
        "patient_id,diagnosis,crp_mg_per_L,crp_mg_per_dL\nP1,FL,4,0.4\n", encoding="utf-8"
    )
    assert "keep one" in _problem_messages(path, read_patients)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx"])
def test_a_column_written_twice_is_refused_by_its_own_name(tmp_path: Path, suffix: str) -> None:
    # pandas reads the second as "crp_mg_per_L.1"; the message names the column as written
    path = tmp_path / f"t{suffix}"
    rows = [["patient_id", "diagnosis", "crp_mg_per_L", " crp_mg_per_L"], ["P1", "FL", "4", "5"]]
    if suffix == ".xlsx":
        pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path, index=False)
    else:
        sep = "\t" if suffix == ".tsv" else ","
        path.write_text("\n".join(sep.join(r) for r in rows) + "\n", encoding="utf-8")
    message = _problem_messages(path, read_patients)
    assert "column crp_mg_per_L: column name is written more than once" in message
    assert ".1" not in message


def test_a_column_named_like_a_pandas_repeat_is_not_called_repeated(tmp_path: Path) -> None:
    # and its unit is not read as "mg/L × 0.1"
    path = tmp_path / "t.csv"
    path.write_text("patient_id,diagnosis,crp_mg_per_L.1\nP1,FL,4\n", encoding="utf-8")
    message = _problem_messages(path, read_patients)
    assert "unknown column 'crp_mg_per_L.1'; did you mean 'crp_mg_per_L'?" in message
    assert "more than once" not in message


def test_a_power_of_ten_written_10e9_in_a_column_name_is_ten_to_the_ninth(tmp_path: Path) -> None:
    lymphocytes = []
    for token in ("10e9", "1e9"):
        path = tmp_path / f"{token}.csv"
        path.write_text(f"patient_id,diagnosis,lymphocytes_{token}_per_L\nP1,FL,1.2\n")
        lymphocytes += read_patients(path)
    first, second = lymphocytes
    assert first.host.blood.lymphocytes == second.host.blood.lymphocytes
    assert first.host.blood.lymphocytes is not None
    assert first.host.blood.lymphocytes.to("cells/µL") == pytest.approx(1200.0)


def test_one_bad_row_rejects_the_table(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "patient_id,diagnosis,age_years\nP1,FL,50\nP2,FL,500\nP3,FL,40\n", encoding="utf-8"
    )
    message = _problem_messages(path, read_patients)
    assert "row 3 (P2) column age_years" in message
    assert "P1" not in message


def test_duplicate_patient_ids(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("patient_id,diagnosis\nP1,FL\nP1,FL\n", encoding="utf-8")
    assert "more than once" in _problem_messages(path, read_cohort)


def test_pfs_longer_than_os_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "patient_id,diagnosis,pfs_days,pfs_event,os_days,os_event\nP1,FL,400,1,300,0\n",
        encoding="utf-8",
    )
    assert "cannot exceed" in _problem_messages(path, read_cohort)


def test_empty_table(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("", encoding="utf-8")
    assert "cannot be read as a table" in _problem_messages(path, read_patients)
    path.write_text("patient_id,diagnosis\n", encoding="utf-8")
    assert "no rows" in _problem_messages(path, read_patients)


def test_json_roundtrip_of_a_record(
    write_json: Callable[..., Path], minimal: dict[str, Any]
) -> None:
    record = read_patient(write_json(minimal))
    again = read_patient(write_json(json.loads(record.model_dump_json()), "again.json"))
    assert again == record


def test_event_flags_written_by_pandas_as_decimals_are_read(tmp_path: Path) -> None:
    # a 0/1 column with a blank cell is float in pandas, and to_csv writes 1.0 and 0.0
    path = tmp_path / "outcomes.csv"
    path.write_text(
        "patient_id,diagnosis,pfs_days,pfs_event,os_days,os_event\n"
        "P1,FL,400,1.0,500,0.0\nP2,FL,300,0.0,,\n",
        encoding="utf-8",
    )
    cohort = read_cohort(path)
    first, second = cohort.outcome("P1"), cohort.outcome("P2")
    assert first is not None
    assert (first.pfs_event, first.os_event) == (True, False)
    assert second is not None
    assert second.pfs_event is False
    cols = table_columns(path)
    assert list(cols.number("outcome.pfs_event")) == [1.0, 0.0]
    assert np.isnan(cols.number("outcome.os_event")[1])
