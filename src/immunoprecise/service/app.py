"""``create_app``: the FastAPI application of the REST service."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from immunoprecise.knowledge import load_knowledge_base
from immunoprecise.records import PatientRecord
from immunoprecise.registry import Registry
from immunoprecise.registry.database import open_migrated_engine
from immunoprecise.service.access_log import AccessLog
from immunoprecise.service.auth import SERVICE_TOKEN_RECHECK_SECONDS, TokenStore
from immunoprecise.service.body_limit import BodyLimit
from immunoprecise.service.caches import DEFAULT_EVALUATION_CACHE_SIZE, EvaluationCache
from immunoprecise.service.dashboard import install_dashboard
from immunoprecise.service.deps import ServiceState
from immunoprecise.service.errors import (
    ValidationErrorAnswer,
    error_responses,
    install_error_handlers,
)
from immunoprecise.service.jobs import HEARTBEAT_SECONDS, JobManager
from immunoprecise.service.pseudonymize import Pseudonymizer, resolve_pseudonym_key
from immunoprecise.service.ratelimit import (
    DEFAULT_RATE_LIMIT,
    Limiter,
    RateLimit,
    RateLimiter,
    SharedRateLimiter,
)
from immunoprecise.service.routes import api_router
from immunoprecise.service.routes.evaluate import StoredPatient
from immunoprecise.service.routes.trials import install_trial_resumers
from immunoprecise.service.sessions import SessionStore

__all__ = [
    "BODY_OVERHEAD_BYTES",
    "DESCRIPTION",
    "MAX_UPLOAD_BYTES",
    "SERVICE_OPTIONS_ENV",
    "app_from_environment",
    "create_app",
]

logger = logging.getLogger("immunoprecise.service")

_REF = "#/components/schemas/"

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""Largest cohort table accepted (20 MiB)."""
BODY_OVERHEAD_BYTES = 1024 * 1024
"""What a request body may hold beside the largest upload (a form's other fields and parts'
headers): a body larger than ``max_upload_bytes`` plus this is refused (413) as it arrives,
before it is read whole, whoever sends it."""

SERVICE_OPTIONS_ENV = "IMMUNOPRECISE_SERVICE_OPTIONS"
"""Environment variable through which ``immunoprecise serve --workers N`` hands its options (a
JSON object of :func:`create_app`'s arguments) to the worker processes it starts."""

DESCRIPTION = """\
Immune precision oncology over HTTP: patient records (versioned, audited), evaluations
(immune profile and ranked strategies with evidence and citations), tumor–effector simulations,
virtual trials, cohort uploads and the knowledge base.

**Research decision support, not a medical device.**

Every endpoint except `/api/v1/health` needs `Authorization: Bearer <token>`; an administrator
makes tokens with `immunoprecise token create NAME --role admin|clinician|researcher`.
Researchers see pseudonymized patient data only.
"""


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (PatientRecord, StoredPatient, ValidationErrorAnswer):
        json_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in json_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault(model.__name__, json_schema)
    _declare_field_problems(schema)
    app.openapi_schema = schema
    return schema


def _declare_field_problems(schema: dict[str, Any]) -> None:
    """Describe 422 answers as the service sends them (``{"detail": [{"field", "value",
    "message"}]}``, :mod:`~immunoprecise.service.errors`), not as FastAPI's default
    ``HTTPValidationError`` (``loc``, ``msg``, ``type``), which this service never sends."""
    fastapi_default = f"{_REF}HTTPValidationError"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422")
            if answer is None:
                continue
            content = answer.get("content", {}).get("application/json", {})
            if content.get("schema", {}).get("$ref") == fastapi_default:
                content["schema"] = {"$ref": f"{_REF}{ValidationErrorAnswer.__name__}"}
                answer["description"] = error_responses(422)[422]["description"]
    components = schema.get("components", {}).get("schemas", {})
    if json.dumps(fastapi_default) not in json.dumps(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        if json.dumps(f"{_REF}ValidationError") not in json.dumps(schema):
            components.pop("ValidationError", None)


def create_app(
    db_url: str | None = None,
    *,
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    pseudonym_key: str | bytes | None = None,
    create: bool = False,
    max_workers: int = 2,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    evaluation_cache_size: int = DEFAULT_EVALUATION_CACHE_SIZE,
    job_heartbeat_seconds: float = HEARTBEAT_SECONDS,
    rate_limit_file: str | None = None,
) -> FastAPI:
    """Build the REST service on the registry at ``db_url``.

    Parameters
    ----------
    db_url
        Registry database URL or SQLite file; ``$IMMUNOPRECISE_DB`` or the default file when
        omitted (see :func:`~immunoprecise.registry.resolve_url`).
    rate_limit
        Requests allowed per token (token bucket); ``None`` for no limit.
    pseudonym_key
        Key of the researchers' pseudonyms; ``$IMMUNOPRECISE_PSEUDONYM_KEY``, else a key file
        made once in the user's data folder (see
        :func:`~immunoprecise.service.pseudonymize.resolve_pseudonym_key`).
    create
        Create and migrate the database if needed; otherwise it must be at the latest schema.
    max_workers
        Virtual trials run at the same time.
    max_upload_bytes
        Largest cohort table accepted; any request body larger than this plus
        :data:`BODY_OVERHEAD_BYTES` is refused (413) before it is read whole.
    evaluation_cache_size
        Recent evaluations kept to answer a record posted again without evaluating it again
        (0: off; see :mod:`~immunoprecise.service.caches`).
    job_heartbeat_seconds
        How often this process renews the heartbeat of its trials and looks for trials of
        stopped server processes to take over; a process counts as stopped after
        :data:`~immunoprecise.service.jobs.STALE_BEATS` missed heartbeats (default: 10 s, so
        one minute).
    rate_limit_file
        A file in which the server processes of one machine keep the token buckets together
        (:class:`~immunoprecise.service.ratelimit.SharedRateLimiter`; ``serve --workers N``
        makes one), so that the rate limit holds per token across them; ``None``: the buckets
        are this process's own.

    Returns
    -------
    fastapi.FastAPI
        The application; serve it with uvicorn. OpenAPI docs at ``/docs``, schema at
        ``/openapi.json``.

    Raises
    ------
    RegistryError
        If the database cannot be opened or is not at the latest schema (without ``create``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
    >>> app = create_app(url, create=True, pseudonym_key="k" * 32)
    >>> app.openapi()["info"]["title"]
    'immunoprecise'
    >>> app.state.service.close()
    """
    from immunoprecise import __version__

    engine = open_migrated_engine(db_url, create=create)
    # One engine (and so one connection pool) per process serves the registry, tokens,
    # dashboard sessions and jobs: a PostgreSQL server sees at most one pool's connections
    # from each worker process, not four.
    registry = Registry(engine)
    jobs: JobManager | None = None
    try:
        tokens = TokenStore(engine, recheck_seconds=SERVICE_TOKEN_RECHECK_SECONDS)
        sessions = SessionStore(engine)
        jobs = JobManager(engine, max_workers=max_workers, heartbeat_seconds=job_heartbeat_seconds)
        state = ServiceState(
            registry=registry,
            tokens=tokens,
            pseudonymizer=Pseudonymizer(resolve_pseudonym_key(pseudonym_key)),
            jobs=jobs,
            sessions=sessions,
            knowledge_base=load_knowledge_base(),
            limiter=_limiter(rate_limit, rate_limit_file),
            max_upload_bytes=max_upload_bytes,
            evaluations=EvaluationCache(evaluation_cache_size),
        )
        install_trial_resumers(state)
    except BaseException:
        if jobs is not None:
            jobs.shutdown()
        engine.dispose()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info("immunoprecise service on registry %s", registry.url)
        yield
        state.close()

    app = FastAPI(
        title="immunoprecise",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.service = state
    app.add_middleware(BodyLimit, max_bytes=max_upload_bytes + BODY_OVERHEAD_BYTES)
    app.add_middleware(AccessLog)
    install_error_handlers(app)
    app.include_router(api_router)
    install_dashboard(app, sessions)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _limiter(rate_limit: RateLimit | None, shared_file: str | None) -> Limiter | None:
    if rate_limit is None:
        return None
    if shared_file is None:
        return RateLimiter(rate_limit)
    return SharedRateLimiter(rate_limit, shared_file)


def app_from_environment() -> FastAPI:
    """Build the service from the options in ``$IMMUNOPRECISE_SERVICE_OPTIONS``.

    The application factory of each worker process that ``immunoprecise serve --workers N``
    starts (uvicorn imports it by name in every process). The parent process has already
    migrated the database and made the pseudonym key, so the workers only open them.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    RuntimeError
        If the variable is not set or is not a JSON object.
    """
    raw = os.environ.get(SERVICE_OPTIONS_ENV)
    try:
        options = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        options = None
    if not isinstance(options, dict):
        raise RuntimeError(
            f"${SERVICE_OPTIONS_ENV} must hold the service's options as a JSON object; start "
            "the workers with `immunoprecise serve --workers N`"
        )
    limit = options.pop("rate_limit", None)
    return create_app(
        rate_limit=None if limit is None else RateLimit(**limit), create=False, **options
    )
