"""Importing a FHIR Bundle into the registry names the resources the record could not hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from immunoprecise.cli.db import db_app
from immunoprecise.registry import Registry, import_files


def _observation(oid: str, loinc: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{oid}",
        "resource": {
            "resourceType": "Observation",
            "id": oid,
            "status": "final",
            "subject": {"reference": "urn:uuid:p1"},
            "effectiveDateTime": "2024-03-01",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "valueQuantity": {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        },
    }


def _bundle(path: Path) -> Path:
    """A searchset export: a patient, a melanoma, a CRP (read) and a CEA (no record field)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "fullUrl": "urn:uuid:p1",
                "resource": {"resourceType": "Patient", "id": "MEL-7", "gender": "female"},
            },
            {
                "fullUrl": "urn:uuid:c1",
                "resource": {
                    "resourceType": "Condition",
                    "id": "c1",
                    "subject": {"reference": "urn:uuid:p1"},
                    "code": {"text": "Melanoma"},
                },
            },
            _observation("crp-1", "1988-5", 12.0, "mg/L"),
            _observation("cea-1", "2039-6", 4.2, "ng/mL"),
        ],
    }
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def test_import_report_names_the_left_out_fhir_resources(
    registry: Registry, tmp_path: Path
) -> None:
    report = import_files(registry, [_bundle(tmp_path / "ehr.json")], actor="ann")[0]
    assert report.created == 1
    assert registry.record("MEL-7", actor="ann").host.crp is not None
    left_out = [note for note in report.notes if "Observation/cea-1" in note]
    assert len(left_out) == 1, report.notes
    assert "2039-6" in left_out[0]
    assert "MEL-7" in left_out[0]


def test_import_report_of_a_plain_record_has_no_notes(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "ehr.json"
    _bundle(path)
    import_files(registry, [path], actor="ann")
    exported = tmp_path / "mel7.json"
    exported.write_text(registry.record("MEL-7", actor="ann").model_dump_json(), "utf-8")
    report = import_files(registry, [exported], actor="ann")[0]
    assert (report.unchanged, report.notes) == (1, ())


def test_db_import_prints_the_left_out_fhir_resources(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(db_app, ["init", "--db", url]).exit_code == 0
    path = _bundle(tmp_path / "ehr.json")
    result = runner.invoke(db_app, ["import", str(path), "--db", url, "--actor", "ann"])
    assert result.exit_code == 0, result.output
    assert "1 row, 1 new" in result.output
    assert "Observation/cea-1" in result.output
    assert "2039-6" in result.output
