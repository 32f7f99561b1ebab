"""HTTP answers to errors: 422 field lists, 400/404/409 messages, and 500 without internals.

- :class:`~immunoprecise.errors.ValidationError` and FastAPI's request validation → 422
  ``{"detail": [{"field", "value", "message"}, ...]}``;
- :class:`~immunoprecise.registry.StoredRecordError` (a stored record version that no longer
  validates against the record model) → 409 with its invalid fields and how to store a
  corrected version (:class:`ConflictAnswer`; for callers who see pseudonymized data the
  fields only, not the stored values);
- :class:`~immunoprecise.registry.StoredEvaluationError` (a stored evaluation that no longer
  validates against the evaluation model) → 409 naming the evaluation (id, the record version
  it evaluated, when it was stored) and its invalid fields (:class:`ConflictAnswer`; for
  researchers the fields only);
- :class:`~immunoprecise.errors.RegistryError` → 404 (no such patient or version, no token),
  409 (token name taken) or 400, with a message; a database failure (see
  :func:`is_database_failure`) → 500 like any unexpected error, so that neither the database
  URL nor SQL reaches the client;
- every other :class:`~immunoprecise.errors.ImmunopreciseError` (model, unit, expression,
  knowledge base) → 400 ``{"detail": message}``;
- a method a path does not support → 405 with ``Allow`` naming every method of that path
  (Starlette names only those of the first route whose path matches);
- anything else → 500 ``{"detail": "internal error", "id": <uuid>}``; the traceback is written to
  the server log under that id, never into the response.

The dashboard's pages and htmx fragments (every path outside ``/api/`` and the OpenAPI
documentation) get the same status codes as HTML instead of JSON, from the page the dashboard
installs with :func:`install_error_page`: the message, each invalid field with the value
received, and a 500's error id.

:func:`error_responses` declares these answers in the OpenAPI schema (models
:class:`ErrorAnswer`, :class:`ValidationErrorAnswer`, :class:`InternalErrorAnswer`), so that
what a route may answer is what its schema says.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import urllib.parse
import uuid
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, Literal, Protocol, cast

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from immunoprecise.errors import FieldProblem, ImmunopreciseError, RegistryError, ValidationError
from immunoprecise.registry import StoredEvaluationError, StoredRecordError
from immunoprecise.registry.models import stored_at_text
from immunoprecise.service.auth import (
    TokenConflictError,
    TokenNotFoundError,
    TokenStoreDatabaseError,
)
from immunoprecise.service.payloads import TOO_LARGE, escaped, too_large_message

__all__ = [
    "API_PREFIX",
    "CALLER_SCOPE_KEY",
    "ConflictAnswer",
    "ErrorAnswer",
    "ErrorPage",
    "FieldProblemAnswer",
    "InternalErrorAnswer",
    "StoredRecordPage",
    "ValidationErrorAnswer",
    "error_responses",
    "install_error_handlers",
    "install_error_page",
    "install_stored_record_page",
    "is_database_failure",
    "message_answer",
    "problem_detail",
    "registry_status",
    "stored_evaluation_answer",
    "stored_record_answer",
]

logger = logging.getLogger("immunoprecise.service")

_MAX_VALUE_CHARS = 200
API_PREFIX = "/api/"
"""Paths under this prefix are the REST API: their errors are always answered as JSON."""
CALLER_SCOPE_KEY = "immunoprecise.caller"
"""Request-scope key of the authenticated caller (set by the REST API's authentication and the
dashboard's session check), so that an error answer can leave out what the caller may not see."""


class ErrorPage(Protocol):
    """Renders an error as the dashboard shows it (a page, or an htmx fragment)."""

    def __call__(
        self,
        request: Request,
        status_code: int,
        message: str,
        problems: Sequence[FieldProblem],
        error_id: str | None,
    ) -> Awaitable[Response]:
        """The HTML answer: ``message``, the invalid fields ``problems`` (field, value received,
        what is wrong) and, for a 500, the ``error_id`` under which the server log has it."""
        ...


class ErrorAnswer(BaseModel):
    """An error answer (400, 401, 403, 404, 413, 429): what went wrong."""

    model_config = ConfigDict(extra="forbid")

    detail: str = Field(description="What went wrong, in words.")


class ConflictAnswer(BaseModel):
    """A 409 answer: what conflicts; for a stored record version or evaluation that no longer
    validates against its model, also which one and its invalid fields."""

    model_config = ConfigDict(extra="forbid")

    detail: str = Field(description="What went wrong and what to do, in words.")
    patient_id: str | None = Field(
        default=None,
        description="A stored record or evaluation that no longer validates: the patient (a "
        "pseudonym for researchers).",
    )
    version: int | None = Field(
        default=None,
        description="A stored record that no longer validates: its version; a stored "
        "evaluation: the record version it evaluated.",
    )
    evaluation_id: int | None = Field(
        default=None, description="A stored evaluation that no longer validates: its id."
    )
    created_at: str | None = Field(
        default=None,
        description="A stored evaluation that no longer validates: when it was stored (ISO "
        "8601, UTC).",
    )
    offset: int | None = Field(
        default=None,
        description="A stored evaluation that no longer validates: where it is among the "
        "patient's evaluations, oldest first (the `offset` of a page that starts with it); "
        "pages that leave it out can be read.",
    )
    invalid_fields: list[str] | None = Field(
        default=None,
        description="A stored record or evaluation that no longer validates: the dotted paths "
        "of its invalid fields.",
    )
    problems: list[str] | None = Field(
        default=None,
        description="A stored record or evaluation that no longer validates: each invalid "
        "field with its stored value and what is expected (empty for researchers: they quote "
        "stored values).",
    )


class FieldProblemAnswer(BaseModel):
    """One invalid field of a request."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="Where: e.g. `host.crp`, `query.limit`, `body`.")
    value: Any = Field(
        default=None,
        description="The value received (texts cut at 200 characters); null for a missing field "
        "or a whole object or list.",
    )
    message: str = Field(description="What is wrong with it.")


class ValidationErrorAnswer(BaseModel):
    """A 422 answer: every invalid field of the request."""

    model_config = ConfigDict(extra="forbid")

    detail: list[FieldProblemAnswer]


class InternalErrorAnswer(BaseModel):
    """A 500 answer: no internals, only the id under which the server log has the details."""

    model_config = ConfigDict(extra="forbid")

    detail: Literal["internal error"]
    id: str = Field(description="The error's id (a UUID) in the server log.")


_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    400: (ErrorAnswer, "A body that cannot be read, or a model, unit or other input error."),
    401: (ErrorAnswer, "No bearer token, or an unknown or revoked one."),
    403: (ErrorAnswer, "The token's role may not do this."),
    404: (ErrorAnswer, "No such patient, version, job, cohort, therapy or token."),
    409: (
        ConflictAnswer,
        "A token name that is taken, a trial result asked for too early, a stored record "
        "version that no longer validates against the record model (its invalid fields; store "
        "a corrected version), or a stored evaluation that no longer validates against the "
        "evaluation model (its id, record version, time and invalid fields).",
    ),
    413: (ErrorAnswer, "The upload is larger than the service accepts."),
    422: (ValidationErrorAnswer, "Invalid fields: each with its value and what is wrong."),
    429: (ErrorAnswer, "Too many requests for this token; see the `Retry-After` header."),
    500: (InternalErrorAnswer, "An unexpected error; the server log has it under `id`."),
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error answers ``codes`` (for a route or router).

    Examples
    --------
    >>> sorted(error_responses(401, 404))
    [401, 404]
    >>> error_responses(422)[422]["model"].__name__
    'ValidationErrorAnswer'
    """
    return {code: {"model": _ERRORS[code][0], "description": _ERRORS[code][1]} for code in codes}


def _value(value: Any) -> Any:
    try:
        encoded = jsonable_encoder(value)
    except (TypeError, ValueError):
        encoded = repr(value)
    if isinstance(encoded, dict | list):
        return None  # a whole sub-document: the field path says where
    if isinstance(encoded, float) and not math.isfinite(encoded):
        # NaN and ±Infinity (accepted by Python's JSON reader) have no place in standard JSON:
        # shown as the text the client sent, so that the 422 itself is valid JSON
        return "NaN" if math.isnan(encoded) else ("Infinity" if encoded > 0 else "-Infinity")
    if isinstance(encoded, str):
        encoded = escaped(encoded)
        if len(encoded) > _MAX_VALUE_CHARS:
            return encoded[:_MAX_VALUE_CHARS] + "…"
    return encoded


def problem_detail(problems: Iterable[FieldProblem]) -> list[dict[str, Any]]:
    """The ``detail`` list of a 422 answer: field, value received, message.

    Non-finite numbers (``NaN``, ``Infinity``) are shown as text, so that the answer is standard
    JSON.

    Examples
    --------
    >>> problem_detail([FieldProblem("host.crp", "5 cells/uL", "needs mg/L")])
    [{'field': 'host.crp', 'value': '5 cells/uL', 'message': 'needs mg/L'}]
    >>> problem_detail([FieldProblem("body.t_end", float("nan"), "not a number")])[0]["value"]
    'NaN'
    """
    return [
        {"field": escaped(p.field), "value": _value(p.value), "message": escaped(p.message)}
        for p in problems
    ]


def registry_status(exc: RegistryError) -> int:
    """The HTTP status of a registry error: 404 for what is not there, 409 for a taken name.

    The registry's own errors are told apart by their message ("no patient …", "… has no record
    version …"); the service's token errors by their class.
    """
    text = str(exc)
    if (
        isinstance(exc, TokenNotFoundError)
        or text.startswith("no patient ")
        or text.startswith("no cohort ")
        or ("has no record version" in text)
    ):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, TokenConflictError):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error_page(request: Request) -> ErrorPage | None:
    """The dashboard's error page when ``request`` is a dashboard request (not the REST API nor
    its documentation) and the dashboard is installed; ``None`` for a JSON answer."""
    path = request.url.path
    app = request.app
    documentation = {
        app.openapi_url,
        app.docs_url,
        app.redoc_url,
        app.swagger_ui_oauth2_redirect_url,
    }
    if path.startswith(API_PREFIX) or path in documentation:
        return None
    return cast(ErrorPage | None, getattr(app.state, "error_page", None))


async def _problems_answer(request: Request, problems: Sequence[FieldProblem]) -> Response:
    code = status.HTTP_422_UNPROCESSABLE_CONTENT
    page = _error_page(request)
    if page is not None:
        shown = [
            FieldProblem(
                escaped(p.field),
                escaped(p.value) if isinstance(p.value, str) else p.value,
                escaped(p.message),
            )
            for p in problems
        ]
        return await page(request, code, "the request is not valid", shown, None)
    return JSONResponse({"detail": problem_detail(problems)}, status_code=code)


async def message_answer(request: Request, code: int, message: str) -> Response:
    """An error answer with one message: JSON ``{"detail": message}`` for the REST API, the
    error page for a dashboard request (as the service's error handlers answer).

    Parameters
    ----------
    request
        The request answered.
    code
        The HTTP status code (e.g. 413).
    message
        What went wrong and what to do.

    Returns
    -------
    starlette.responses.Response
    """
    message = escaped(message)
    page = _error_page(request)
    if page is not None:
        return await page(request, code, message, (), None)
    return JSONResponse({"detail": message}, status_code=code)


async def _validation_error(request: Request, exc: Exception) -> Response:
    problems = exc.problems if isinstance(exc, ValidationError) else ()
    return await _problems_answer(request, problems)


def _is_json(request: Request) -> bool:
    """Whether the request says its body is JSON (as FastAPI reads it: ``application/json`` or
    ``application/*+json``)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _body_schemas(route: Any) -> list[str]:
    """The names of the OpenAPI schemas a route's JSON body may follow (``PatientRecord``):
    those its OpenAPI description refers to, else its body model's."""
    extra = getattr(route, "openapi_extra", None) or {}
    content = extra.get("requestBody", {}).get("content", {}).get("application/json", {})
    found = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(content))
    if not found:
        field = getattr(route, "body_field", None)
        annotation = getattr(getattr(field, "field_info", None), "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found = [annotation.__name__]
    return list(dict.fromkeys(found))


def _body_model(request: Request) -> type[BaseModel] | None:
    """The model a request's route reads its JSON body as, if it has one."""
    field = getattr(request.scope.get("route"), "body_field", None)
    annotation = getattr(getattr(field, "field_info", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _empty_body_message(request: Request, sent: str) -> str:
    """What a 422 says of a request sent without a body (``sent``: ``"empty"``) or with JSON
    ``null`` (``"JSON null"``): what the route expects instead, and where its schema is."""
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    described = getattr(getattr(field, "field_info", None), "description", None)
    what = "a JSON object"
    if described:
        what = described.strip().rstrip(".")
        what = (what[:1].lower() + what[1:]) + " as a JSON object"
    message = (
        f"the request body is {sent}: send {what}, with the header 'Content-Type: application/json'"
    )
    schemas = _body_schemas(route)
    if schemas:
        named = " or ".join(f"components.schemas.{name}" for name in schemas)
        message += f" (its schema: {named} in /openapi.json; try it out at /docs)"
    if "PatientRecord" in schemas:
        message += (
            "; example records ship with immunoprecise: "
            'immunoprecise.data.example_path("crc_msih.json")'
        )
    return message


async def _request_validation_error(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else ()
    problems = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        value = None if error.get("type") == "missing" else error.get("input")
        if error.get("type") == "json_invalid":
            # FastAPI puts the character position where a field index would be ("body[8]")
            position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            reason = str((error.get("ctx") or {}).get("error", "")).strip()
            at = f" at character {position}" if position is not None else ""
            message = f"the body is not valid JSON{at}" + (f": {reason}" if reason else "")
            loc, value = loc[:1], None
        elif loc == ("body",) and error.get("type") == "missing":
            message = _empty_body_message(request, "empty")
        elif loc == ("body",) and "input" in error and error["input"] is None:
            message = _empty_body_message(request, "JSON null")
        elif loc[:1] == ("body",) and message == TOO_LARGE:
            message = too_large_message(value, _body_model(request), loc[1:])
        elif loc == ("body",) and isinstance(value, str | bytes) and not _is_json(request):
            # a JSON text sent as another content type (curl -d sends a form) reads as a string
            sent = request.headers.get("content-type") or "none"
            message = (
                "send the body as a JSON object with the header 'Content-Type: application/json' "
                f"(this request's Content-Type: {sent})"
            )
        problems.append(FieldProblem(_where(loc) or "(request)", value, message))
    return await _problems_answer(request, problems)


def is_database_failure(exc: RegistryError) -> bool:
    """Whether a registry error is the database failing (unreachable, not migrated, a failed
    statement) rather than a request naming what is not there: the registry words these
    ``registry <url>: <driver message>``, the token store raises
    :class:`~immunoprecise.service.auth.TokenStoreDatabaseError`."""
    return isinstance(exc, TokenStoreDatabaseError) or str(exc).startswith("registry ")


async def _registry_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RegistryError) and is_database_failure(exc):
        # a server fault: 500 with an id; the database URL and SQL stay in the server log
        return await _unexpected_error(request, exc)
    code = registry_status(exc) if isinstance(exc, RegistryError) else 400
    return await message_answer(request, code, str(exc))


def _sees_identified_data(request: Request) -> bool:
    """Whether the request's caller sees identified patient data (clinicians, admins); ``False``
    when the caller is not known, so that nothing is shown that a researcher may not see."""
    caller = request.scope.get(CALLER_SCOPE_KEY)
    return caller is not None and not getattr(caller, "pseudonymized", True)


class StoredRecordPage(Protocol):
    """Renders, for the dashboard, a stored record version that no longer validates."""

    def __call__(
        self, request: Request, answer: ConflictAnswer, identified: bool
    ) -> Awaitable[Response]:
        """The HTML answer (409) for ``answer``; ``identified``: whether the caller sees
        identified data (and so may store a corrected record)."""
        ...


def stored_record_answer(
    exc: StoredRecordError, shown_id: str, *, identified: bool
) -> ConflictAnswer:
    """The 409 answer to a stored record version that no longer validates: the version, its
    invalid fields and, for callers who see identified data, each field's stored value and what
    is expected; the detail says how to store a corrected record.

    Parameters
    ----------
    exc
        The registry's error.
    shown_id
        The patient id as the caller knows it (a pseudonym for researchers).
    identified
        Whether the caller sees identified data; ``False`` leaves the stored values out.

    Returns
    -------
    ConflictAnswer

    Examples
    --------
    >>> exc = StoredRecordError("P1", 1, [FieldProblem("patient.age", 131, "at most 130")])
    >>> stored_record_answer(exc, "PS-1", identified=False).problems
    []
    >>> stored_record_answer(exc, "P1", identified=True).problems
    ['patient.age = 131: at most 130']
    """
    fields = [escaped(f) for f in exc.invalid_fields]
    problems = [escaped(str(p)) for p in exc.problems] if identified else []
    url = f"/api/v1/patients/{urllib.parse.quote(shown_id, safe='')}"
    head = (
        f"record version {exc.version} of patient {escaped(shown_id)!r} no longer validates "
        "against this immunoprecise's record model (it was stored by an earlier release)"
    )
    if identified:
        detail = (
            f"{head}: {'; '.join(problems)}. Store a corrected record: PUT {url} with the "
            "record as JSON (or POST it to /api/v1/patients), or import the corrected file "
            "(the dashboard's patients page, or immunoprecise db import FILE). It "
            f"becomes the latest version; earlier versions stay as stored (GET {url}/versions)"
        )
    else:
        detail = (
            f"{head}; invalid fields: {', '.join(fields)}. A clinician can store a corrected "
            "record (PUT /api/v1/patients/<patient id> or an import); it becomes the latest version"
        )
    return ConflictAnswer(
        detail=detail,
        patient_id=escaped(shown_id),
        version=exc.version,
        invalid_fields=fields,
        problems=problems,
    )


def _shown_patient(request: Request, patient_id: str) -> tuple[bool, str]:
    """Whether the caller sees identified data, and ``patient_id`` as the caller knows it (its
    pseudonym for a caller who does not)."""
    if _sees_identified_data(request):
        return True, patient_id
    return False, request.app.state.service.pseudonymizer.pseudonym(patient_id)


async def _stored_record_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StoredRecordError):  # pragma: no cover - registered for this class
        return await _unexpected_error(request, exc)
    identified, shown_id = _shown_patient(request, exc.patient_id)
    answer = stored_record_answer(exc, shown_id, identified=identified)
    page = getattr(request.app.state, "stored_record_page", None)
    if _error_page(request) is not None and page is not None:
        return await cast(StoredRecordPage, page)(request, answer, identified)
    return JSONResponse(
        answer.model_dump(mode="json", exclude_none=True), status_code=status.HTTP_409_CONFLICT
    )


def stored_evaluation_answer(
    exc: StoredEvaluationError, shown_id: str, *, identified: bool
) -> ConflictAnswer:
    """The 409 answer to a stored evaluation that no longer validates: the evaluation (id, the
    record version it evaluated, when it was stored, where it is among the patient's), its
    invalid fields and, for callers who see identified data, each field's stored value and
    what is expected; the detail says how to read the others and store a new evaluation.

    Parameters
    ----------
    exc
        The registry's error.
    shown_id
        The patient id as the caller knows it (a pseudonym for researchers).
    identified
        Whether the caller sees identified data; ``False`` leaves the stored values out.

    Returns
    -------
    ConflictAnswer

    Examples
    --------
    >>> import datetime as dt
    >>> at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    >>> exc = StoredEvaluationError("P1", 7, 2, at, 0, [FieldProblem("patient_id", 3, "text")])
    >>> answer = stored_evaluation_answer(exc, "PS-1", identified=False)
    >>> answer.evaluation_id, answer.version, answer.created_at, answer.problems
    (7, 2, '2026-03-01T09:30:00Z', [])
    """
    fields = [escaped(f) for f in exc.invalid_fields]
    problems = [escaped(str(p)) for p in exc.problems] if identified else []
    quoted = urllib.parse.quote(shown_id, safe="")
    at = exc.created_at.astimezone(dt.UTC) if exc.created_at.tzinfo else exc.created_at
    after, before = exc.position + 1, exc.position
    head = (
        f"evaluation {exc.evaluation_id} of patient {escaped(shown_id)!r} (of record version "
        f"{exc.record_version}, stored {stored_at_text(exc.created_at)}) no longer validates "
        "against this immunoprecise's evaluation model (it was stored by an earlier release, "
        "or changed in the database since)"
    )
    found = f": {'; '.join(problems)}" if identified else f"; invalid fields: {', '.join(fields)}"
    pages = f"GET /api/v1/patients/{quoted}/evaluations?offset={after} reads the ones after it" + (
        f", ?limit={before} the ones before it" if before else ""
    )
    detail = (
        f"{head}{found}. It stays stored as it is; {pages}. POST /api/v1/evaluate with "
        f'{{"patient_id": "{escaped(shown_id)}"}} evaluates the record again'
        + (" and stores the new evaluation" if identified else "")
    )
    return ConflictAnswer(
        detail=detail,
        patient_id=escaped(shown_id),
        version=exc.record_version,
        evaluation_id=exc.evaluation_id,
        created_at=at.isoformat().replace("+00:00", "Z"),
        offset=exc.position,
        invalid_fields=fields,
        problems=problems,
    )


async def _stored_evaluation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StoredEvaluationError):  # pragma: no cover - registered for it
        return await _unexpected_error(request, exc)
    identified, shown_id = _shown_patient(request, exc.patient_id)
    answer = stored_evaluation_answer(exc, shown_id, identified=identified)
    if _error_page(request) is not None:
        return await message_answer(request, status.HTTP_409_CONFLICT, answer.detail)
    return JSONResponse(
        answer.model_dump(mode="json", exclude_none=True), status_code=status.HTTP_409_CONFLICT
    )


async def _immunoprecise_error(request: Request, exc: Exception) -> Response:
    return await message_answer(request, status.HTTP_400_BAD_REQUEST, str(exc))


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 with ``Allow`` naming every method some route serves at this path (RFC 9110)."""
    headers = dict(exc.headers or {}) if isinstance(exc, StarletteHTTPException) else {}
    allowed: list[str] = []
    mounted = False
    for method in _METHODS:
        scope = dict(request.scope, method=method)
        for route in request.app.router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                mounted = mounted or isinstance(route, Mount)
                allowed.append(method)
                break
    if allowed and not mounted:  # a mounted app (static files) says itself what it allows
        headers["Allow"] = ", ".join(allowed)
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
        headers=headers,
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    """404: the dashboard's error page for a dashboard address no page answers (a mistyped or
    outdated link), with a way back; JSON ``{"detail": ...}`` for the REST API, as before."""
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else "Not Found"
    headers = dict(exc.headers or {}) if isinstance(exc, StarletteHTTPException) else {}
    page = _error_page(request)
    if page is None:
        return JSONResponse(
            {"detail": detail}, status_code=status.HTTP_404_NOT_FOUND, headers=headers
        )
    message = (
        detail
        if isinstance(detail, str) and detail != "Not Found"
        else (
            f"no page at {request.url.path}: check the address, or start from the Patients, "
            "Cohorts or Trials pages"
        )
    )
    return await page(request, status.HTTP_404_NOT_FOUND, escaped(message), (), None)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    error_id = str(uuid.uuid4())
    logger.error(
        "internal error %s on %s %s",
        error_id,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    page = _error_page(request)
    if page is not None:
        code = status.HTTP_500_INTERNAL_SERVER_ERROR
        return await page(request, code, "internal error", (), error_id)
    return JSONResponse(
        {"detail": "internal error", "id": error_id},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``.

    Parameters
    ----------
    app
        The application.
    """
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StoredRecordError, _stored_record_error)
    app.add_exception_handler(StoredEvaluationError, _stored_evaluation_error)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(ImmunopreciseError, _immunoprecise_error)
    app.add_exception_handler(status.HTTP_404_NOT_FOUND, _not_found)
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, _method_not_allowed)
    app.add_exception_handler(Exception, _unexpected_error)


def install_error_page(app: FastAPI, page: ErrorPage) -> None:
    """Answer the errors of the dashboard's requests (every path outside ``/api/`` and the
    OpenAPI documentation) with ``page`` instead of JSON, with the same status codes.

    Parameters
    ----------
    app
        The application (its error handlers installed by :func:`install_error_handlers`).
    page
        Renders one error as HTML.
    """
    app.state.error_page = page


def install_stored_record_page(app: FastAPI, page: StoredRecordPage) -> None:
    """Answer a dashboard request that reads a stored record version that no longer validates
    with ``page`` (a 409 page saying which fields and how to store a corrected record) instead
    of the REST API's JSON.

    Parameters
    ----------
    app
        The application (its error handlers installed by :func:`install_error_handlers`).
    page
        Renders the answer as HTML.
    """
    app.state.stored_record_page = page
