"""Published JSON Schemas: in sync with the models, and the outputs validate against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import immunoprecise as ip
from immunoprecise.schemas import schemas

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "docs" / "schema"


@pytest.mark.parametrize("name", sorted(schemas()))
def test_committed_schema_matches_models(name: str) -> None:
    committed = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    assert committed == schemas()[name], "run `make schema` and commit docs/schema/"


@pytest.mark.parametrize("example", ip.data.example_patients(), ids=lambda p: p.stem)
def test_examples_validate_against_both_schemas(example: Path) -> None:
    record_schema = json.loads((SCHEMA_DIR / "patient-record.schema.json").read_text("utf-8"))
    output_schema = json.loads((SCHEMA_DIR / "evaluation.schema.json").read_text("utf-8"))
    record = json.loads(example.read_text(encoding="utf-8"))
    evaluation = json.loads(ip.evaluate(ip.read_patient(example)).model_dump_json())
    for schema, document in ((record_schema, record), (output_schema, evaluation)):
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]
        assert errors == []


def test_schema_rejects_what_the_model_rejects() -> None:
    record_schema = json.loads((SCHEMA_DIR / "patient-record.schema.json").read_text("utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"patient": {"id": "X"}, "disease": {"diagnosis": "y"}, "colour": "blue"}, record_schema
        )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"patient": {"id": "X"}}, record_schema)
