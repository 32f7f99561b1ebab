"""A treatment history that is none (a treatment-naive patient) is told apart from one that is
not recorded, in every reader and writer: JSON, both table readers, FHIR."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, read_table
from immunoprecise.records.columns import record_columns, table_columns
from immunoprecise.records.fhir_export import record_to_fhir
from immunoprecise.records.fhir_import import read_fhir_bundle

BASE = {"patient_id": "P1", "diagnosis": "NSCLC", "oncotree_code": "LUAD"}


def _table(tmp_path: Path, **cells: str) -> Path:
    path = tmp_path / "patients.csv"
    pd.DataFrame([{**BASE, **cells}, {**BASE, "patient_id": "P2"}]).to_csv(path, index=False)
    return path


def test_json_absent_is_not_recorded_and_an_empty_list_is_none() -> None:
    data = json.loads(ip.data.example_path("nsclc_cold.json").read_text(encoding="utf-8"))
    assert ip.read_patient(ip.data.example_path("nsclc_cold.json")).patient.prior_therapies == ()
    del data["patient"]["prior_therapies"]
    unrecorded = PatientRecord.model_validate(data)
    assert unrecorded.patient.prior_therapies is None
    columns = record_columns([unrecorded])
    assert np.isnan(columns.number("patient.prior_therapies")[0])
    assert columns.text("patient.prior_therapies[]")[0] is None


@pytest.mark.parametrize("reader", [read_table, table_columns])
def test_tables_read_none_as_treatment_naive_and_an_empty_cell_as_not_recorded(
    tmp_path: Path, reader: object
) -> None:
    path = _table(tmp_path, prior_therapies="None")
    if reader is read_table:
        records = read_table(path).records
        assert records[0].patient.prior_therapies == ()
        assert records[1].patient.prior_therapies is None  # the empty cell of P2
    else:
        columns = table_columns(path)
        assert columns.number("patient.prior_therapies").tolist()[0] == 0
        assert np.isnan(columns.number("patient.prior_therapies")[1])
        assert columns.text("patient.prior_therapies[]").tolist() == [(), None]


def test_a_table_without_the_column_records_no_history(tmp_path: Path) -> None:
    path = _table(tmp_path)
    assert [r.patient.prior_therapies for r in read_table(path).records] == [None, None]
    assert np.isnan(table_columns(path).number("patient.prior_therapies")).all()


@pytest.mark.parametrize("cell", ["N/A", "unknown", "none; R-CHOP"])
def test_both_table_readers_refuse_other_placeholders(tmp_path: Path, cell: str) -> None:
    path = _table(tmp_path, prior_therapies=cell)
    with pytest.raises(ValidationError, match="is not a therapy"):
        read_table(path)
    with pytest.raises(ValidationError, match="write 'none' alone for no prior therapy"):
        table_columns(path)


def test_fhir_keeps_none_apart_from_not_recorded() -> None:
    naive = ip.read_patient(ip.data.example_path("nsclc_cold.json"))
    bundle = record_to_fhir(naive)
    lists = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "List"]
    assert len(lists) == 1
    assert lists[0]["emptyReason"]["coding"][0]["code"] == "nilknown"
    assert read_fhir_bundle(bundle).record.patient.prior_therapies == ()
    unrecorded = naive.model_copy(
        update={"patient": naive.patient.model_copy(update={"prior_therapies": None})}
    )
    bundle = record_to_fhir(unrecorded)
    assert not any(e["resource"]["resourceType"] == "List" for e in bundle["entry"])
    assert read_fhir_bundle(bundle).record.patient.prior_therapies is None
    treated = ip.read_patient(ip.data.example_path("crc_msih.json"))
    assert treated.patient.prior_therapies
    again = read_fhir_bundle(record_to_fhir(treated)).record.patient.prior_therapies
    assert again is not None
    assert [t.name for t in again] == [t.name for t in treated.patient.prior_therapies]
