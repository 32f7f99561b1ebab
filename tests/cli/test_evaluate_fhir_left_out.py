"""`immunoprecise evaluate` of a FHIR Bundle names, on stderr, the resources the record left out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.records.fhir_export import record_to_fhir

runner = CliRunner()


def _observation(
    oid: str, subject: str, loinc: str, display: str, value: float, unit: str, date: str
) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{oid}",
        "resource": {
            "resourceType": "Observation",
            "id": oid,
            "status": "final",
            "subject": {"reference": subject},
            "effectiveDateTime": date,
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": display}]},
            "valueQuantity": {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        },
    }


def _ehr_bundle(path: Path) -> Path:
    """The melanoma example as an EHR exports it: its Bundle, plus a CEA (no record field) and
    an older CRP (the later one is kept)."""
    bundle = record_to_fhir(ip.read_patient(ip.data.example_path("melanoma_braf.json")))
    subject = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    bundle["entry"] += [
        _observation("cea-1", subject, "2039-6", "CEA", 4.2, "ng/mL", "2024-03-01"),
        _observation("crp-old", subject, "1988-5", "CRP", 30.0, "mg/L", "2001-01-05"),
    ]
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def test_evaluate_names_each_left_out_resource_once_on_stderr(tmp_path: Path) -> None:
    path = _ehr_bundle(tmp_path / "ehr export.json")
    result = runner.invoke(app, ["evaluate", str(path), "-f", "json", "-f", "table"])
    assert result.exit_code == 0, result.output
    cea = [line for line in result.stderr.splitlines() if "Observation/cea-1" in line]
    assert cea == [
        f"note: {path}: patient SYN-MEL-001: left out Observation/cea-1 "
        "[http://loinc.org|2039-6 (CEA)]: unknown code: no record field for it"
    ]
    crp = [line for line in result.stderr.splitlines() if "Observation/crp-old" in line]
    assert len(crp) == 1, result.stderr
    assert "host.crp is taken from the later" in crp[0]
    # stdout holds the documents only: the JSON document is followed by the table
    assert "cea-1" not in result.stdout
    document, _, _ = result.stdout.partition("\n}\n")
    assert json.loads(document + "}")["patient_id"] == "SYN-MEL-001"


def test_a_bundle_given_twice_is_noted_once(tmp_path: Path) -> None:
    path = _ehr_bundle(tmp_path / "ehr.json")
    out = tmp_path / "out"
    result = runner.invoke(app, ["evaluate", str(path), str(path), "--out", str(out)])
    assert result.exit_code == 2  # the second copy of the patient is refused
    assert result.stderr.count("Observation/cea-1") == 1
    assert (out / "SYN-MEL-001.json").is_file()


def test_a_record_file_gives_no_notes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(ip.data.example_path("melanoma_braf.json"))])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.stderr


def test_an_invalid_bundle_among_several_files_is_named(tmp_path: Path) -> None:
    good = ip.data.example_path("crc_msih.json")
    bad = tmp_path / "site b.json"
    bad.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}))
    result = runner.invoke(app, ["evaluate", str(good), str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"error: {bad}: 1 invalid field" in result.stderr
    assert "the Bundle has no Patient resource" in result.stderr
    assert (tmp_path / "o" / "SYN-CRC-001.json").is_file()
