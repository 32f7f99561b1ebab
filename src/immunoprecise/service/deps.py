"""What every request handler gets: the service state, the caller and their role."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, cast

import pandas as pd
from fastapi import Depends, HTTPException, Request, params, status
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.knowledge import KnowledgeBase
from immunoprecise.registry import Registry
from immunoprecise.service.auth import Role, TokenStore
from immunoprecise.service.body_limit import (
    BODY_LIMIT_SCOPE_KEY,
    BodyTooLargeError,
    too_large_message,
)
from immunoprecise.service.caches import EvaluationCache, RecentlyUsed
from immunoprecise.service.errors import CALLER_SCOPE_KEY
from immunoprecise.service.jobs import JobManager
from immunoprecise.service.payloads import lone_surrogates, repeated_keys
from immunoprecise.service.pseudonymize import Pseudonymizer
from immunoprecise.service.ratelimit import Limiter

if TYPE_CHECKING:
    from immunoprecise.service.sessions import SessionStore

__all__ = [
    "Admin",
    "Anyone",
    "AuthorizedRoute",
    "Caller",
    "Clinical",
    "ServiceState",
    "State",
    "authenticate",
    "check_body",
    "check_query",
    "differing_in_case",
    "require",
]

COHORT_FRAMES_KEPT = 8
"""Cohort analysis tables the service keeps (the latest used)."""


def differing_in_case(given: str, known: Iterable[str]) -> list[str]:
    """The ids in ``known`` that differ from ``given`` only in case (equal after Unicode case
    folding, but not equal), sorted: what a 404 names as the id probably meant.

    Parameters
    ----------
    given
        The id asked for.
    known
        The ids there are.

    Returns
    -------
    list of str

    Examples
    --------
    >>> differing_in_case("ps-00AB", ["PS-00ab", "PS-00ac", "ps-00AB"])
    ['PS-00ab']
    """
    wanted = given.casefold()
    return sorted(k for k in known if k != given and k.casefold() == wanted)


@dataclass
class ServiceState:
    """Everything the handlers share, made by :func:`~immunoprecise.service.create_app`."""

    registry: Registry
    tokens: TokenStore
    pseudonymizer: Pseudonymizer
    jobs: JobManager
    sessions: SessionStore
    knowledge_base: KnowledgeBase
    limiter: Limiter | None
    max_upload_bytes: int
    evaluations: EvaluationCache = field(default_factory=EvaluationCache)
    cohort_frames: RecentlyUsed[str, pd.DataFrame] = field(
        default_factory=lambda: RecentlyUsed(COHORT_FRAMES_KEPT)
    )
    _pseudonyms: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def patient_for(self, pseudonym: str, *, actor: str) -> str | None:
        """The patient id behind a pseudonym (``None`` if none); lists patients on a miss."""
        with self._lock:
            found = self._pseudonyms.get(pseudonym)
        if found is not None:
            return found
        ids = self.registry.patients(actor=actor)
        mapping = {self.pseudonymizer.pseudonym(pid): pid for pid in ids}
        with self._lock:
            self._pseudonyms = mapping
        return mapping.get(pseudonym)

    def pseudonyms_differing_in_case(self, pseudonym: str) -> list[str]:
        """The known pseudonyms that differ from ``pseudonym`` only in case, sorted (see
        :func:`differing_in_case`); read after :meth:`patient_for` missed it, for a 404's hint."""
        with self._lock:
            known = list(self._pseudonyms)
        return differing_in_case(pseudonym, known)

    def close(self) -> None:
        """Stop the jobs, release the database connections (the registry, tokens, sessions and
        jobs share one engine, so closing one closes them all) and the rate limiter."""
        self.jobs.shutdown()
        self.registry.close()
        if self.limiter is not None:
            self.limiter.close()


async def _state(request: Request) -> ServiceState:
    return cast(ServiceState, request.app.state.service)


State = Annotated[ServiceState, Depends(_state)]

_bearer = HTTPBearer(
    auto_error=False,
    description="A token made with `immunoprecise token create NAME --role ROLE`.",
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's name (the audit log's actor) and role."""

    name: str
    role: Role

    @property
    def pseudonymized(self) -> bool:
        """Whether this caller sees pseudonymized patient data only."""
        return self.role is Role.researcher


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route (its endpoint and every dependency) declares."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def check_query(request: Request) -> None:
    """Refuse query parameters the route does not take, a parameter given twice, and a path or
    query parameter holding the NUL character (422).

    Without this, a misspelt parameter (``/cohorts/x/survival?group=arm`` for ``by=arm``) or a
    repeated one (``?limit=5&limit=50``) would be dropped silently and the answer would look
    valid; and a NUL character (``/patients/a%00b``), which PostgreSQL refuses in any text,
    would fail in the database as a 500 instead of being named.

    Raises
    ------
    ValidationError
        Naming each such parameter, its value and the parameters the route takes.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    problems = []
    for name in dict.fromkeys(request.query_params.keys()):
        values = request.query_params.getlist(name)
        takes = ", ".join(sorted(known)) if known else "none"
        if name not in known:
            message = f"unknown query parameter; this endpoint takes: {takes}"
            problems.append(FieldProblem(f"query.{name}", values[-1], message))
        elif len(values) > 1:
            message = f"given {len(values)} times ({', '.join(values)[:100]}); give it once"
            problems.append(FieldProblem(f"query.{name}", values[-1], message))
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            problems.append(FieldProblem(f"path.{name}", value, _NUL_MESSAGE))
    for name, value in request.query_params.multi_items():
        if name in known and "\x00" in value:
            problems.append(FieldProblem(f"query.{name}", value, _NUL_MESSAGE))
    if problems:
        raise ValidationError(problems)


_NUL_MESSAGE = (
    "holds the NUL character (\\x00, %00 in a URL), which no id, name or search text of the "
    "registry can hold; remove it"
)


def _says_json(request: Request) -> bool:
    """Whether the request says its body is JSON (``application/json`` or
    ``application/*+json``, the bodies FastAPI reads as JSON)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _repeated_form_fields(form: FormData) -> list[FieldProblem]:
    """A problem for each field a form gives more than once (FastAPI reads the last one)."""
    given: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        shown = value if isinstance(value, str) else (value.filename or "(a file)")
        given.setdefault(name, []).append(shown)
    return [
        FieldProblem(
            name,
            None,
            f"given {len(values)} times ({', '.join(repr(v[:60]) for v in values)}); only one "
            "would be read: send it once",
        )
        for name, values in given.items()
        if len(values) > 1
    ]


async def check_body(request: Request) -> None:
    """Refuse a JSON body that gives a key twice in one object, or holds a lone surrogate,
    anywhere in it, and a form that gives a field twice (422).

    Python's JSON reader, and so FastAPI's, keeps the last value of a repeated key:
    ``{"age": 50, "age": 70}`` would be read as 70, and the 50 dropped without a word; FastAPI
    reads the last of a form's repeated fields, so that of two uploaded files only the second
    would be imported. A JSON text holding a lone UTF-16 surrogate escape (``"\\ud800"``) is
    refused too: it is no character and would fail wherever the text goes (the answer, the
    database) as a 500.

    Raises
    ------
    ValidationError
        Naming each repeated key (its path in the body) or form field, and every value given.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return  # no body: FastAPI read none, nor do we
    if isinstance(route.body_field.field_info, params.Form):  # a form (File is a Form too)
        problems = _repeated_form_fields(await request.form())  # the form FastAPI read, kept
    elif _says_json(request):
        raw = await request.body()  # the bytes FastAPI read, kept
        problems = repeated_keys(raw) + lone_surrogates(raw)
    else:
        return
    if problems:
        raise ValidationError(problems)


_AUTHORIZING = "immunoprecise.authorizing"
"""Request-scope key set when a route's authentication dependency starts: an error raised
before it (a body that is not JSON, a form that cannot be read) has not been authorized yet."""


async def _identify(
    request: Request,
    state: ServiceState,
    credentials: HTTPAuthorizationCredentials | None,
) -> Caller:
    """The caller behind the bearer token (401) within their rate limit (429)."""
    request.scope[_AUTHORIZING] = True
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <token>' (an administrator "
            "makes tokens with `immunoprecise token create NAME --role ROLE`)",
            headers=challenge,
        )
    token = state.tokens.verify(credentials.credentials)
    if token is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked token", headers=challenge
        )
    if state.limiter is not None:
        wait = state.limiter.take(token.name)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many requests for token {token.name!r}: at most "
                f"{state.limiter.limit.rate:g} per second (bursts of "
                f"{state.limiter.limit.burst}); retry after {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
    caller = Caller(token.name, token.role)
    request.scope[CALLER_SCOPE_KEY] = caller  # for error answers (see service.errors)
    return caller


def _check_role(caller: Caller, roles: frozenset[Role]) -> None:
    """403 unless the caller's role is one of ``roles``."""
    if caller.role not in roles:
        allowed = ", ".join(r.value for r in Role if r in roles)
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"token {caller.name!r} has role {caller.role.value}; this needs {allowed}",
        )


async def authenticate(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """Check the bearer token (401), the caller's rate limit (429), the query parameters
    (422, :func:`check_query`) and that the body gives no JSON key or form field twice (422,
    :func:`check_body`).

    Parameters
    ----------
    request
        The request.
    state
        The service state.
    credentials
        The ``Authorization: Bearer`` header, if sent.

    Returns
    -------
    Caller
    """
    caller = await _identify(request, state, credentials)
    check_query(request)
    await check_body(request)
    return caller


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Caller]]:
    """A dependency that lets only ``roles`` through (403 for the others).

    The role is checked before anything about the request's parameters or body, so that a
    token whose role may not use an endpoint learns nothing about what the endpoint accepts:
    it gets 403, never a 422.

    Parameters
    ----------
    roles
        The roles allowed.

    Returns
    -------
    callable
        The dependency, to use with ``Depends``.

    Examples
    --------
    >>> check = require(Role.admin, Role.clinician)
    >>> sorted(r.value for r in check.roles)  # type: ignore[attr-defined]
    ['admin', 'clinician']
    """
    allowed = frozenset(roles)

    async def check(
        request: Request,
        state: State,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        caller = await _identify(request, state, credentials)
        _check_role(caller, allowed)
        check_query(request)
        await check_body(request)
        return caller

    check.roles = allowed  # type: ignore[attr-defined]
    return check


def _required_roles(dependant: Dependant) -> frozenset[Role] | None:
    """The roles a route lets through (every role for :func:`authenticate`); ``None`` for a
    route that needs no token."""
    for sub in dependant.dependencies:
        if sub.call is authenticate:
            return frozenset(Role)
        roles = getattr(sub.call, "roles", None)
        if isinstance(roles, frozenset):
            return roles
        found = _required_roles(sub)
        if found is not None:
            return found
    return None


def _unreadable_body(request: Request, exc: StarletteHTTPException) -> Exception:
    """What to answer for a body FastAPI could not read: one that passed the size limit while
    it arrived (:class:`~immunoprecise.service.body_limit.BodyLimit`) is a 413 saying the
    limit; a JSON body that is not UTF-8 (FastAPI's bare 400 "There was an error parsing the
    body") is a 422 naming the first byte that is not; any other error is kept."""
    cause = exc.__cause__
    limit = request.scope.get(BODY_LIMIT_SCOPE_KEY)
    if isinstance(cause, BodyTooLargeError) and isinstance(limit, int):
        return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_large_message(limit))
    if isinstance(cause, UnicodeDecodeError):
        bad = cause.object[cause.start : cause.start + 1].hex()
        return ValidationError(
            [
                FieldProblem(
                    "body",
                    None,
                    f"the body is not UTF-8: byte 0x{bad} at position {cause.start:,} is not "
                    "valid UTF-8 (JSON is sent as UTF-8; save or encode the text as UTF-8, "
                    "not Latin-1 or Windows-1252)",
                )
            ]
        )
    return exc


class AuthorizedRoute(APIRoute):
    """An API route that answers 401, 429 and 403 before any 400, 413 or 422 about the
    request.

    FastAPI reads the body (JSON, a form) before it runs a route's dependencies, so a body that
    cannot be read would be answered 422 or 400 before the token and its role are checked: a
    caller without a token, or without the role, would learn what the endpoint accepts. Such an
    error is held back here until the token and role have been checked.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, checking the token and role first when the body cannot be read."""
        handler = super().get_route_handler()
        roles = _required_roles(self.dependant)
        if roles is None:
            return handler

        async def authorized_first(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, StarletteHTTPException) as exc:
                early = not isinstance(exc, StarletteHTTPException) or exc.status_code in (
                    status.HTTP_400_BAD_REQUEST,
                    status.HTTP_413_CONTENT_TOO_LARGE,
                )
                if early and _AUTHORIZING not in request.scope:
                    state = await _state(request)
                    caller = await _identify(request, state, await _bearer(request))
                    _check_role(caller, roles)
                if early and isinstance(exc, StarletteHTTPException):
                    raise _unreadable_body(request, exc) from None
                raise

        return authorized_first


Anyone = Annotated[Caller, Depends(authenticate)]
"""Any valid token."""
Clinical = Annotated[Caller, Depends(require(Role.admin, Role.clinician))]
"""Tokens that may see identifiable data and add records."""
Admin = Annotated[Caller, Depends(require(Role.admin))]
"""Administrators."""
