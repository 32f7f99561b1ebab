"""Where the registry is: the database URL and the engine that connects to it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from immunoprecise.errors import RegistryError

__all__ = [
    "DB_ENV_VAR",
    "default_url",
    "display_url",
    "make_registry_engine",
    "resolve_url",
    "sqlite_path",
]

DB_ENV_VAR = "IMMUNOPRECISE_DB"


def default_url() -> str:
    """Return the default registry URL: a SQLite file in the user's data folder.

    The folder is ``$XDG_DATA_HOME/immunoprecise`` (``~/.local/share/immunoprecise`` when
    ``XDG_DATA_HOME`` is not set); the file is ``registry.db``.

    Returns
    -------
    str
        A ``sqlite:///`` URL with an absolute path.

    Examples
    --------
    >>> default_url().startswith("sqlite:///") and default_url().endswith("/registry.db")
    True
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base).expanduser().absolute() / 'immunoprecise' / 'registry.db'}"


def resolve_url(url: str | None = None) -> str:
    """Return the registry URL to use: ``url``, else ``$IMMUNOPRECISE_DB``, else the default.

    A value without ``://`` is taken as the path of a SQLite file.

    Parameters
    ----------
    url
        A SQLAlchemy URL (``sqlite:///path/registry.db``,
        ``postgresql+psycopg://user@host/db``) or a file path; ``None`` to use the environment
        variable or the default.

    Returns
    -------
    str

    Examples
    --------
    >>> resolve_url("sqlite:///tmp/r.db")
    'sqlite:///tmp/r.db'
    >>> resolve_url("/tmp/r.db")
    'sqlite:////tmp/r.db'
    """
    chosen = url or os.environ.get(DB_ENV_VAR) or default_url()
    if "://" not in chosen:
        return f"sqlite:///{Path(chosen).expanduser().absolute()}"
    return chosen


def display_url(url: str) -> str:
    """Return the URL with its password hidden, for messages.

    Examples
    --------
    >>> display_url("postgresql://ann:secret@db/registry")
    'postgresql://ann:***@db/registry'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise RegistryError(
            f"cannot read database URL {url!r}; write sqlite:///PATH/registry.db or "
            "postgresql+psycopg://USER@HOST/DATABASE"
        ) from None


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL (``None`` for in-memory or non-SQLite databases)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_registry_engine(url: str, *, create: bool = False) -> Engine:
    """Create the engine for a registry URL (no connection is made yet).

    Parameters
    ----------
    url
        A resolved URL (see :func:`resolve_url`).
    create
        For a SQLite file: create its folder if needed. Without it, a missing file is refused
        (SQLite would otherwise create an empty one).

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    RegistryError
        If the URL cannot be read, names an unknown database kind or driver, or (without
        ``create``) a SQLite file that does not exist.
    """
    parsed = _parse(url)
    path = sqlite_path(url)
    if path is not None:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.is_file():
            raise RegistryError(
                f"no registry database at {path}; create it with `immunoprecise db init "
                f"--db {display_url(url)}`"
            )
    try:
        engine = create_engine(parsed)
    except NoSuchModuleError:
        raise RegistryError(
            f"cannot use database URL {display_url(url)!r}: unknown database kind or driver "
            f"{parsed.drivername!r} (use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    except (ArgumentError, ImportError) as exc:
        raise RegistryError(f"cannot use database URL {display_url(url)!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine
