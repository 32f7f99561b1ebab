"""Where the registry is: the database URL and the engine that connects to it."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from immunoprecise.errors import RegistryError

__all__ = [
    "DB_ENV_VAR",
    "DEFAULT_SQLITE_JOURNAL_MODE",
    "SQLITE_JOURNAL_ENV",
    "SQLITE_JOURNAL_MODES",
    "default_url",
    "display_url",
    "make_registry_engine",
    "resolve_url",
    "sqlite_journal_mode",
    "sqlite_journal_of",
    "sqlite_path",
]

logger = logging.getLogger("immunoprecise.registry")

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
    >>> resolve_url("/tmp/Klinik Süd/r?.db")
    'sqlite:////tmp/Klinik Süd/r%3F.db'
    """
    chosen = url or os.environ.get(DB_ENV_VAR) or default_url()
    if "://" not in chosen:
        # '%' and '?' are written as URL escapes (read back by SQLAlchemy), else a file named
        # 'my?.db' would be the file 'my' with a query string
        path = str(Path(chosen).expanduser().absolute())
        return "sqlite:///" + path.replace("%", "%25").replace("?", "%3F")
    return chosen


def display_url(url: str) -> str:
    """Return the URL with its password hidden, for messages.

    A SQLite file is shown by its path as written (``sqlite:////data/Klinik Süd/registry.db``,
    not SQLAlchemy's ``Klinik%20S%C3%BCd``), unless the path holds ``%`` or ``?``, which
    only the escaped form reads back correctly.

    Examples
    --------
    >>> display_url("postgresql://ann:secret@db/registry")
    'postgresql://ann:***@db/registry'
    >>> display_url("sqlite:////data/Klinik Süd/registry.db")
    'sqlite:////data/Klinik Süd/registry.db'
    >>> display_url("postgresql://ann:p@ss@db/registry")  # '@' not written as %40
    'postgresql://ann:***@db/registry'
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # unreadable (e.g. a port that is not a number)
        return _PASSWORD.sub(r"\1***@", url)
    if parsed.host and "@" in parsed.host:  # an unescaped '@' in the password: hide it all
        return _PASSWORD.sub(r"\1***@", url)
    database = parsed.database
    if (
        parsed.get_backend_name() == "sqlite"
        and database
        and not parsed.query
        and not any(c in database for c in "%?")
    ):
        return f"{parsed.drivername}:///{database}"
    return parsed.render_as_string(hide_password=True)


_PASSWORD = re.compile(r"(://[^:/@]*:).*@")
"""The password of a URL that SQLAlchemy cannot read (``scheme://user:PASSWORD@``)."""


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        # ValueError: SQLAlchemy reads the port with int() (``host:5432x``)
        detail = " (the port must be a number)" if isinstance(exc, ValueError) else ""
        raise RegistryError(
            f"cannot read database URL {display_url(url)!r}{detail}; write "
            "sqlite:///PATH/registry.db or postgresql+psycopg://USER@HOST/DATABASE"
        ) from None
    if parsed.host and "@" in parsed.host:
        # SQLAlchemy splits at the first '@': 'ann:p@ss@db' would be password 'p', host 'ss@db'
        raise RegistryError(
            f"cannot read database URL {display_url(url)!r}: it holds more than one '@'; "
            "write an '@' in the user name or password as %40 "
            "(postgresql+psycopg://USER:PASS%40WORD@HOST/DATABASE)"
        )
    return parsed


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL (``None`` for in-memory or non-SQLite databases).

    A SQLite URI filename (``sqlite:///file:PATH?mode=ro&uri=true``, e.g. to open a registry
    read-only) names the file ``PATH``: https://www.sqlite.org/uri.html.

    Examples
    --------
    >>> sqlite_path("sqlite:////data/registry.db")
    PosixPath('/data/registry.db')
    >>> sqlite_path("sqlite:///file:/data/registry.db?mode=ro&uri=true")
    PosixPath('/data/registry.db')
    >>> sqlite_path("sqlite:///file::memory:?uri=true") is None
    True
    """
    parsed = _parse(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    uri = str(parsed.query.get("uri", "")).lower() in ("true", "1")
    if uri and database.startswith("file:"):
        path = unquote(urlsplit(database).path)
        if path in ("", ":memory:") or parsed.query.get("mode") == "memory":
            return None
        return Path(path)
    return Path(database)


SQLITE_JOURNAL_ENV = "IMMUNOPRECISE_SQLITE_JOURNAL_MODE"
"""Environment variable that chooses the journal mode of SQLite registries (default ``wal``)."""

SQLITE_JOURNAL_MODES = ("wal", "delete", "truncate", "persist")
"""Journal modes a SQLite registry may use (SQLite's names)."""

DEFAULT_SQLITE_JOURNAL_MODE = "wal"
"""Write-ahead logging, set on each new connection (a file keeps it once set). Readers no longer
block a writer nor a writer its readers, which is what lets several service processes share one
file, and a commit writes the log once instead of the rollback journal and the database: in
``benchmarks/sqlite_journal.py`` records are stored 1.9 times and read 1.6 times as fast as in
SQLite's default ``delete`` mode in one process, and a writer and a reader in two processes at
once make 1.9 and 2.9 times as many calls. Commits stay fully durable (``synchronous`` is left
at SQLite's ``FULL``). WAL needs the file on a local disk (it uses shared memory; not a
network file system: set ``IMMUNOPRECISE_SQLITE_JOURNAL_MODE=delete`` there) and keeps recent
commits in ``registry.db-wal`` until a checkpoint. See https://www.sqlite.org/wal.html (SQLite
documentation, "Write-Ahead Logging")."""


def sqlite_journal_mode() -> str:
    """The journal mode for SQLite registries: ``$IMMUNOPRECISE_SQLITE_JOURNAL_MODE`` or ``wal``.

    Returns
    -------
    str
        One of :data:`SQLITE_JOURNAL_MODES`.

    Raises
    ------
    RegistryError
        If the variable names another mode.

    Examples
    --------
    >>> sqlite_journal_mode() in SQLITE_JOURNAL_MODES
    True
    """
    raw = os.environ.get(SQLITE_JOURNAL_ENV)
    chosen = (raw or DEFAULT_SQLITE_JOURNAL_MODE).strip().lower()
    if chosen not in SQLITE_JOURNAL_MODES:
        raise RegistryError(
            f"${SQLITE_JOURNAL_ENV} is {raw!r}; use one of {', '.join(SQLITE_JOURNAL_MODES)} "
            f"(default {DEFAULT_SQLITE_JOURNAL_MODE})"
        )
    return chosen


def sqlite_journal_of(url: str) -> str | None:
    """The journal mode a SQLite registry file is in (``None`` for other databases).

    Parameters
    ----------
    url
        A resolved URL (see :func:`resolve_url`) of an existing database.

    Returns
    -------
    str or None
        SQLite's name of the mode (``wal``, ``delete``, ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from immunoprecise.registry import upgrade
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
    >>> _ = upgrade(url)
    >>> sqlite_journal_of(url) == sqlite_journal_mode()
    True
    """
    path = sqlite_path(url)
    if path is None:
        return None
    # mode=rw (never creating the file; read-only when the file is): a read-only connection
    # that is the last to close cannot remove registry.db-wal and -shm, and would leave them
    # behind a registry that nobody has open
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True)) as connection:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


def _sqlite_settings(journal_mode: str) -> Callable[[Any, Any], None]:
    """The connect hook of a SQLite engine: foreign keys on, and ``journal_mode``.

    A file that cannot switch mode (a read-only folder, or another process holding a
    transaction open in the old mode) keeps its mode, with a warning; nothing else changes."""

    def configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            try:
                mode = cursor.execute(f"PRAGMA journal_mode={journal_mode}").fetchone()[0]
            except sqlite3.OperationalError as exc:
                mode = f"unchanged ({exc})"
            if mode not in (journal_mode, "memory"):
                logger.warning(
                    "the SQLite journal mode could not be set to %s, it is %s; the registry "
                    "works, but its readers and writers wait for each other",
                    journal_mode,
                    mode,
                )
        finally:
            cursor.close()

    return configure


_WARNED_SHARED: set[Path] = set()
"""Registry files already reported as readable by others (each is reported once)."""


def _create_private(path: Path) -> None:
    """Create an empty SQLite file readable and writable by its owner only (mode 600).

    SQLite makes a database of an empty file, and gives its ``-wal`` and ``-shm`` files the
    database file's mode. An existing file is left as it is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise RegistryError(
            f"cannot create the SQLite database {path}: {exc.strerror or exc}"
        ) from None
    os.close(fd)


def _warn_if_shared(path: Path) -> None:
    """Warn (once per file) when others than its owner may read or change a registry file."""
    if os.name != "posix" or path in _WARNED_SHARED:
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return
    if mode & 0o077:
        _WARNED_SHARED.add(path)
        logger.warning(
            "the registry database %s holds patient data and may be read or changed by "
            "others (mode %04o); make it private with: chmod 600 %s",
            path,
            mode,
            path,
        )


def make_registry_engine(url: str, *, create: bool = False) -> Engine:
    """Create the engine for a registry URL (no connection is made yet).

    Parameters
    ----------
    url
        A resolved URL (see :func:`resolve_url`).
    create
        For a SQLite file: create its folder and the file if needed, the file (and so its
        ``-wal`` and ``-shm`` files) readable and writable by its owner only (mode 600).
        Without it, a missing file is refused (SQLite would otherwise create an empty one).
        The mode of an existing file is left as it is; one that others may read is reported
        once, as a warning on the ``immunoprecise.registry`` logger.

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    RegistryError
        If the URL cannot be read, names an unknown database kind or driver, or (without
        ``create``) a SQLite file that does not exist; or if
        ``$IMMUNOPRECISE_SQLITE_JOURNAL_MODE`` names an unknown journal mode.
    """
    parsed = _parse(url)
    journal_mode = sqlite_journal_mode() if parsed.get_backend_name() == "sqlite" else None
    path = sqlite_path(url)
    if journal_mode is not None and path is None:
        # each engine (each command, each Registry.open) would get a new, empty database
        raise RegistryError(
            f"database URL {display_url(url)!r} is an in-memory SQLite database, empty each "
            "time it is opened and gone when closed; give a file: sqlite:///PATH/registry.db"
        )
    if path is not None:
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                blocked = isinstance(exc, FileExistsError | NotADirectoryError)
                raise RegistryError(
                    f"cannot create the folder {exc.filename or path.parent} of the SQLite "
                    f"database {path}: "
                    + ("a file of that name is in the way" if blocked else str(exc.strerror))
                ) from None
            _create_private(path)
        elif not path.is_file():
            raise RegistryError(
                f"no registry database at {path}; create it with `immunoprecise db init "
                f"--db {display_url(url)}`"
            )
        _warn_if_shared(path)
    try:
        engine = create_engine(parsed)
    except NoSuchModuleError:
        raise RegistryError(
            f"cannot use database URL {display_url(url)!r}: unknown database kind or driver "
            f"{parsed.drivername!r} (use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    except (ArgumentError, ImportError) as exc:
        raise RegistryError(f"cannot use database URL {display_url(url)!r}: {exc}") from None
    if journal_mode is not None:
        event.listen(engine, "connect", _sqlite_settings(journal_mode))
    return engine
