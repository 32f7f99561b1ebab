"""``immunoprecise serve`` (the REST service) and ``immunoprecise token`` (its bearer tokens)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from immunoprecise.cli.db import DbUrl, _default_actor
from immunoprecise.errors import ImmunopreciseError

__all__ = ["serve_command", "token_app"]

EXIT_INVALID = 2
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

token_app = typer.Typer(
    name="token",
    help="Bearer tokens of the REST service (`immunoprecise serve`): create, list, revoke.",
    no_args_is_help=True,
)


class RoleChoice(StrEnum):
    """Roles a token can have."""

    admin = "admin"
    clinician = "clinician"
    researcher = "researcher"


def _fail(exc: object) -> typer.Exit:
    _err.print(f"error: {exc}", markup=False)
    return typer.Exit(EXIT_INVALID)


def serve_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    db: DbUrl = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes sharing the port; logins and trial jobs are shared through "
            "the database.",
        ),
    ] = 1,
    rate: Annotated[
        float,
        typer.Option(
            "--rate",
            min=0.001,
            help="Requests per second allowed per token (across all --workers processes).",
        ),
    ] = 20.0,
    burst: Annotated[
        int,
        typer.Option(
            "--burst",
            min=1,
            help="Requests a token may make at once (across all --workers processes).",
        ),
    ] = 40,
    evaluation_cache: Annotated[
        int | None,
        typer.Option(
            "--evaluation-cache",
            min=0,
            help="Recent evaluations kept, to answer a record posted again at once "
            "(0: off; default 1,024).",
        ),
    ] = None,
    job_heartbeat: Annotated[
        float,
        typer.Option(
            "--job-heartbeat",
            min=0.1,
            max=3600,
            help="Seconds between the heartbeats of a process's trials; a process that misses "
            "6 is taken for stopped, and another process starts its trials again.",
        ),
    ] = 10.0,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs) on the registry database.

    The database is created and migrated if needed. Every endpoint but /api/v1/health needs a
    bearer token: make one with `immunoprecise token create NAME --role admin`.

    With --workers N, N processes answer on the same port: dashboard logins and trial jobs are
    kept in the database, so any process answers any request; the rate limit's buckets are
    shared through a file, so --rate and --burst hold per token across all of them. Each
    process runs the trials it accepted; if a process stops (a crash, a restart), another
    continues its unfinished trials from their last finished chunk.

    Example: immunoprecise serve --port 8000 --workers 4
    """
    import uvicorn

    from immunoprecise.registry import resolve_url
    from immunoprecise.registry.connection import display_url
    from immunoprecise.service import RateLimit, TokenStore, create_app
    from immunoprecise.service.app import SERVICE_OPTIONS_ENV
    from immunoprecise.service.caches import DEFAULT_EVALUATION_CACHE_SIZE

    cache_size = DEFAULT_EVALUATION_CACHE_SIZE if evaluation_cache is None else evaluation_cache
    try:
        url = resolve_url(db)
        # Built in this process even with several workers: the database is migrated once, the
        # pseudonym key made once, and a bad setting is reported here, before any worker starts.
        app = create_app(
            url,
            create=True,
            rate_limit=RateLimit(rate=rate, burst=burst),
            evaluation_cache_size=cache_size,
            job_heartbeat_seconds=job_heartbeat,
        )
        with TokenStore.open(url) as store:
            valid = [t for t in store.list() if not t.revoked]
    except (ImmunopreciseError, ValueError) as exc:
        raise _fail(exc) from None
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    _err.print(f"registry: {display_url(url)}", markup=False)
    _err.print(f"API docs: http://{shown}:{port}/docs", markup=False)
    if not valid:
        _err.print(
            "no API tokens yet; make one with: immunoprecise token create NAME --role admin"
            + ("" if db is None else f" --db {display_url(url)}"),
            markup=False,
        )
    else:
        _err.print(
            f"{len(valid)} valid token(s); more with: immunoprecise token create NAME --role ROLE",
            markup=False,
        )
    if workers == 1:
        uvicorn.run(
            app, host=host, port=port, log_level="info", access_log=False, log_config=_log_config()
        )
        return
    app.state.service.close()
    with _shared_buckets() as buckets:
        os.environ[SERVICE_OPTIONS_ENV] = json.dumps(
            {
                "db_url": url,
                "rate_limit": {"rate": rate, "burst": burst},
                "rate_limit_file": buckets,
                "evaluation_cache_size": cache_size,
                "job_heartbeat_seconds": job_heartbeat,
            }
        )
        _err.print(f"{workers} server processes; log lines name the process [pid]", markup=False)
        uvicorn.run(
            "immunoprecise.service.app:app_from_environment",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            log_config=_log_config(with_process=True),
        )


@contextlib.contextmanager
def _shared_buckets() -> Iterator[str | None]:
    """A fresh file for the workers' shared rate-limit buckets, removed when they stop; ``None``
    (each process its own buckets, with a warning) where files cannot be locked (no fcntl)."""
    from immunoprecise.service.ratelimit import can_share_buckets

    if not can_share_buckets():  # pragma: no cover - Windows
        _err.print(
            "warning: this system cannot share rate-limit buckets between processes; each of "
            "them allows a token the full --rate",
            markup=False,
        )
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="immunoprecise-serve-") as folder:
        yield str(Path(folder) / "rate-limit-buckets")


def _log_config(*, with_process: bool = False) -> dict[str, Any]:
    """uvicorn's logging set-up, plus the service's loggers (its access log among them: it
    names routes, not the patient ids in paths, so uvicorn's own access log is off); with
    ``with_process``, each line names the process id (several workers share one log)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["immunoprecise"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    if with_process:
        for formatter in config["formatters"].values():
            formatter["fmt"] = formatter["fmt"].replace(
                "%(levelprefix)s ", "%(levelprefix)s [%(process)d] "
            )
    return config


@token_app.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="Who will hold the token (the audit log's actor).")],
    role: Annotated[
        RoleChoice,
        typer.Option(
            "--role",
            help="admin, clinician (identifiable data) or researcher (pseudonymized data only).",
        ),
    ],
    db: DbUrl = None,
) -> None:
    """Make a token and print it once (only its SHA-256 is stored).

    Example: immunoprecise token create ann --role clinician
    """
    from immunoprecise.service import Role, TokenStore

    try:
        with TokenStore.open(db, create=True) as store:
            token, secret = store.create(name, Role(role.value), created_by=_default_actor())
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _err.print(
        f"token for {token.name} ({token.role.value}); it is shown once, keep it secret:",
        markup=False,
    )
    _out.print(secret, markup=False)


@token_app.command("list")
def list_tokens(db: DbUrl = None) -> None:
    """List the tokens (names, roles, dates; never the tokens themselves).

    Example: immunoprecise token list
    """
    from immunoprecise.service import TokenStore

    try:
        with TokenStore.open(db) as store:
            tokens = store.list()
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    table = Table(title="API tokens")
    for column in ("name", "role", "created", "by", "revoked"):
        table.add_column(column)
    for t in tokens:
        revoked = "" if t.revoked_at is None else t.revoked_at.isoformat(timespec="seconds")
        table.add_row(
            t.name, t.role.value, t.created_at.isoformat(timespec="seconds"), t.created_by, revoked
        )
    _out.print(table)


@token_app.command("revoke")
def revoke_token(
    name: Annotated[str, typer.Argument(help="Name of the token to revoke.")],
    db: DbUrl = None,
) -> None:
    """Revoke a token: it stops working at once; its name stays taken (audit log).

    Example: immunoprecise token revoke ann
    """
    from immunoprecise.service import TokenStore

    try:
        with TokenStore.open(db) as store:
            token = store.revoke(name)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    when = (
        "" if token.revoked_at is None else f" at {token.revoked_at.isoformat(timespec='seconds')}"
    )
    _out.print(f"revoked {token.name}{when}", markup=False)
