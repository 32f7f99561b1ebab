"""The profile Bundle says, where a FHIR consumer reads it, that it is research decision support
and not a medical device: as every Observation's note and as a tag of the Bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.evaluation import DISCLAIMER
from immunoprecise.records.fhir import profile_to_fhir

EXAMPLES = sorted(ip.data.example_patients())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: Path(p).stem)
def test_every_observation_carries_the_disclaimer_as_a_note(example: Path) -> None:
    record = ip.read_patient(example)
    bundle = profile_to_fhir(ip.profile(record), patient_reference=f"Patient/{record.patient.id}")
    Bundle.model_validate(bundle)  # still a valid FHIR R4 Bundle
    resources = [e["resource"] for e in bundle["entry"]]
    assert resources
    for resource in resources:
        notes = [n["text"] for n in resource["note"]]
        assert notes[-1] == DISCLAIMER
        assert notes.count(DISCLAIMER) == 1
        assert any(n.startswith("Method:") for n in notes)  # the other notes are kept


def test_the_bundle_is_tagged_research_use_only() -> None:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    bundle = profile_to_fhir(ip.profile(record), patient_reference="Patient/SYN-CRC-001")
    validated = Bundle.model_validate(bundle)
    assert validated.meta is not None
    assert validated.meta.tag is not None
    (tag,) = validated.meta.tag
    assert tag.system == "https://immunoprecise.org/fhir/CodeSystem/output-use"
    assert tag.code == "research-use-only"
    assert tag.display is not None
    assert "research use only" in tag.display.lower()
    assert "not a medical device" in tag.display


def test_evaluate_format_fhir_carries_the_disclaimer(tmp_path: Path) -> None:
    example = ip.data.example_path("fl_relapsed.json")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["evaluate", str(example), "-f", "fhir", "-o", str(out)])
    assert result.exit_code == 0, result.output
    bundle = json.loads((out / "SYN-FL-001.fhir.json").read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    assert bundle["meta"]["tag"][0]["code"] == "research-use-only"
    for entry in bundle["entry"]:
        assert entry["resource"]["note"][-1]["text"] == DISCLAIMER
