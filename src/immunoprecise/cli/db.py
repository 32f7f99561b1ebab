"""``immunoprecise db``: create, migrate, import into and export from the registry database."""

from __future__ import annotations

import datetime as dt
import getpass
import io
import json
import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from immunoprecise.cli.paths import output_file
from immunoprecise.cli.stdio import stdout_is_utf8, write_json, write_table
from immunoprecise.errors import ImmunopreciseError, ValidationError
from immunoprecise.registry.models import AuditAction
from immunoprecise.wording import counted

if TYPE_CHECKING:
    from immunoprecise.registry import AuditEntry, ImportReport, Registry, VersionSummary

__all__ = ["db_app"]

db_app = typer.Typer(
    name="db",
    help="The registry database: versioned patient records, evaluations and an audit log "
    "(SQLite file by default, PostgreSQL by URL).",
    no_args_is_help=True,
)
# emoji=False: file names, ids and URLs are printed as written (rich would otherwise turn a
# name such as "visit:pill:2.json" into "visit💊2.json")
_out = Console(highlight=False, soft_wrap=True, emoji=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
EXIT_INVALID = 2


def _not_blank(value: str | None) -> str | None:
    """Refuse an option given as an empty value (``--db "$UNSET"``): leaving it out picks the
    default, an empty one is a mistake that would otherwise pick it silently."""
    if value is not None and not value.strip():
        raise typer.BadParameter(
            f"{value!r} is empty; give a value, or leave the option out for the default"
        )
    return value


DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///PATH, postgresql+psycopg://USER@HOST/DB) or SQLite file; "
        "default: $IMMUNOPRECISE_DB, else ~/.local/share/immunoprecise/registry.db.",
        show_default=False,
        callback=_not_blank,
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
        "--actor",
        help="Who acts, for the audit log (default: the OS user).",
        show_default=False,
        callback=_not_blank,
    ),
]


def _shown(text: object) -> str:
    """``text`` as it can be printed: a file name that is not UTF-8 with its bytes as ``\\xNN``
    (printing the lone surrogates Python reads them as fails in a UTF-8 terminal)."""
    from immunoprecise.registry.store import storable_text

    return storable_text(str(text))


def _fail(exc: object) -> typer.Exit:
    _err.print(f"error: {_shown(exc)}", markup=False)
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
            "`db downgrade -- -1`), or base (drops all).",
            show_default=False,
        ),
    ],
    db: DbUrl = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Drop tables and columns that hold data without asking (scripts); without "
            "it, a terminal asks and any other input is refused.",
        ),
    ] = False,
) -> None:
    """Migrate the registry schema down (administrators and tests; base drops every table).

    A downgrade drops the tables (or columns) that the undone migrations added. When they hold
    data, the command names them with their row counts and asks for confirmation on a
    terminal; without a terminal it stops unless --yes is given (exit code 2). Export the
    records first (`immunoprecise db export --out backup.jsonl`): what is dropped cannot be
    recovered.

    \b
    Examples:
      immunoprecise db downgrade previous --db sqlite:///scratch.db
      immunoprecise db downgrade base --db sqlite:///scratch.db --yes
    """
    import sys

    from immunoprecise.registry import downgrade, resolve_url
    from immunoprecise.registry.connection import display_url
    from immunoprecise.registry.migrate import downgrade_losses

    target = "-1" if revision == "previous" else revision
    try:
        url = resolve_url(db)
        losses = [loss for loss in downgrade_losses(url, target) if loss.rows]
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    if losses and not yes:
        shown = display_url(url)
        listing = "\n".join(f"  - {loss.describe()}" for loss in losses)
        warning = (
            f"downgrading registry {shown} to {revision} deletes data for good:\n{listing}\n"
            "Keep a copy first: a backup of the database, or the records with "
            f"`immunoprecise db export --db {shown} --out backup.jsonl`"
        )
        if not sys.stdin.isatty():
            raise _fail(f"{warning}\nnothing was changed; add --yes to downgrade anyway")
        _err.print(warning, markup=False)
        if not typer.confirm("Delete this data?", default=False, err=True):
            _err.print("nothing was changed", markup=False)
            raise typer.Exit(1)
    try:
        now = downgrade(url, target)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _out.print(f"registry {display_url(url)} is at schema revision {now or 'base'}", markup=False)


PROGRESS_MIN_FILES = 10
"""From how many files ``db import`` shows a progress bar (on a terminal only)."""

PROGRESS_MIN_RECORDS = 1000
"""From how many records ``db import`` shows a progress bar of the records stored (on a
terminal only), even for one file."""


@db_app.command("import")
def import_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Patient files: JSON or YAML (one patient), CSV/TSV/Excel (one per row), a "
            "registry export (.jsonl); or folders of them.",
            show_default=False,
        ),
    ],
    db: DbUrl = None,
    actor: Actor = None,
    recursive: Annotated[
        bool,
        typer.Option("--recursive", "-r", help="Also import the files in sub-folders."),
    ] = False,
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet",
            help="Sheet of the Excel workbooks to read the patients from (by name); needed "
            "when a workbook has more than one sheet with data.",
        ),
    ] = None,
) -> None:
    """Import patient files and folders in one transaction: all records are stored, or none.

    A folder stands for its record files (.json, .yaml, .yml, .csv, .tsv, .tab, .xlsx, .xlsm,
    .jsonl), imported in code-point order of their names (B.json before a.json, p10.json before
    p2.json); hidden files and other types are left out (and counted). Every file is read
    and checked before anything is stored: a bad file is named with its row and column, every
    bad file is listed, and nothing is stored (exit code 2). A record identical to the
    patient's latest version is not stored again; a changed one becomes a new version, so
    records of one patient in several files become versions in the order of the files.

    \b
    Examples:
      immunoprecise db import cohort.csv patient.json --actor ann
      immunoprecise db import records/                  # every record file in records/
      immunoprecise db import sites/ --recursive        # and in its sub-folders
      immunoprecise db import site.xlsx --sheet patients  # one sheet of a workbook
    """
    from immunoprecise.registry import Registry
    from immunoprecise.registry.importing import expand_folders

    ignored: list[Path] = []
    try:
        paths = expand_folders(files, recursive=recursive, ignored=ignored)
        with Registry.open(db) as registry:
            reports = _import_with_progress(registry, paths, actor or _default_actor(), sheet=sheet)
    except ValidationError as exc:
        hint = (
            "; fix the files named, move the ones that are not patient records out of the "
            "folder, or name the files to import"
            if any(p.is_dir() for p in files)
            else ""
        )
        raise _fail(f"{exc}\nnothing was stored{hint}") from None
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    for report in reports:
        _out.print(_shown(report.summary()), markup=False)
        for note in report.notes:  # a FHIR resource the record has no field for is named
            _out.print(f"  {_shown(note)}", markup=False, soft_wrap=True)
    if len(reports) > 1:
        rows = sum(r.rows for r in reports)
        created = sum(r.created for r in reports)
        updated = sum(r.updated for r in reports)
        unchanged = sum(r.unchanged for r in reports)
        _out.print(
            f"total: {len(reports)} files, {rows} row{'' if rows == 1 else 's'}, {created} new, "
            f"{updated} updated, "
            f"{unchanged} unchanged",
            markup=False,
        )
    if ignored:
        names = ", ".join(_shown(p) for p in ignored[:5]) + (", ..." if len(ignored) > 5 else "")
        _err.print(
            f"left out {counted(len(ignored), 'file')} that "
            f"{'is not a record file' if len(ignored) == 1 else 'are not record files'}: {names}",
            markup=False,
        )


def _import_with_progress(
    registry: Registry, paths: list[Path], actor: str, *, sheet: str | None = None
) -> list[ImportReport]:
    """Import the files, with a progress bar on a terminal: of the files read when there are
    many, and of the records stored when there are many (one large table too)."""
    from rich.markup import escape
    from rich.progress import Progress

    from immunoprecise.registry import import_files

    many_files = len(paths) >= PROGRESS_MIN_FILES
    with Progress(console=_err, transient=True, disable=not _err.is_terminal) as bar:
        task = bar.add_task("reading", total=len(paths), visible=many_files)

        def step(done: int, total: int, path: Path) -> None:
            if done == total:
                bar.update(task, completed=done, description=f"storing {total} files")
            else:
                name = escape(_shown(path.name))  # the description is read as rich markup
                bar.update(task, completed=done, description=f"reading {name}")

        def stored(done: int, total: int) -> None:
            if many_files or total >= PROGRESS_MIN_RECORDS:
                bar.update(
                    task,
                    completed=done,
                    total=total,
                    visible=True,
                    description=f"storing {counted(total, 'record')}",
                )

        return import_files(registry, paths, actor=actor, progress=step, sheet=sheet, stored=stored)


class ExportFormat(StrEnum):
    """What ``db export`` writes."""

    jsonl = "jsonl"
    fhir = "fhir"


def _export_target(value: str | None) -> str | None:
    """Check ``--out`` when the command line is read: a file that can be written, or a folder
    (``DIR/``, or one that exists; FHIR only, checked with the format)."""
    if value is None:
        return None
    if not value.strip():
        raise typer.BadParameter(
            f"{value!r} is empty; give a file name, or leave the option out for stdout"
        )
    path = Path(value)
    if not path.is_dir():
        output_file()(path)  # refuses a file in the way of its folders (x.txt/out.jsonl)
    return value


@db_app.command("export")
def export_command(
    db: DbUrl = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="File to write; stdout if omitted. With --format fhir, a folder (one that "
            "exists, or a name ending in /) gets one <patient id>.fhir.json per patient.",
            show_default=False,
            callback=_export_target,
        ),
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="jsonl: one record per line, as stored (read back by `db import` with the "
            "same SHA-256s); fhir: FHIR R4B, one Bundle of type collection holding every "
            "patient (or one per patient into a folder), without the expression file "
            "reference.",
        ),
    ] = ExportFormat.jsonl,
    actor: Actor = None,
) -> None:
    """Export the latest version of every record (JSON lines by default, or FHIR R4B).

    Every record exported is audited (action export). `db import` reads either export back
    into another registry.

    \b
    Examples:
      immunoprecise db export --out registry.jsonl
      immunoprecise db export --format fhir --out registry.fhir.json
      immunoprecise db export --format fhir --out fhir/
    """
    from immunoprecise.registry import Registry
    from immunoprecise.registry.exporting import export_fhir

    who = actor or _default_actor()
    folder = out is not None and (out.endswith(("/", os.sep)) or Path(out).is_dir())
    if folder and fmt is ExportFormat.jsonl:
        raise typer.BadParameter(
            f"{out} names a folder; give a file name (or --format fhir for one file per patient)",
            param_hint="'--out' / '-o'",
        )
    target = Path(out) if out is not None else None
    try:
        if folder and target is not None:
            target.mkdir(parents=True, exist_ok=True)
        with Registry.open(db) as registry:
            write = registry.export if fmt is ExportFormat.jsonl else partial(export_fhir, registry)
            if target is None and not stdout_is_utf8():
                buffer = io.StringIO()  # written once audited, in ASCII (JSON escapes)
                n = write(buffer, actor=who)
                write_json(buffer.getvalue())
            else:
                n = write(target, actor=who)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    except BrokenPipeError:  # the reader of stdout stopped (`| head`): not an error of ours
        _quiet_stdout()
        return
    except OSError as exc:
        raise _fail(f"cannot write {out or 'stdout'}: {exc.strerror}") from None
    if target is not None:
        where = f"one file per patient in {_shown(target)}" if folder else _shown(target)
        _err.print(f"wrote {n} record(s) to {where}", markup=False)


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


class ListFormat(StrEnum):
    """How ``db audit`` and ``db history`` print their rows."""

    table = "table"
    json = "json"
    tsv = "tsv"


Format = Annotated[
    ListFormat,
    typer.Option(
        "--format",
        "-f",
        help="table (for people), json (one array of objects) or tsv (a header line, then one "
        "line per row; tabs, newlines and backslashes in values written as \\t, \\n, \\\\).",
    ),
]


def _tsv_field(value: object) -> str:
    """A value as one TSV field: empty for ``None``; backslash, tab, CR and LF escaped."""
    if value is None:
        return ""
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _print_rows(
    fmt: ListFormat,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    objects: Sequence[Mapping[str, object]],
    *,
    title: str,
    empty: str,
) -> None:
    """Print ``rows`` as a table or TSV under ``columns``, or ``objects`` as one JSON array."""
    if fmt is ListFormat.json:
        write_json(json.dumps([dict(o) for o in objects], ensure_ascii=False, indent=2) + "\n")
        return
    if fmt is ListFormat.tsv:
        lines = ["\t".join(columns)]
        lines += ["\t".join(_tsv_field(v) for v in row) for row in rows]
        write_table("\n".join(lines) + "\n", what="the TSV", fix="use --format json")
        return
    if not rows:
        _err.print(empty, markup=False)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title))
    for i, column in enumerate(columns):
        # the short columns (ids, times, actions) are never cut; the long ones wrap
        widest = max([len(column)] + [len(str(row[i] or "")) for row in rows])
        table.add_column(column, min_width=widest if widest <= 32 else None)
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    _out.print(table)


def _when(text: str | None, option: str) -> dt.date | dt.datetime | None:
    """Read ``--since``/``--until``: a date (2026-03-01) or a time (2026-03-01T14:30, with an
    optional zone; UTC when none is given)."""
    if text is None:
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date or time; write 2026-03-01, 2026-03-01T14:30 (UTC) or "
            "2026-03-01T14:30+01:00",
            param_hint=option,
        ) from None
    stamp = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)
    try:
        stamp.astimezone(dt.UTC)
    except OverflowError:
        raise typer.BadParameter(
            f"{text!r} is outside the years 1 to 9999 in UTC", param_hint=option
        ) from None
    return stamp


@db_app.command("audit")
def audit_command(
    db: DbUrl = None,
    patient: Annotated[
        str | None,
        typer.Option("--patient", "-p", help="Only entries about this patient id (exact)."),
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only entries by this actor (exact).")
    ] = None,
    action: Annotated[
        list[AuditAction] | None,
        typer.Option("--action", "-a", help="Only entries with this action; repeat for several."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only entries at or after this date (from 00:00 UTC) or time "
            "(2026-03-01T14:30; UTC unless a zone is given, e.g. +01:00).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Only entries at or before this date (up to its end, 24:00 UTC) or time.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Show at most this many entries.")
    ] = None,
    offset: Annotated[
        int, typer.Option("--offset", min=0, help="Skip this many entries first.")
    ] = 0,
    newest_first: Annotated[
        bool, typer.Option("--newest-first", help="Newest entries first (default: oldest first).")
    ] = False,
    fmt: Format = ListFormat.table,
) -> None:
    """Show the audit log: who read or wrote which patient's data, when (times in UTC).

    Reads the database directly (the service need not run); reading the log is not audited.
    Filters combine: an entry is shown when it matches every one given.

    \b
    Examples:
      immunoprecise db audit --patient SYN-CRC-001
      immunoprecise db audit --actor ann --since 2026-03-01 --until 2026-03-31
      immunoprecise db audit --action export --action read --newest-first --limit 20
      immunoprecise db audit --format tsv > audit.tsv
    """
    from immunoprecise.records.validation import validate_model
    from immunoprecise.registry import AuditQuery, Registry

    criteria = {
        "patient_id": patient,
        "actor": actor,
        "actions": tuple(action or ()),
        "since": _when(since, "--since"),
        "until": _when(until, "--until"),
        "limit": limit,
        "offset": offset,
        "newest_first": newest_first,
    }
    try:
        query = validate_model(AuditQuery, criteria, source="db audit")
        with Registry.open(db) as registry:
            entries = registry.audit(query)
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _print_audit(entries, fmt)


def _print_audit(entries: Sequence[AuditEntry], fmt: ListFormat) -> None:
    columns = ("id", "at", "actor", "action", "patient", "object")
    rows = [
        (
            e.id,
            e.at.isoformat(timespec="seconds" if fmt is ListFormat.table else "microseconds"),
            e.actor,
            e.action.value,
            e.patient_id,
            e.object,
        )
        for e in entries
    ]
    objects = [e.model_dump(mode="json") for e in entries]
    _print_rows(
        fmt, columns, rows, objects, title="Audit log (UTC)", empty="no audit entries match"
    )


@db_app.command("history")
def history_command(
    patient: Annotated[str, typer.Argument(help="The patient id.", show_default=False)],
    db: DbUrl = None,
    actor: Actor = None,
    fmt: Format = ListFormat.table,
) -> None:
    """Show every stored version of a patient's record: when, by whom, from which file.

    A record changed and imported again becomes a new version; the old ones stay. Reading
    the versions is audited. Show one version's record with the Python API
    (`Registry.record(patient_id, version, actor=...)`). A version whose stored record no
    longer validates (stored by an older immunoprecise) is listed as stored, with a warning
    naming its invalid fields.

    \b
    Examples:
      immunoprecise db history SYN-CRC-001
      immunoprecise db history SYN-CRC-001 --format json
    """
    from immunoprecise.registry import Registry

    try:
        with Registry.open(db) as registry:
            versions = registry.version_history(patient, actor=actor or _default_actor())
    except ImmunopreciseError as exc:
        raise _fail(exc) from None
    _print_history(patient, versions, fmt)
    for v in versions:
        if v.problems:
            _err.print(
                f"warning: version {v.version} of {_shown(patient)}'s record is shown as stored; "
                f"it no longer validates against this immunoprecise's record model "
                f"({len(v.problems)} invalid field(s)):",
                markup=False,
            )
            for problem in v.problems:
                _err.print(f"  - {_shown(problem)}", markup=False)


def _print_history(patient: str, versions: Sequence[VersionSummary], fmt: ListFormat) -> None:
    columns = ("version", "created_at", "actor", "source", "sha256")
    table = fmt is ListFormat.table
    rows = [
        (
            v.version,
            v.created_at.isoformat(timespec="seconds" if table else "microseconds"),
            v.actor,
            v.source,
            v.sha256[:12] if table else v.sha256,
        )
        for v in versions
    ]
    objects = [v.model_dump(mode="json", exclude={"record"}) for v in versions]
    _print_rows(
        fmt,
        columns,
        rows,
        objects,
        title=f"Versions of {patient}'s record (UTC)",
        empty=f"patient {patient} has no record versions",
    )
