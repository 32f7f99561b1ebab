"""Allowed values in any letter case, and one plausible range for every date of a record."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, read_table
from immunoprecise.records.columns import table_columns
from immunoprecise.records.validation import validate_model

# -- categorical values: any letter case, normalised to the canonical spelling -------------------


def test_json_reads_allowed_values_in_any_case(minimal: dict[str, Any]) -> None:
    minimal["patient"]["sex"] = "Female"
    minimal["patient"]["prior_therapies"] = [{"name": "R-CHOP", "best_response": "cr"}]
    minimal["disease"]["status"] = "Relapsed"
    minimal["tumor"] |= {
        "msi_status": "msi-h",
        "mmr_status": "DMMR",
        "mhc_class_i": "Reduced",
        "antigens": [{"name": "CD19", "kind": "Lineage", "status": "Positive"}],
    }
    minimal["microenvironment"] = {
        "densities": [{"marker": "CD8", "region": "Tumor_Core", "density": 300}]
    }
    minimal["expression"] = {"path": "m.tsv", "sample_id": "s1", "units": "TPM"}
    minimal["toxicity"] = [{"day": 1, "hypotension": "None", "oxygen": "Nasal_Cannula"}]
    record = validate_model(PatientRecord, minimal)
    assert record.patient.sex == "female"
    assert record.patient.prior_therapies is not None
    assert record.patient.prior_therapies[0].best_response == "CR"
    assert record.disease.status == "relapsed"
    assert (record.tumor.msi_status, record.tumor.mmr_status) == ("MSI-H", "dMMR")
    assert record.tumor.mhc_class_i == "reduced"
    assert (record.tumor.antigens[0].kind, record.tumor.antigens[0].status) == (
        "lineage",
        "positive",
    )
    assert record.microenvironment.density("CD8", "tumor_core") == 300
    assert record.expression is not None
    assert record.expression.units == "tpm"
    assert (record.toxicity[0].hypotension, record.toxicity[0].oxygen) == ("none", "nasal_cannula")
    # the stored value is the canonical one, so the record writes back as the schema states it
    dumped = record.model_dump(mode="json")
    assert dumped["tumor"]["msi_status"] == "MSI-H"
    assert dumped["tumor"]["antigens"][0]["status"] == "positive"


def test_unknown_values_are_still_refused_with_the_allowed_ones(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-X"
    minimal["expression"] = {"path": "m.tsv", "sample_id": "s1", "units": "fpkm"}
    with pytest.raises(ValidationError) as info:
        validate_model(PatientRecord, minimal)
    message = str(info.value)
    assert "tumor.msi_status = 'MSI-X'" in message
    assert "'MSI-H', 'MSI-L' or 'MSS'" in message
    assert "expression.units = 'fpkm'" in message


_TABLE = (
    "patient_id,diagnosis,sex,msi_status,disease_status,antigens,prior_therapies\n"
    "P1,colon adenocarcinoma,FEMALE,msi-h,Relapsed,CD19:Lineage:Positive,FOLFOX:pr\n"
)


def test_table_readers_read_allowed_values_in_any_case(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(_TABLE, encoding="utf-8")
    (record,) = read_table(path).records
    assert (record.patient.sex, record.tumor.msi_status) == ("female", "MSI-H")
    assert record.disease.status == "relapsed"
    assert record.tumor.antigens[0].status == "positive"
    assert record.patient.prior_therapies is not None
    assert record.patient.prior_therapies[0].best_response == "PR"
    cols = table_columns(path)
    assert cols.text("tumor.msi_status")[0] == "MSI-H"
    assert cols.text("patient.sex")[0] == "female"
    assert cols.text("disease.status")[0] == "relapsed"
    assert cols.text("tumor.antigens")[0] == (("CD19", "lineage", "positive"),)


def test_table_readers_refuse_unknown_values_alike(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(_TABLE.replace("msi-h", "MSI-X"), encoding="utf-8")
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        assert "column msi_status" in str(info.value)
        assert "MSI-X" in str(info.value)


# -- dates: 1900-01-01 to tomorrow, everywhere ---------------------------------------------------


def _in_days(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("collected_on",), "9999-12-31"),
        (("disease", "diagnosis_date"), "1800-01-01"),
        (("disease", "burden", 0, "date"), "1899-12-31"),
        (("patient", "prior_therapies", 0, "start"), "0001-01-01"),
        (("patient", "prior_therapies", 0, "end"), "in 2 days"),
        (("toxicity", 0, "date"), "2999-01-01"),
    ],
)
def test_implausible_dates_are_refused_naming_field_value_and_range(
    minimal: dict[str, Any], path: tuple[Any, ...], value: str
) -> None:
    value = _in_days(2) if value == "in 2 days" else value
    data = copy.deepcopy(minimal)
    data["disease"]["burden"] = [{"date": "2020-01-01", "marrow_blasts": 5}]
    data["patient"]["prior_therapies"] = [{"name": "R-CHOP", "start": "2019-01-01"}]
    data["toxicity"] = [{"day": 1}]
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError) as info:
        validate_model(PatientRecord, data)
    field = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")
    message = str(info.value)
    assert f"{field} = '{value}'" in message
    assert f"outside the accepted range 1900-01-01 to {_in_days(1)}" in message


def test_dates_up_to_tomorrow_and_from_1900_are_read(minimal: dict[str, Any]) -> None:
    minimal["collected_on"] = _in_days(1)
    minimal["disease"]["diagnosis_date"] = "1900-01-01"
    record = validate_model(PatientRecord, minimal)
    assert record.collected_on == dt.date.today() + dt.timedelta(days=1)


def test_table_readers_refuse_implausible_dates_alike(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "patient_id,diagnosis,diagnosis_date,collected_on\n"
        "P1,colon adenocarcinoma,1800-01-01,2026-01-05\n"
        "P2,colon adenocarcinoma,2020-03-01,9999-12-31\n"
        "P3,colon adenocarcinoma,20200301,2026-01-05\n",
        encoding="utf-8",
    )
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        message = str(info.value)
        assert "row 2 (P1) column diagnosis_date" in message
        assert "row 3 (P2) column collected_on" in message
        assert "row 4 (P3) column diagnosis_date" in message  # not YYYY-MM-DD
        assert "1900-01-01" in message


def test_table_columns_reads_dates_as_iso_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "patient_id,diagnosis,collected_on\nP1,colon adenocarcinoma,2026-01-05T00:00:00\n",
        encoding="utf-8",
    )
    assert table_columns(path).text("collected_on")[0] == "2026-01-05"


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("05-Mar-2024", "write it as 2024-03-05"),
        ("5 March 2024", "write it as 2024-03-05"),
        ("Mar 5, 2024", "write it as 2024-03-05"),
        ("25/03/2024", "write it as 2024-03-25"),  # the day first: it cannot be the month
        ("03/25/2024", "write it as 2024-03-25"),
        ("05-03-2024", "day and month could be either way round: write YYYY-MM-DD"),
        ("05.03.2024", "day and month could be either way round: write YYYY-MM-DD"),
        ("31/02/2024", "there is no day 31 in month 2 of 2024"),
    ],
)
def test_a_date_in_another_format_is_told_how_to_write_it(
    tmp_path: Path, written: str, hint: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        f'patient_id,diagnosis,diagnosis_date\nP1,colon adenocarcinoma,"{written}"\n',
        encoding="utf-8",
    )
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        (problem,) = info.value.problems
        assert problem.field == "row 2 (P1) column diagnosis_date"
        assert f"got text '{written}'; {hint}" in problem.message
