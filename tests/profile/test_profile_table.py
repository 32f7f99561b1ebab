"""The vectorized table path gives exactly the values of ip.profile, patient by patient."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.data.synthetic import synthetic_table


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "patients.csv"
    synthetic_table(1000, seed=20261121).to_csv(path, index=False)
    return path


def test_profile_table_equals_per_record_profiles(thousand: Path) -> None:
    table = ip.profile_table(thousand)
    records = ip.read_cohort(thousand).records
    assert list(table.index) == [r.patient.id for r in records]
    keys = set(table.columns.get_level_values("key"))
    rows = table.to_dict(orient="index")  # the same cells, read without pandas indexing
    compared = 0
    for record in records:
        profile = ip.profile(record)
        row = rows[record.patient.id]
        for key, value in profile.values.items():
            if value.status == "assessed":
                assert key in keys, key
                assert row[(key, "value")] == value.value, (record.patient.id, key)
                category = row[(key, "category")]
                if value.category is None:
                    assert pd.isna(category), (record.patient.id, key)
                else:
                    assert category == value.category, (record.patient.id, key)
                compared += 1
        for key in keys:
            value = profile.values.get(key)
            if value is None or value.status == "not_assessable":
                assert pd.isna(row[(key, "value")]), (record.patient.id, key)
    assert compared > 40_000  # the comparison covered most values


def test_profile_table_covers_every_family(thousand: Path) -> None:
    table = ip.profile_table(thousand)
    values = table.xs("value", level="field", axis=1)
    for key in (
        "immunoscore",
        "immune_phenotype",
        "pdl1_cps",
        "driver.BRAF",
        "immune_escape",
        "treg_fraction",
        "tumor_cells",
        "et_ratio.infiltrating_cd8",
        "immunogram.tumor_foreignness",
    ):
        assert values[key].notna().sum() > 20, key
        assert values[key].isna().sum() > 0, key  # and the not-assessable path


def test_profile_table_names_bad_cells() -> None:
    frame = synthetic_table(5, seed=1)
    frame.loc[2, "crp_mg_per_L"] = "-3"
    frame.loc[4, "msi_status"] = "MSI-high"
    with pytest.raises(ip.ValidationError) as info:
        ip.profile_table(frame)
    text = str(info.value)
    assert "row 4 (SYN-000003) column crp_mg_per_L" in text
    assert "0–1000 mg/L" in text
    assert "row 6 (SYN-000005) column msi_status" in text
    assert "MSI-H" in text


def test_profile_table_converts_units_in_headers() -> None:
    frame = synthetic_table(20, seed=2, missing=0.0)
    in_dl = frame.rename(columns={"crp_mg_per_L": "crp_mg_per_dL"})
    in_dl["crp_mg_per_dL"] = [f"{float(v) / 10:.6g}" for v in frame["crp_mg_per_L"]]
    a = ip.profile_table(frame)[("crp", "value")]
    b = ip.profile_table(in_dl)[("crp", "value")]
    assert (a - b).abs().max() < 1e-9 * a.abs().max()


def test_a_workbook_sheet_is_chosen_as_the_error_of_several_sheets_says(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    patients = workbook.active
    patients.title = "Patients"
    patients.append(["patient_id", "diagnosis", "crp_mg_per_dL"])
    patients.append(["P1", "FL", 1.2])
    workbook.create_sheet("Notes").append(["exported from the clinical data warehouse"])
    path = tmp_path / "cohort.xlsx"
    workbook.save(path)
    with pytest.raises(ip.ValidationError, match="sheet='Patients' in Python"):
        ip.profile_table(path)
    for sheet in ("Patients", 0):
        table = ip.profile_table(path, sheet=sheet)
        assert table.loc["P1", ("crp", "value")] == 12  # mg/dL read as 12 mg/L
    with pytest.raises(ip.ValidationError, match="sheet='Notes' is for Excel workbooks"):
        ip.profile_table(pd.DataFrame({"patient_id": ["P1"], "diagnosis": ["FL"]}), sheet="Notes")
