"""Disease codes written in lower case, 'mut/mb' for a TMB, and text that does not have the
form a field takes, refused in words rather than with a regular expression."""

from __future__ import annotations

from pathlib import Path

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord
from immunoprecise.records.columns import table_columns
from immunoprecise.records.units import convert
from immunoprecise.records.validation import validate_model


def _record(**disease: object) -> dict[str, object]:
    return {"patient": {"id": "P1"}, "disease": {"diagnosis": "Lung adenocarcinoma", **disease}}


def test_lower_case_codes_are_read_in_capitals() -> None:
    record = validate_model(
        PatientRecord, _record(oncotree_code=" luad ", icd_o3_topography="c34.1")
    )
    assert record.disease.oncotree_code == "LUAD"
    assert record.disease.icd_o3_topography == "C34.1"
    assert ip.profile(record).disease.oncotree_code == "LUAD"


def test_both_table_readers_read_a_lower_case_oncotree_code(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        "patient_id,diagnosis,oncotree_code,icd_o3_topography\nP1,NSCLC,luad,c34.1\n",
        encoding="utf-8",
    )
    (record,) = ip.read_patients(path)
    assert (record.disease.oncotree_code, record.disease.icd_o3_topography) == ("LUAD", "C34.1")
    assert list(table_columns(path).text("disease.oncotree_code")) == ["LUAD"]


@pytest.mark.parametrize("unit", ["mut/mb", "mut/MB", "mutations/mb", "mut / mb"])
def test_a_megabase_written_mb_is_a_megabase(unit: str) -> None:
    assert convert(12, unit, "mut/Mb") == 12
    record = validate_model(
        PatientRecord, {**_record(), "tumor": {"tmb": f"12 {unit}"}}, source="p.json"
    )
    assert record.tumor.tmb is not None
    assert record.tumor.tmb.value == 12


@pytest.mark.parametrize(
    ("section", "field", "value", "words"),
    [
        ("patient", "id", "P 1", "without spaces"),
        ("disease", "oncotree_code", "LUAD 2", "OncoTree code"),
        ("disease", "icd_o3_morphology", "8140-3", "ICD-O-3 morphology code"),
        ("disease", "icd_o3_topography", "lung", "ICD-O-3 topography code"),
    ],
)
def test_text_of_the_wrong_form_is_refused_in_words(
    section: str, field: str, value: str, words: str
) -> None:
    data = _record()
    data[section] = {**data[section], field: value}  # type: ignore[dict-item]
    with pytest.raises(ValidationError) as info:
        validate_model(PatientRecord, data, source="p.json")
    text = str(info.value)
    assert f"{section}.{field} = {value!r}" in text
    assert words in text
    assert "pattern" not in text
    assert "^" not in text
