"""A cell of a unit column written with its own unit is read: in the column's unit as it is, in
another unit converted (1.2 mg/dL in crp_mg_per_L is 12 mg/L), and a unit of another kind or an
unknown one refused naming the row, column, value and the unit expected, alike by both table
readers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records.columns import table_columns
from immunoprecise.records.scalars import number_with_unit

COHORT = ip.data.example_path("fl_cohort.csv")


def _table(tmp_path: Path, crp: list[str], lymphocytes: list[str] | None = None) -> Path:
    frame = pd.read_csv(COHORT).head(len(crp)).astype({"crp_mg_per_L": object})
    frame["crp_mg_per_L"] = crp
    if lymphocytes is not None:
        frame = frame.astype({"lymphocytes_cells_per_uL": object})
        frame["lymphocytes_cells_per_uL"] = lymphocytes
    path = tmp_path / "cohort.csv"
    frame.to_csv(path, index=False)
    return path


def test_cells_with_their_unit_are_read_and_converted(tmp_path: Path) -> None:
    crp = ["12 mg/L", "1.2 mg/dL", "3.5mg/L", "7"]
    path = _table(tmp_path, crp, ["1.2 10^9/L", "900", "900 cells/uL", "0.5 x10^9/L"])
    records = ip.read_patients(path)
    assert [r.host.crp.value for r in records] == pytest.approx([12, 12, 3.5, 7])
    assert {r.host.crp.unit for r in records} == {"mg/L"}
    lymphocytes = [r.host.blood.lymphocytes.value for r in records]
    assert lymphocytes == pytest.approx([1200, 900, 900, 500])
    columns = table_columns(path)
    assert columns.number("host.crp") == pytest.approx([12, 12, 3.5, 7])
    assert columns.number("host.blood.lymphocytes") == pytest.approx(lymphocytes)


def test_a_unit_of_another_kind_or_unknown_is_refused_by_both_readers(tmp_path: Path) -> None:
    path = _table(tmp_path, ["12 cells/uL", "12 foo", "12"])
    messages = []
    for read in (ip.read_patients, table_columns):
        with pytest.raises(ValidationError) as refused:
            read(path)
        problems = refused.value.problems
        assert [p.value for p in problems] == ["12 cells/uL", "12 foo"]
        assert all("column crp_mg_per_L" in p.field for p in problems)
        assert all("expected a unit like 'mg/L'" in p.message for p in problems)
        assert "cannot be converted to 'mg/L'" in problems[0].message
        assert "unknown unit 'foo'" in problems[1].message
        messages.append([p.message.removesuffix(" [host.crp]") for p in problems])
    assert messages[0] == messages[1]


def test_a_number_that_would_be_misread_keeps_its_advice(tmp_path: Path) -> None:
    assert number_with_unit("12,5 mg/L") is None
    path = _table(tmp_path, ["12,5 mg/L"])
    with pytest.raises(ValidationError) as refused:
        ip.read_patients(path)
    assert "decimal point" in refused.value.problems[0].message
