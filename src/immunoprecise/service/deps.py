"""What every request handler gets: the service state, the caller and their role."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, cast

import pandas as pd
from fastapi import Depends, HTTPException, Request, params, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import FormData

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.knowledge import KnowledgeBase
from immunoprecise.registry import Registry
from immunoprecise.service.auth import Role, TokenStore
from immunoprecise.service.caches import EvaluationCache, RecentlyUsed
from immunoprecise.service.jobs import JobManager
from immunoprecise.service.payloads import repeated_keys
from immunoprecise.service.pseudonymize import Pseudonymizer
from immunoprecise.service.ratelimit import Limiter

if TYPE_CHECKING:
    from immunoprecise.service.sessions import SessionStore

__all__ = [
    "Admin",
    "Anyone",
    "Caller",
    "Clinical",
    "ServiceState",
    "State",
    "authenticate",
    "check_body",
    "check_query",
    "require",
]

COHORT_FRAMES_KEPT = 8
"""Cohort analysis tables the service keeps (the latest used)."""


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
    """Refuse query parameters the route does not take, and a parameter given twice (422).

    Without this, a misspelt parameter (``/cohorts/x/survival?group=arm`` for ``by=arm``) or a
    repeated one (``?limit=5&limit=50``) would be dropped silently and the answer would look
    valid.

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
    if problems:
        raise ValidationError(problems)


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
    """Refuse a JSON body that gives a key twice in one object, anywhere in it, and a form that
    gives a field twice (422).

    Python's JSON reader, and so FastAPI's, keeps the last value of a repeated key:
    ``{"age": 50, "age": 70}`` would be read as 70, and the 50 dropped without a word; FastAPI
    reads the last of a form's repeated fields, so that of two uploaded files only the second
    would be imported.

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
        problems = repeated_keys(await request.body())  # the bytes FastAPI read, kept
    else:
        return
    if problems:
        raise ValidationError(problems)


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
    check_query(request)
    await check_body(request)
    return Caller(token.name, token.role)


def require(*roles: Role) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    """A dependency that lets only ``roles`` through (403 for the others).

    Parameters
    ----------
    roles
        The roles allowed.

    Returns
    -------
    callable
        The dependency, to use with ``Depends``.
    """
    allowed = ", ".join(r.value for r in roles)

    async def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"token {caller.name!r} has role {caller.role.value}; this needs {allowed}",
            )
        return caller

    return check


Anyone = Annotated[Caller, Depends(authenticate)]
"""Any valid token."""
Clinical = Annotated[Caller, Depends(require(Role.admin, Role.clinician))]
"""Tokens that may see identifiable data and add records."""
Admin = Annotated[Caller, Depends(require(Role.admin))]
"""Administrators."""
