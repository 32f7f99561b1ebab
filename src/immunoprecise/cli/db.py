"""``immunoprecise db``: create, migrate, import into and export from the registry database."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from immunoprecise.cli.paths import output_file
from immunoprecise.errors import ImmunopreciseError

__all__ = ["db_app"]

db_app = typer.Typer(
    name="db",
    help="The registry database: versioned patient records, evaluations and an audit log "
    "(SQLite file by default, PostgreSQL by URL).",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_INVALID = 2

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///PATH, postgresql+psycopg://USER@HOST/DB) or SQLite file; "
        "default: $IMMUNOPRECISE_DB, else ~/.local/share/immunoprecise/registry.db.",
        show_default=False,
    ),
]


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


Actor = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who acts, for the audit log (default: the OS user).", show_default=False
    ),
]


def _fail(exc: object) -> typer.Exit:
    _err.print(f"error: {exc}", markup=False)
    return typer.Exit(EXIT_INVALID)


@db_app.command("init")
def init(db: DbUrl = None) -> None:
    """Create the registry database (if needed) and migrate it to the latest schema.

    Example: immunoprecise db init --db sqlite:///registry.db
    """
    from immunoprecise.registry import resolve_url, upgrade
    from immunoprecise.registry.connection import display_url

    try:
        url = resolve_url(db)
        revision = upgrade(url)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _out.print(f"registry {display_url(url)} is ready (schema revision {revision})", markup=False)


@db_app.command("upgrade")
def upgrade_command(
    db: DbUrl = None,
    revision: Annotated[
        str, typer.Option("--revision", help="Target schema revision (default: the latest).")
    ] = "head",
) -> None:
    """Migrate the registry schema up to a revision (the latest by default).

    Example: immunoprecise db upgrade --db postgresql+psycopg://ann@dbhost/registry
    """
    from immunoprecise.registry import resolve_url, upgrade
    from immunoprecise.registry.connection import display_url

    try:
        url = resolve_url(db)
        now = upgrade(url, revision)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _out.print(f"registry {display_url(url)} is at schema revision {now}", markup=False)


@db_app.command("downgrade")
def downgrade_command(
    revision: Annotated[
        str,
        typer.Argument(
            help="Target revision: an id, 'previous' for one step down (or -1 after --: "
            "`db downgrade -- -1`), or base (drops all)."
        ),
    ],
    db: DbUrl = None,
) -> None:
    """Migrate the registry schema down (administrators and tests; base drops every table).

    Example: immunoprecise db downgrade previous --db sqlite:///scratch.db
    """
    from immunoprecise.registry import downgrade, resolve_url
    from immunoprecise.registry.connection import display_url

    try:
        url = resolve_url(db)
        now = downgrade(url, "-1" if revision == "previous" else revision)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _out.print(f"registry {display_url(url)} is at schema revision {now or 'base'}", markup=False)


@db_app.command("import")
def import_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Patient files: JSON or YAML (one patient), CSV/TSV/Excel (one per row).",
            show_default=False,
        ),
    ],
    db: DbUrl = None,
    actor: Actor = None,
) -> None:
    """Import patient files in one transaction: all records are stored, or none.

    A record identical to the patient's latest version is not stored again; a changed one
    becomes a new version. Invalid input names the file, row and column (exit code 2).

    Example: immunoprecise db import cohort.csv patient.json --actor ann
    """
    from immunoprecise.registry import Registry, import_files

    try:
        with Registry.open(db) as registry:
            reports = import_files(registry, files, actor=actor or _default_actor())
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    for report in reports:
        _out.print(report.summary(), markup=False)


@db_app.command("export")
def export_command(
    db: DbUrl = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="JSON-lines file to write; stdout if omitted.",
            dir_okay=False,
            callback=output_file(),
        ),
    ] = None,
    actor: Actor = None,
) -> None:
    """Export the latest version of every record as JSON lines (one record per line).

    Example: immunoprecise db export --out registry.jsonl
    """
    from immunoprecise.registry import Registry

    try:
        with Registry.open(db) as registry:
            n = registry.export(out, actor=actor or _default_actor())
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    except BrokenPipeError:  # the reader of stdout stopped (`| head`): not an error of ours
        _quiet_stdout()
        return
    except OSError as exc:
        raise _fail(f"cannot write {out or 'stdout'}: {exc.strerror}") from None
    if out is not None:
        _err.print(f"wrote {n} record(s) to {out}", markup=False)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again."""
    import os
    import sys

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@db_app.command("status")
def status(db: DbUrl = None) -> None:
    """Show the database, its schema revision and how many rows each table holds.

    Exit code 0 when the schema is at the latest revision, 1 when it needs
    `immunoprecise db upgrade`, 2 when the database cannot be read or a newer immunoprecise
    migrated it.

    Example: immunoprecise db status
    """
    from immunoprecise.registry import Registry, current_revision, head_revision, resolve_url
    from immunoprecise.registry.connection import display_url, sqlite_journal_of
    from immunoprecise.registry.migrate import is_known_revision, schema_advice

    try:
        url = resolve_url(db)
        current = current_revision(url)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    head = head_revision()
    _out.print(f"database: {display_url(url)}", markup=False)
    if current != head:
        if current is not None and not is_known_revision(current):
            _out.print(
                f"schema: {current}; {schema_advice(current, display_url(url))}",
                markup=False,
            )
            raise typer.Exit(EXIT_INVALID)
        _out.print(
            f"schema: {current or 'none'} (latest is {head}); run `immunoprecise db upgrade`",
            markup=False,
        )
        raise typer.Exit(1)
    _out.print(f"schema: {current} (latest)", markup=False)
    try:
        with Registry.open(url) as registry:
            counts = registry.counts()
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    journal = sqlite_journal_of(url)
    if journal is not None:
        _out.print(f"SQLite journal mode: {journal}", markup=False)
    for table, n in counts.items():
        _out.print(f"{table}: {n}", markup=False)
