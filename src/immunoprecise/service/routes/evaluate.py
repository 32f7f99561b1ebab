"""``POST /api/v1/evaluate``: immune profile and ranked strategies for a record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.evaluation import evaluate
from immunoprecise.records import PatientRecord, validate_model
from immunoprecise.registry import record_sha256
from immunoprecise.service.deps import Anyone, State
from immunoprecise.service.payloads import parse_record
from immunoprecise.service.routes.patients import patient_id_of

__all__ = ["StoredPatient", "router"]

router = APIRouter(tags=["evaluate"])

EXPRESSION_NOTE = (
    "the record's expression reference was not read: the service never opens files named in a "
    "request; expression signatures are reported as not assessable"
)


class StoredPatient(BaseModel):
    """A patient already in the registry (a pseudonym for researchers)."""

    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(min_length=1, max_length=64)
    version: int | None = Field(
        default=None, ge=1, description="Record version; the latest if omitted."
    )


_BODY_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/PatientRecord"},
                        {"$ref": "#/components/schemas/StoredPatient"},
                    ]
                }
            }
        },
    }
}


def _without_expression(record: PatientRecord, notes: list[str]) -> PatientRecord:
    if record.expression is None:
        return record
    notes.append(EXPRESSION_NOTE)
    return record.model_copy(update={"expression": None})


@router.post("/evaluate", summary="Evaluate a record", openapi_extra=_BODY_SCHEMA)
def evaluate_record(
    state: State,
    caller: Anyone,
    body: Annotated[dict[str, Any], Body(description="A record, or {'patient_id': ...}.")],
) -> dict[str, Any]:
    """Profile a record and rank immune strategies (with evidence levels and citations).

    The body is a patient record (or a FHIR Bundle), or ``{"patient_id": ..., "version": ...}``
    for a stored patient. For clinicians and admins the evaluation is stored in the registry
    when the patient is stored: always for ``patient_id``; for a record in the body when it is
    identical to the patient's latest stored version. Researchers get pseudonymized output for
    stored patients, and nothing they send is stored.
    """
    notes: list[str] = []
    stored_version: int | None = None
    if "patient" not in body and "patient_id" in body:
        wanted = validate_model(StoredPatient, body, source="request body")
        pid = patient_id_of(state, caller, wanted.patient_id)
        version = state.registry.record_version(pid, wanted.version, actor=caller.name)
        record, stored_version = version.record, version.version
        digest = version.sha256
    else:
        record, notes = parse_record(body)
        digest = record_sha256(record)
        if not caller.pseudonymized and state.registry.has_patient(record.patient_id):
            latest = state.registry.record_version(record.patient_id, actor=caller.name)
            stored_version = latest.version if latest.sha256 == digest else None
    evaluation = evaluate(
        _without_expression(record, notes),
        knowledge_base=state.knowledge_base,
        input_sha256=digest,
    )
    saved = None
    if stored_version is not None and not caller.pseudonymized:
        saved = state.registry.save_evaluation(
            evaluation, actor=caller.name, version=stored_version
        ).id
    data = evaluation.model_dump(mode="json")
    if caller.pseudonymized and "patient_id" in body and "patient" not in body:
        data = state.pseudonymizer.evaluation(data)
    return {
        "evaluation": data,
        "stored_evaluation_id": saved,
        "record_version": stored_version,
        "notes": notes,
    }
