"""``POST /api/v1/evaluate``: immune profile and ranked strategies for a record."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from immunoprecise.records import PatientRecord, validate_model
from immunoprecise.records.scalars import OptionalWholeNumber
from immunoprecise.service.deps import Anyone, AuthorizedRoute, State
from immunoprecise.service.errors import error_responses
from immunoprecise.service.payloads import RECORD_BODY_SCHEMA, named_in_body
from immunoprecise.service.routes.patients import MAX_RECORD_VERSION, read_version

__all__ = ["StoredPatient", "router"]

router = APIRouter(
    route_class=AuthorizedRoute, tags=["evaluate"], responses=error_responses(401, 429, 500)
)


class StoredPatient(BaseModel):
    """A patient already in the registry (a pseudonym for researchers)."""

    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(min_length=1, max_length=64)
    version: OptionalWholeNumber = Field(
        default=None,
        ge=1,
        le=MAX_RECORD_VERSION,
        description="Record version; the latest if omitted.",
    )

    @field_validator("patient_id")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError(
                "holds the NUL character (\\x00), which no patient id or pseudonym holds; remove it"
            )
        return value


_BODY_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        *RECORD_BODY_SCHEMA["requestBody"]["content"]["application/json"]["schema"][
                            "oneOf"
                        ],  # a record or a FHIR Bundle
                        {"$ref": "#/components/schemas/StoredPatient"},
                    ]
                }
            }
        },
    }
}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(400, 404, 409),
    200: {
        "description": "The evaluation, the id it was stored under (if stored), the record "
        "version evaluated (if stored) and notes on how the body was read.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["evaluation", "stored_evaluation_id", "record_version", "notes"],
                    "properties": {
                        "evaluation": {"type": "object"},
                        "stored_evaluation_id": {"type": ["integer", "null"]},
                        "record_version": {"type": ["integer", "null"]},
                        "notes": {"type": "array", "items": {"type": "string"}},
                    },
                }
            }
        },
    },
}


@router.post(
    "/evaluate",
    summary="Evaluate a record",
    openapi_extra=_BODY_SCHEMA,
    response_class=Response,
    responses=_RESPONSES,
)
async def evaluate_record(
    request: Request,
    state: State,
    caller: Anyone,
    body: Annotated[dict[str, Any], Body(description="A record, or {'patient_id': ...}.")],
) -> Response:
    """Profile a record and rank immune strategies (with evidence levels and citations).

    The body is a patient record (or a FHIR Bundle), or ``{"patient_id": ..., "version": ...}``
    for a stored patient. For clinicians and admins the evaluation is stored in the registry
    when the patient is stored: always for ``patient_id``; for a record in the body when it is
    identical to the patient's latest stored version. Researchers get pseudonymized output for
    stored patients, and nothing they send is stored. A record evaluated recently is answered
    from the service's evaluation cache (:mod:`immunoprecise.service.caches`).
    """
    notes: list[str] = []
    stored_version: int | None = None
    if "patient" not in body and "patient_id" in body:
        with named_in_body(StoredPatient):
            wanted = validate_model(StoredPatient, body, source="request body")
        version = read_version(state, caller, wanted.patient_id, wanted.version)
        record, stored_version = version.record, version.version
        digest = version.sha256
    else:
        with named_in_body(PatientRecord, body=body):
            parsed = state.evaluations.parse(await request.body(), body)
        record, digest, notes = parsed.record, parsed.sha256, list(parsed.notes)
        if not caller.pseudonymized:
            # the stored latest version's hash, not the record: no record read to parse or audit
            latest = state.registry.latest_digest(record.patient_id)
            stored_version = latest[0] if latest is not None and latest[1] == digest else None
    # on the event loop: a few ms of CPU when not kept; a worker thread would only add lock
    # hand-overs (benchmarks/service.py: 40% fewer uncached evaluations per second)
    cached = state.evaluations.get_or_evaluate(record, digest, state.knowledge_base)
    notes.extend(cached.notes)
    saved = None
    if stored_version is not None and not caller.pseudonymized:
        saved = state.registry.save_evaluation(
            cached.evaluation, actor=caller.name, version=stored_version
        ).id
    tail = json.dumps(
        {"stored_evaluation_id": saved, "record_version": stored_version, "notes": notes}
    )
    if caller.pseudonymized and "patient_id" in body and "patient" not in body:
        shown = json.dumps(state.pseudonymizer.evaluation(json.loads(cached.json)))
    else:
        shown = cached.json
    return Response('{"evaluation":' + shown + "," + tail[1:], media_type="application/json")
