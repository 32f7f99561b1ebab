"""Input that a plain reading would get wrong is refused, the same way by every reader.

``1.200`` (1.2, or 1200 with a dot between thousands), ``10E8`` (10^8 as a unit writes it, or
10 × 10^8 as Python reads it), ``nan``/``inf`` (no value), ``1_000`` and ``none`` listed as an
autoimmune disease: each used to be read as something, silently.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, read_table
from immunoprecise.records.columns import table_columns
from immunoprecise.records.validation import validate_model

BASE = {"patient_id": "P1", "diagnosis": "Colon adenocarcinoma", "oncotree_code": "COAD"}


def _record(**sections: Any) -> dict[str, Any]:
    return {
        "patient": {"id": "P1", **sections.pop("patient", {})},
        "disease": {"diagnosis": "Colon adenocarcinoma", "oncotree_code": "COAD"},
        **sections,
    }


def _table(tmp_path: Path, column: str, cell: str) -> Path:
    path = tmp_path / "patients.csv"
    frame = pd.DataFrame([{**BASE, column: cell}])
    frame.to_csv(path, index=False)
    return path


AMBIGUOUS = [
    ("1.200", "'1.200' could be 1.2 or 1200"),
    ("12.500", "'12.500' could be 12.5 or 12500"),
    ("1.200.000", "without thousands separators: '1200000'"),
    ("1.200,5", "without thousands separators: '1200.5'"),
    ("10E2", "'10E2' could be 10^2"),
    ("10e2", "'10e2' could be 10^2"),
    ("nan", "'nan' is not a finite number"),
    ("-Infinity", "'-Infinity' is not a finite number"),
    ("1_000", "without '_' separators: '1000'"),
]


@pytest.mark.parametrize(("number", "expected"), AMBIGUOUS)
def test_a_quantity_written_ambiguously_is_refused_in_a_document(
    number: str, expected: str
) -> None:
    with pytest.raises(ValidationError) as info:
        validate_model(PatientRecord, _record(host={"crp": f"{number} mg/L"}))
    assert "host.crp" in str(info.value)
    assert expected in str(info.value)


@pytest.mark.parametrize(("number", "expected"), AMBIGUOUS)
def test_both_table_readers_refuse_the_same_cells(
    tmp_path: Path, number: str, expected: str
) -> None:
    for column in ("crp_mg_per_L", "pdl1_cps"):
        path = _table(tmp_path, column, number)
        for reader in (read_table, table_columns):
            with pytest.raises(ValidationError) as info:
                reader(path)
            message = str(info.value)
            assert f"row 2 (P1) column {column} = {number!r}" in message, (reader, message)
            assert expected in message, (reader, message)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("0.200", 0.2), ("1.2000", 1.2), ("1.2", 1.2), ("120.5", 120.5), ("1e2", 100.0)],
)
def test_unambiguous_numbers_are_still_read(tmp_path: Path, cell: str, value: float) -> None:
    path = _table(tmp_path, "crp_mg_per_L", cell)
    record = read_table(path).records[0]
    assert record.host.crp is not None
    assert record.host.crp.value == pytest.approx(value)
    assert table_columns(path).number("host.crp")[0] == pytest.approx(value)


def test_a_cell_count_written_10e8_is_refused_and_1e8_read() -> None:
    def record(count: str) -> dict[str, Any]:
        data = _record()
        data["disease"]["burden"] = [{"date": "2026-01-05", "cell_count": count}]
        return data

    with pytest.raises(ValidationError, match=r"'10E8' could be 10\^8 .* write 1e8 or 1e9"):
        validate_model(PatientRecord, record("10E8 cells"))
    burden = validate_model(PatientRecord, record("1e8 cells")).disease.burden[0]
    assert burden.cell_count is not None
    assert burden.cell_count.value == 1e8
    # a power of ten in the unit keeps its meaning: 2 x10E8 cells is 2 × 10^8
    burden = validate_model(PatientRecord, record("2 x10E8 cells")).disease.burden[0]
    assert burden.cell_count is not None
    assert burden.cell_count.value == 2e8


def test_a_non_finite_plain_number_is_named_as_such() -> None:
    # before: NaN was refused as "Input should be less than or equal to 100"
    with pytest.raises(ValidationError) as info:
        validate_model(PatientRecord, _record(tumor={"pdl1_cps": math.nan}))
    assert "tumor.pdl1_cps" in str(info.value)
    assert "finite" in str(info.value)
    assert "less than or equal" not in str(info.value)


def test_a_bad_quantity_cell_is_shown_as_written(tmp_path: Path) -> None:
    # before: "row 2 (P1) column pdl1_tps_percent: expected a number in %", without the cell
    path = _table(tmp_path, "pdl1_tps_percent", "50 mg/L")
    with pytest.raises(ValidationError) as info:
        read_table(path)
    assert "row 2 (P1) column pdl1_tps_percent = '50 mg/L'" in str(info.value)


@pytest.mark.parametrize("placeholder", ["none", "None", " N/A ", "-", "no", "unknown"])
def test_none_is_not_an_autoimmune_disease(tmp_path: Path, placeholder: str) -> None:
    # before: ("none",) counted as an autoimmune disease and weighed against checkpoint blockade
    with pytest.raises(ValidationError) as info:
        validate_model(PatientRecord, _record(patient={"autoimmune_diseases": [placeholder]}))
    assert "patient.autoimmune_diseases" in str(info.value)
    assert "leave the list empty" in str(info.value)
    path = _table(tmp_path, "autoimmune_diseases", placeholder)
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError, match=r"row 2 \(P1\) column autoimmune_diseases"):
            reader(path)


def test_a_named_autoimmune_disease_is_kept(tmp_path: Path) -> None:
    path = _table(tmp_path, "autoimmune_diseases", "psoriasis; Hashimoto thyroiditis")
    record = read_table(path).records[0]
    assert record.patient.autoimmune_diseases == ("psoriasis", "Hashimoto thyroiditis")
    assert table_columns(path).number("patient.autoimmune_diseases")[0] == 1.0
