"""HTTP answers to errors: 422 field lists, 400/404/409 messages, and 500 without internals.

- :class:`~immunoprecise.errors.ValidationError` and FastAPI's request validation → 422
  ``{"detail": [{"field", "value", "message"}, ...]}``;
- :class:`~immunoprecise.errors.RegistryError` → 404 (no such patient or version, no token),
  409 (token name taken) or 400, with a message;
- every other :class:`~immunoprecise.errors.ImmunopreciseError` (model, unit, expression,
  knowledge base) → 400 ``{"detail": message}``;
- anything else → 500 ``{"detail": "internal error", "id": <uuid>}``; the traceback is written to
  the server log under that id, never into the response.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from immunoprecise.errors import FieldProblem, ImmunopreciseError, RegistryError, ValidationError
from immunoprecise.service.auth import TokenConflictError, TokenNotFoundError

__all__ = ["install_error_handlers", "problem_detail", "registry_status"]

logger = logging.getLogger("immunoprecise.service")

_MAX_VALUE_CHARS = 200


def _value(value: Any) -> Any:
    try:
        encoded = jsonable_encoder(value)
    except (TypeError, ValueError):
        encoded = repr(value)
    if isinstance(encoded, dict | list):
        return None  # a whole sub-document: the field path says where
    if isinstance(encoded, str) and len(encoded) > _MAX_VALUE_CHARS:
        return encoded[:_MAX_VALUE_CHARS] + "…"
    return encoded


def problem_detail(problems: Iterable[FieldProblem]) -> list[dict[str, Any]]:
    """The ``detail`` list of a 422 answer: field, value received, message.

    Examples
    --------
    >>> problem_detail([FieldProblem("host.crp", "5 cells/uL", "needs mg/L")])
    [{'field': 'host.crp', 'value': '5 cells/uL', 'message': 'needs mg/L'}]
    """
    return [{"field": p.field, "value": _value(p.value), "message": p.message} for p in problems]


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


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    problems = exc.problems if isinstance(exc, ValidationError) else ()
    return JSONResponse(
        {"detail": problem_detail(problems)},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else ()
    problems = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        value = None if error.get("type") == "missing" else error.get("input")
        problems.append(FieldProblem(_where(loc) or "(request)", value, message))
    return JSONResponse(
        {"detail": problem_detail(problems)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _registry_error(request: Request, exc: Exception) -> JSONResponse:
    code = registry_status(exc) if isinstance(exc, RegistryError) else 400
    return JSONResponse({"detail": str(exc)}, status_code=code)


async def _immunoprecise_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    error_id = str(uuid.uuid4())
    logger.error(
        "internal error %s on %s %s",
        error_id,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
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
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(ImmunopreciseError, _immunoprecise_error)
    app.add_exception_handler(Exception, _unexpected_error)
