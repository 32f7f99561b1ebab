"""JSON Schemas of the published formats: the patient record (input) and the evaluation (output).

The schemas are exported to ``docs/schema/`` with ``immunoprecise schema``; a test keeps the
committed files equal to what the models produce.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from immunoprecise.evaluation import Evaluation
from immunoprecise.records import PatientRecord

__all__ = ["SCHEMA_FILES", "schemas", "write_schemas"]

SCHEMA_FILES: dict[str, tuple[type[BaseModel], Literal["validation", "serialization"]]] = {
    "patient-record.schema.json": (PatientRecord, "validation"),
    "evaluation.schema.json": (Evaluation, "serialization"),
}


def schemas() -> dict[str, dict[str, Any]]:
    """Return the published JSON Schemas by file name.

    Examples
    --------
    >>> schemas()["evaluation.schema.json"]["title"]
    'Evaluation'
    """
    out = {}
    for name, (model, mode) in SCHEMA_FILES.items():
        schema = model.model_json_schema(mode=mode)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = schema
    return out


def write_schemas(directory: str | Path) -> list[Path]:
    """Write the schemas into ``directory`` and return the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
