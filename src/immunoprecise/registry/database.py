"""An open registry database: the engine checked against the latest schema, its sessions and
its lifecycle. :class:`~immunoprecise.registry.Registry` and the service's tokens, dashboard
sessions and jobs build on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, ClassVar, Self

from sqlalchemy import Connection, Engine, Executable, Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from immunoprecise.errors import RegistryError
from immunoprecise.registry.connection import display_url, make_registry_engine, resolve_url
from immunoprecise.registry.migrate import head_revision, revision_of, schema_advice, upgrade

__all__ = ["Database", "open_migrated_engine"]


def open_migrated_engine(url: str | None = None, *, create: bool = False) -> Engine:
    """The engine of the registry at ``url``, refused unless its schema is the latest.

    Parameters
    ----------
    url
        A SQLAlchemy URL or SQLite file path; see :func:`~immunoprecise.registry.resolve_url`.
    create
        Create the database if needed and migrate it to the latest revision first.

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    RegistryError
        If the database cannot be reached, or its schema is not at the latest migration (the
        message says to run ``immunoprecise db upgrade``).
    """
    resolved = resolve_url(url)
    if create:
        upgrade(resolved)
    engine = make_registry_engine(resolved)
    shown = display_url(resolved)
    try:
        with engine.connect() as connection:
            current = revision_of(connection)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise RegistryError(f"cannot open registry {shown}: {exc.args[0]}") from None
    head = head_revision()
    if current != head:
        engine.dispose()
        state = (
            "has no registry schema yet"
            if current is None
            else f"is at schema revision {current}, this immunoprecise needs {head}"
        )
        raise RegistryError(f"registry {shown} {state}; {schema_advice(current, shown)}")
    return engine


class Database:
    """An engine on a registry database at the latest schema, with its session factory.

    Parameters
    ----------
    engine
        From :func:`open_migrated_engine`.
    """

    what: ClassVar[str] = "registry"
    """What the tables hold, in database errors (``"registry"``, ``"jobs in"``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        """Turn a database failure into a :class:`~immunoprecise.errors.RegistryError` naming
        :attr:`what` and the URL."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise RegistryError(f"{self.what} {self.url}: {exc.args[0]}") from None

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A session in a transaction, committed at the end (failures: :meth:`_database_errors`)."""
        with self._database_errors(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def _snapshot(self) -> Iterator[Session]:
        """A read-only session whose statements all see one snapshot of the database, so that
        several reads (a count and a page of rows) agree even while other connections write.

        * SQLite: an explicit (deferred) ``BEGIN``: Python's sqlite3 module would otherwise run
          each SELECT in a transaction of its own. The snapshot is taken at the first read and
          kept until the end of the transaction (https://www.sqlite.org/isolation.html).
        * PostgreSQL: ``REPEATABLE READ, READ ONLY``: at the default READ COMMITTED each
          statement sees the rows committed before it started
          (https://www.postgresql.org/docs/current/transaction-iso.html).
        """
        with self._database_errors(), self._sessions.begin() as session:
            dialect = self._engine.dialect.name
            if dialect == "sqlite":
                session.connection().exec_driver_sql("BEGIN")
            elif dialect == "postgresql":
                session.connection(
                    execution_options={
                        "isolation_level": "REPEATABLE READ",
                        "postgresql_readonly": True,
                    }
                )
            yield session

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A plain connection for read-only queries (no ORM session: several times cheaper for
        the look-ups made on every request; failures: :meth:`_database_errors`)."""
        with self._database_errors(), self._engine.connect() as connection:
            yield connection

    def _first_row(self, query: Executable) -> Row[Any] | None:
        """The first row of a read-only query (see :meth:`_reading`)."""
        with self._reading() as connection:
            return connection.execute(query).first()

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
