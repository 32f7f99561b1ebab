"""``/api/v1/patients``: list, add (record JSON or FHIR Bundle), read versions, update.

Records are never overwritten or deleted: a changed record is a new version, and every version
stays readable. Researchers see pseudonymized data and address patients by pseudonym.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response, status

from immunoprecise.errors import FieldProblem, RegistryError, ValidationError
from immunoprecise.records import PatientRecord
from immunoprecise.registry import RecordVersion, StoredRecordError, record_sha256
from immunoprecise.service.deps import (
    Anyone,
    AuthorizedRoute,
    Caller,
    Clinical,
    ServiceState,
    State,
)
from immunoprecise.service.errors import error_responses, is_database_failure
from immunoprecise.service.paging import DEFAULT_LIMIT, Limit, Offset, page
from immunoprecise.service.payloads import (
    RECORD_BODY_SCHEMA,
    named_in_body,
    parse_record,
    version_json,
)

__all__ = ["MAX_RECORD_VERSION", "patient_id_of", "read_version", "router"]

MAX_RECORD_VERSION = 2**31 - 1
"""Largest record version number a request may name (the registry keeps versions as 32-bit
integers; a larger number would fail in the database rather than be reported as not there)."""

router = APIRouter(
    route_class=AuthorizedRoute,
    prefix="/patients",
    tags=["patients"],
    responses=error_responses(401, 429, 500),
)

RecordBody = Annotated[dict[str, Any], Body(description="A patient record or a FHIR Bundle.")]


def patient_id_of(state: ServiceState, caller: Caller, given: str) -> str:
    """The registry's patient id for an id in a URL or body (a pseudonym for researchers).

    Raises
    ------
    HTTPException
        404 when a researcher's pseudonym names no patient.
    """
    if not caller.pseudonymized:
        return given
    found = state.patient_for(given, actor=caller.name)
    if found is None:
        close = state.pseudonyms_differing_in_case(given)
        hint = ""
        if close:
            shown = ", ".join(repr(p) for p in close)
            hint = f"; pseudonyms are case-sensitive, and the registry holds {shown}"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no patient {given!r} in the registry{hint}"
        )
    return found


def read_version(
    state: ServiceState, caller: Caller, given: str, version: int | None = None
) -> RecordVersion:
    """Read version ``version`` (the latest for ``None``) of the patient ``given`` names (a
    pseudonym for researchers), as the caller.

    Raises
    ------
    HTTPException
        404 when a researcher's pseudonym names no patient.
    RegistryError
        When the version is not stored (404); for researchers the message names the patient
        by pseudonym, never by id.
    StoredRecordError
        When the stored record no longer validates against the record model (409, with its
        invalid fields: :func:`~immunoprecise.service.errors.stored_record_answer`).
    """
    pid = patient_id_of(state, caller, given)
    try:
        return state.registry.record_version(pid, version, actor=caller.name)
    except RegistryError as exc:
        if not caller.pseudonymized or is_database_failure(exc):
            raise
        if isinstance(exc, StoredRecordError):
            raise  # answered with the pseudonym and without stored values
        raise RegistryError(state.pseudonymizer.text(str(exc), pid)) from None


def _shown(state: ServiceState, caller: Caller, version: RecordVersion) -> dict[str, Any]:
    data = version_json(version)
    return state.pseudonymizer.version(data) if caller.pseudonymized else data


def _stored(
    version: RecordVersion, started: dt.datetime, notes: list[str], response: Response
) -> dict[str, Any]:
    if version.created_at < started:
        action = "unchanged"
    else:
        action = "created" if version.version == 1 else "updated"
    response.status_code = status.HTTP_201_CREATED if action == "created" else status.HTTP_200_OK
    return {"action": action, "notes": notes, **version_json(version)}


@router.get("", summary="List patients")
def list_patients(
    state: State,
    caller: Anyone,
    search: Annotated[str | None, Query(max_length=200, description="Part of the id.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """List patient ids (pseudonyms for researchers), sorted; ``search`` filters them.

    ``total`` counts every patient found; ``patients`` holds the page that ``limit`` and
    ``offset`` select.
    """
    if caller.pseudonymized:
        ids = sorted(
            state.pseudonymizer.pseudonym(p) for p in state.registry.patients(actor=caller.name)
        )
        if search:
            ids = [p for p in ids if search.lower() in p.lower()]
    else:
        ids = state.registry.patients(actor=caller.name, search=search)
    return {"total": len(ids), "patients": page(ids, limit=limit, offset=offset)}


@router.post(
    "",
    summary="Add a record (new patient or new version)",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=RECORD_BODY_SCHEMA,
    responses={
        200: {
            "description": "A new version of a known patient (`action: updated`), or the latest "
            "version when the record is identical to it (`action: unchanged`).",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **error_responses(400, 403),
    },
)
def create_patient(
    state: State, caller: Clinical, body: RecordBody, response: Response
) -> dict[str, Any]:
    """Store a record (JSON, or a FHIR R4 Bundle with one Patient) as a new version.

    A new patient gets version 1 (201); a known one a new version (200); a record identical to
    the latest version is not stored again (``action: unchanged``).
    """
    with named_in_body(PatientRecord, body=body):
        record, notes = parse_record(body)
    started = dt.datetime.now(dt.UTC)
    version = state.registry.add_record(record, actor=caller.name, source="api")
    return _stored(version, started, notes, response)


@router.get(
    "/{patient_id}", summary="Latest version of a record", responses=error_responses(404, 409)
)
def get_patient(state: State, caller: Anyone, patient_id: str) -> dict[str, Any]:
    """The latest version of a patient's record, with its version number, hash and author.

    A stored record that no longer validates against this immunoprecise's record model (stored
    by an earlier release) is answered with 409: its invalid fields (for researchers the fields
    only) and how to store a corrected version (PUT)."""
    return _shown(state, caller, read_version(state, caller, patient_id))


@router.put(
    "/{patient_id}",
    summary="Update a record (adds a version)",
    openapi_extra=RECORD_BODY_SCHEMA,
    responses=error_responses(400, 403, 404),
)
def update_patient(
    state: State, caller: Clinical, patient_id: str, body: RecordBody, response: Response
) -> dict[str, Any]:
    """Store a changed record as the patient's next version; earlier versions are kept.

    The record's ``patient.id`` must be the id in the URL, and the patient must exist (404;
    add new patients with POST). This is how a latest version that no longer validates against
    the record model (409 on reading it) is corrected.
    """
    with named_in_body(PatientRecord, body=body):
        record, notes = parse_record(body)
    if record.patient_id != patient_id:
        raise ValidationError(
            [
                FieldProblem(
                    "body.patient.id",
                    record.patient_id,
                    f"must be {patient_id!r}, the id in the URL",
                )
            ]
        )
    try:
        latest: RecordVersion | None = state.registry.record_version(
            patient_id, actor=caller.name
        )  # 404 if unknown
    except StoredRecordError:
        latest = None  # stored by an earlier release and no longer valid: this record corrects it
    if latest is not None and latest.sha256 == record_sha256(record):
        return {"action": "unchanged", "notes": notes, **version_json(latest)}
    started = dt.datetime.now(dt.UTC)
    version = state.registry.add_record(record, actor=caller.name, source="api")
    return _stored(version, started, notes, response)


@router.get(
    "/{patient_id}/versions",
    summary="List a record's versions",
    responses=error_responses(404),
)
def list_versions(
    state: State,
    caller: Anyone,
    patient_id: str,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The versions of a patient's record, oldest first (metadata; read one for the record):
    ``total`` counts them all, ``versions`` holds the page ``limit`` and ``offset`` select.
    A version whose stored record no longer validates against this immunoprecise's record
    model (stored by an older one) is listed as stored, with its ``invalid_fields`` and the
    ``problems`` found (for researchers: the fields only, as the problems quote stored values)."""
    pid = patient_id_of(state, caller, patient_id)
    stored = state.registry.version_history(pid, actor=caller.name)
    rows = [v.model_dump(mode="json") for v in page(stored, limit=limit, offset=offset)]
    if caller.pseudonymized:
        rows = [state.pseudonymizer.version({**r, "problems": []}) for r in rows]
    shown = state.pseudonymizer.pseudonym(pid) if caller.pseudonymized else pid
    return {"patient_id": shown, "total": len(stored), "versions": rows}


@router.get(
    "/{patient_id}/versions/{version}",
    summary="One version of a record",
    responses=error_responses(404, 409),
)
def get_version(
    state: State,
    caller: Anyone,
    patient_id: str,
    version: Annotated[int, Path(ge=1, le=MAX_RECORD_VERSION, description="1 for the first.")],
) -> dict[str, Any]:
    """One version (1..n) of a patient's record; 409 as for the latest version when its stored
    record no longer validates against the record model."""
    return _shown(state, caller, read_version(state, caller, patient_id, version))


@router.get(
    "/{patient_id}/evaluations",
    summary="Stored evaluations of a patient",
    responses=error_responses(404, 409),
)
def list_evaluations(
    state: State,
    caller: Anyone,
    patient_id: str,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The stored evaluations of a patient, oldest first: ``total`` counts them all,
    ``evaluations`` holds the page ``limit`` and ``offset`` select.

    A stored evaluation on the page that no longer validates against this immunoprecise's
    evaluation model (stored by an earlier release, or changed in the database) is answered
    with 409: its id, the record version it evaluated, when it was stored, its ``offset`` and
    invalid fields (for researchers the fields only); pages that leave it out are answered."""
    pid = patient_id_of(state, caller, patient_id)
    found = state.registry.evaluation_page(pid, actor=caller.name, offset=offset, limit=limit)
    rows = []
    for item in found.evaluations:
        data = item.model_dump(mode="json")
        if caller.pseudonymized:
            data["evaluation"] = state.pseudonymizer.evaluation(data["evaluation"])
            data["patient_id"] = state.pseudonymizer.pseudonym(pid)
        rows.append(data)
    shown = state.pseudonymizer.pseudonym(pid) if caller.pseudonymized else pid
    return {"patient_id": shown, "total": found.total, "evaluations": rows}
