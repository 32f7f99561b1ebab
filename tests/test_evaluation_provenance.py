"""What an evaluation records about its input: a SHA-256 digest, never an arbitrary text."""

from __future__ import annotations

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.evaluation import evaluate, file_sha256
from immunoprecise.records.digest import record_sha256


@pytest.fixture(scope="module")
def record() -> ip.records.PatientRecord:
    return ip.read_patient(ip.data.example_path("crc_msih.json"))


@pytest.mark.parametrize("digest", ["", "see the file", "ab" * 31, "g" * 64, "a" * 65])
def test_an_input_digest_that_is_no_sha256_is_refused(
    record: ip.records.PatientRecord, digest: str
) -> None:
    # before: recorded as the input's identity as given ('' or any text)
    with pytest.raises(ValidationError) as info:
        evaluate(record, input_sha256=digest)
    assert "input_sha256" in str(info.value)
    assert "64 hexadecimal digits" in str(info.value)


def test_the_digest_is_recorded_in_lower_case(record: ip.records.PatientRecord) -> None:
    path = ip.data.example_path("crc_msih.json")
    digest = file_sha256(path)
    upper = evaluate(record, input_sha256=digest.upper())
    lower = evaluate(record, input_sha256=digest)
    assert upper.software.input_sha256 == digest
    assert upper == lower


def test_without_a_file_the_record_digest_is_recorded(record: ip.records.PatientRecord) -> None:
    assert evaluate(record).software.input_sha256 == record_sha256(record)


def test_a_file_path_instead_of_a_record_is_refused_with_what_to_do() -> None:
    path = ip.data.example_path("crc_msih.json")
    for given in (path, str(path)):
        with pytest.raises(ValidationError) as info:
            evaluate(given)  # type: ignore[arg-type]
        assert str(info.value) == (
            f"1 invalid field\n  - record = {str(path)!r}: expected a PatientRecord, not a file "
            "path; read the file first: ip.evaluate(ip.read_patient(path))"
        )


def test_a_mapping_instead_of_a_record_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValidationError) as info:
        evaluate({"patient": {"id": "P1"}})  # type: ignore[arg-type]
    assert "record: expected a PatientRecord, not a dict" in str(info.value)
    assert "PatientRecord.model_validate(data)" in str(info.value)
