"""Reading patient records from request bodies (record JSON or a FHIR R4 Bundle)."""

from __future__ import annotations

from typing import Any

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records import PatientRecord, read_fhir_bundle, validate_model
from immunoprecise.registry import RecordVersion

__all__ = ["RECORD_BODY_SCHEMA", "parse_record", "version_json"]

RECORD_BODY_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/PatientRecord"},
                        {
                            "type": "object",
                            "description": "A FHIR R4 / mCODE Bundle with one Patient.",
                            "properties": {"resourceType": {"const": "Bundle"}},
                            "required": ["resourceType"],
                        },
                    ]
                }
            }
        },
    }
}
"""OpenAPI description of a body that is a patient record or a FHIR Bundle."""


def parse_record(body: Any) -> tuple[PatientRecord, list[str]]:
    """Validate a request body as a patient record, or import it as a FHIR R4 Bundle.

    Parameters
    ----------
    body
        The parsed JSON body.

    Returns
    -------
    tuple of PatientRecord and list of str
        The record, and notes on how it was read (FHIR: resources skipped, values derived).

    Raises
    ------
    ValidationError
        Listing every invalid field.
    """
    if not isinstance(body, dict):
        raise ValidationError(
            [FieldProblem("body", None, "send a patient record or a FHIR Bundle as a JSON object")]
        )
    if body.get("resourceType") == "Bundle":
        imported = read_fhir_bundle(body)
        notes = [*imported.notes, *(f"skipped {s}" for s in imported.skipped)]
        return imported.record, notes
    return validate_model(PatientRecord, body), []


def version_json(version: RecordVersion, *, with_record: bool = True) -> dict[str, Any]:
    """A stored version as JSON (optionally without the record itself)."""
    data = version.model_dump(mode="json")
    if not with_record:
        data.pop("record", None)
    return data
