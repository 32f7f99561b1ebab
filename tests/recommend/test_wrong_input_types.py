"""``ip.profile`` and ``ip.recommend`` given the wrong thing (a file path, a mapping, a record
where a profile is meant) say what to pass instead of failing with ``AttributeError``; the
records readers name the file of an invalid FHIR Bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records import read_bundle_file, record_to_fhir

EXAMPLE = ip.data.example_path("crc_msih.json")


@pytest.mark.parametrize("given", [EXAMPLE, str(EXAMPLE)])
def test_profile_of_a_path_says_to_read_it_first(given: object) -> None:
    with pytest.raises(ValidationError) as info:
        ip.profile(given)  # type: ignore[arg-type]
    assert str(info.value) == (
        f"1 invalid field\n  - record = {str(EXAMPLE)!r}: expected a PatientRecord, not a file "
        "path; read the file first: ip.profile(ip.read_patient(path))"
    )


def test_profile_of_a_mapping_says_to_validate_it() -> None:
    with pytest.raises(ValidationError, match="not a dict; read or validate it first"):
        ip.profile({"patient": {"id": "P1"}})  # type: ignore[arg-type]


def test_recommend_of_a_record_says_to_profile_it_first() -> None:
    record = ip.read_patient(EXAMPLE)
    with pytest.raises(ValidationError) as info:
        ip.recommend(record)  # type: ignore[arg-type]
    assert "not a PatientRecord; profile the record first: ip.recommend(ip.profile(record))" in (
        str(info.value)
    )
    with pytest.raises(ValidationError, match=r"ip\.recommend\(ip\.profile\(ip\.read_patient"):
        ip.recommend(str(EXAMPLE))  # type: ignore[arg-type]


def test_an_invalid_bundle_names_its_file(tmp_path: Path) -> None:
    bundle = record_to_fhir(ip.read_patient(EXAMPLE))
    for entry in bundle["entry"]:
        quantity = entry["resource"].get("valueQuantity")
        if quantity:
            quantity["value"] = "abc"
            break
    path = tmp_path / "ehr.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    for read in (ip.read_patient, read_bundle_file, ip.read_patients):
        with pytest.raises(ValidationError) as info:
            read(path)
        assert info.value.source == str(path), read
        assert str(info.value).startswith(f"{path}: 1 invalid field"), str(info.value)
