"""Schema migrations of the registry (Alembic, run from Python; no ``alembic.ini`` needed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RangeNotAncestorError, RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from immunoprecise.errors import RegistryError
from immunoprecise.registry.connection import (
    display_url,
    make_registry_engine,
    resolve_url,
    sqlite_path,
)

__all__ = [
    "MIGRATIONS_DIR",
    "DowngradeLoss",
    "current_revision",
    "downgrade",
    "downgrade_losses",
    "head_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the latest migration shipped with this version of immunoprecise.

    Examples
    --------
    >>> head_revision()
    '0007'
    """
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise RegistryError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def schema_advice(current: str | None, shown: str) -> str:
    """What to do about a database whose schema is not this version's latest.

    A revision this version does not ship was written by a newer immunoprecise: upgrading the
    database cannot help, upgrading immunoprecise does.

    Examples
    --------
    >>> schema_advice("0001", "registry.db")
    'run `immunoprecise db upgrade --db registry.db`'
    >>> schema_advice("0099", "registry.db")[:42]
    'a newer immunoprecise migrated it (this on'
    """
    if current is not None and not is_known_revision(current):
        return (
            f"a newer immunoprecise migrated it (this one ships revisions up to "
            f"{head_revision()}); upgrade immunoprecise to use it"
        )
    return f"run `immunoprecise db upgrade --db {shown}`"


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of the migrations shipped with this version.

    Examples
    --------
    >>> is_known_revision("0001"), is_known_revision("0099")
    (True, False)
    """
    return revision in {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def revision_of(connection: Connection) -> str | None:
    """Return the migration a database is at, ``None`` when none was applied."""
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(url: str | None = None) -> str | None:
    """Return the migration the registry database is at.

    Parameters
    ----------
    url
        Database URL (see :func:`~immunoprecise.registry.resolve_url`).

    Returns
    -------
    str or None
        The revision id, or ``None`` for a database where no migration was applied.

    Raises
    ------
    RegistryError
        If the database cannot be reached.
    """
    resolved = resolve_url(url)
    engine = make_registry_engine(resolved)
    try:
        with engine.connect() as connection:
            return revision_of(connection)
    except SQLAlchemyError as exc:
        raise RegistryError(f"cannot read {display_url(resolved)}: {exc.args[0]}") from None
    finally:
        engine.dispose()


def _current_or_none(url: str) -> str | None:
    """The revision a database is at, ``None`` when it cannot be read (for error messages)."""
    try:
        return current_revision(url)
    except RegistryError:
        return None


def _run(url: str | None, revision: str, *, up: bool) -> str | None:
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    created = path is not None and not path.exists()
    engine = make_registry_engine(resolved, create=up)
    try:
        with engine.begin() as connection:
            config = _config(connection)
            if up:
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
            return revision_of(connection)
    except (CommandError, SQLAlchemyError) as exc:
        engine.dispose()
        if created and path is not None:  # a failed first migration leaves no empty file
            for leftover in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, CommandError):
            current = _current_or_none(resolved)
            if current is not None and not is_known_revision(current):
                shown = display_url(resolved)
                raise RegistryError(
                    f"registry {shown} is at schema revision {current}; "
                    f"{schema_advice(current, shown)}"
                ) from None
            too_far = _too_many_steps(revision, current, up=up)
            if too_far is not None:
                raise RegistryError(f"{display_url(resolved)}: {too_far}") from None
            raise RegistryError(f"{display_url(resolved)}: {exc}") from None
        raise RegistryError(f"cannot migrate {display_url(resolved)}: {exc.args[0]}") from None
    finally:
        engine.dispose()


_RELATIVE = re.compile(r"^([+-])(\d+)$")


def _too_many_steps(revision: str, current: str | None, *, up: bool) -> str | None:
    """Why a relative ``revision`` (``-9``, ``+2``) goes past base or head, and how far the
    database can go from ``current``; ``None`` for any other revision or when it is in reach."""
    match = _RELATIVE.match(revision)
    if match is None or (match.group(1) == "-") == up:
        return None
    script = ScriptDirectory.from_config(_config())
    if up:
        reach = len(list(script.iterate_revisions("heads", current or "base")))
        where, end, sign = "head", f"head ({script.get_current_head()})", "+"
    else:
        reach = 0 if current is None else len(list(script.iterate_revisions(current, "base")))
        where, end, sign = "base", "base (no tables)", "-"
    steps = int(match.group(2))
    if steps <= reach:
        return None
    at = "has no registry schema" if current is None else f"is at schema revision {current}"
    plural = "" if reach == 1 else "s"
    direction = "up" if up else "down"
    if not reach:
        possible = f"it is already at {where}"
    else:
        span = f"{sign}1" if reach == 1 else f"{sign}1 to {sign}{reach}"
        possible = f"give {span}, a revision id or {where!r}"
    return (
        f"cannot migrate {direction} {steps} step{'' if steps == 1 else 's'}: the database "
        f"{at}, {reach} step{plural} from {end}; {possible}"
    )


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Migrate the registry database up to ``revision`` (creating a SQLite file if needed).

    Parameters
    ----------
    url
        Database URL; see :func:`~immunoprecise.registry.resolve_url`.
    revision
        Target migration, ``"head"`` (the latest) by default.

    Returns
    -------
    str or None
        The revision the database is at afterwards.

    Raises
    ------
    RegistryError
        If the database cannot be reached or the revision is unknown.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "registry.db"
    >>> upgrade(f"sqlite:///{path}")
    '0007'
    """
    return _run(url, revision, up=True)


def downgrade(url: str | None, revision: str) -> str | None:
    """Migrate the registry database down to ``revision`` (``"base"`` drops every table).

    Parameters
    ----------
    url
        Database URL; see :func:`~immunoprecise.registry.resolve_url`.
    revision
        Target migration: a revision id, ``"-1"`` for one step down, or ``"base"``.

    Returns
    -------
    str or None
        The revision the database is at afterwards (``None`` at base).

    Raises
    ------
    RegistryError
        If the database cannot be reached or the revision is unknown.
    """
    return _run(url, revision, up=False)


@dataclass(frozen=True)
class DowngradeLoss:
    """A table (or some of its columns) that a downgrade drops, and the rows it holds now."""

    table: str
    columns: tuple[str, ...]
    """The columns dropped; empty when the whole table is dropped."""
    rows: int
    """Rows in the table now (their values in ``columns``, or the rows themselves, are lost)."""

    def describe(self) -> str:
        """``patients: 200 rows`` or ``service_jobs (columns request, runner): 3 rows``."""
        what = (
            self.table if not self.columns else f"{self.table} (columns {', '.join(self.columns)})"
        )
        return f"{what}: {self.rows:,} row{'' if self.rows == 1 else 's'}"


_STEPS_DOWN = re.compile(r"^-(\d+)$")


def _undone(script: ScriptDirectory, current: str, revision: str) -> list[str] | None:
    """The revisions a downgrade from ``current`` to ``revision`` undoes, newest first; ``None``
    when the target is not below ``current`` (Alembic then refuses it with its own message).

    The walk is Alembic's own (:meth:`ScriptDirectory.iterate_revisions` as a downgrade selects
    revisions), so ``"base"``, ``"-N"`` and revision ids mean what ``downgrade`` takes them to.

    Raises
    ------
    CommandError, RevisionError
        If ``revision`` names no revision.
    """
    if revision != "base" and not _STEPS_DOWN.match(revision):
        script.get_revision(revision)  # an unknown id: "Can't locate revision ..." (CommandError)
    try:
        walked = script.iterate_revisions(current, revision, select_for_downgrade=True)
        return [step.revision for step in walked]
    except RangeNotAncestorError:
        return None  # the target is above current, or on another line
    except RevisionError:
        if _STEPS_DOWN.match(revision):
            return None  # more steps down than there are revisions below current
        raise


def downgrade_losses(url: str | None, revision: str) -> list[DowngradeLoss]:
    """What downgrading the registry to ``revision`` would drop, with the rows there are now.

    Parameters
    ----------
    url
        Database URL; see :func:`~immunoprecise.registry.resolve_url`.
    revision
        Target migration, as for :func:`downgrade`: an id, ``"-1"`` (``"-N"``) or ``"base"``.

    Returns
    -------
    list of DowngradeLoss
        Newest migration first; a table is listed once (whole when any step drops it whole).
        Empty when nothing would be dropped, or when the target is not below the database's
        revision (the downgrade is then refused).

    Raises
    ------
    RegistryError
        If the database cannot be read or ``revision`` is not a revision.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
    >>> _ = upgrade(url)
    >>> [(loss.table, loss.rows) for loss in downgrade_losses(url, "0004")]
    [('service_job_steps', 0)]
    """
    resolved = resolve_url(url)
    current = current_revision(resolved)
    if current is None or not is_known_revision(current):
        return []
    script = ScriptDirectory.from_config(_config())
    try:
        undone = _undone(script, current, revision)
    except (CommandError, RevisionError) as exc:
        raise RegistryError(f"{display_url(resolved)}: {exc}") from None
    dropped: dict[str, tuple[str, ...]] = {}
    for rev in undone or ():
        module = script.get_revision(rev).module
        for table, columns in getattr(module, "dropped_by_downgrade", {}).items():
            if table in dropped and (not dropped[table] or not columns):
                dropped[table] = ()  # the whole table goes
            else:
                dropped[table] = tuple(dict.fromkeys(dropped.get(table, ()) + tuple(columns)))
    if not dropped:
        return []
    engine = make_registry_engine(resolved)
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
            return [
                DowngradeLoss(
                    table,
                    columns,
                    int(
                        connection.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
                        or 0
                    ),
                )
                for table, columns in dropped.items()
                if table in present
            ]
    except SQLAlchemyError as exc:
        raise RegistryError(f"cannot read {display_url(resolved)}: {exc.args[0]}") from None
    finally:
        engine.dispose()
