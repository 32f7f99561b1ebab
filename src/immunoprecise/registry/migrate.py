"""Schema migrations of the registry (Alembic, run from Python; no ``alembic.ini`` needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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

__all__ = ["MIGRATIONS_DIR", "current_revision", "downgrade", "head_revision", "upgrade"]

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
    '0005'
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
            raise RegistryError(f"{display_url(resolved)}: {exc}") from None
        raise RegistryError(f"cannot migrate {display_url(resolved)}: {exc.args[0]}") from None
    finally:
        engine.dispose()


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
    '0005'
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
