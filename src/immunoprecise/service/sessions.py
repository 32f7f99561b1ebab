"""Dashboard sessions, kept in the registry database so that every server process shares them.

A session starts when a browser logs in with a token; the browser then holds only a random
256-bit session id in a cookie. The database keeps the id's SHA-256 (never the id itself), with
the token's name and role, the session's CSRF token and its times (table
``dashboard_sessions``). Because the table is shared, a browser can be answered by any worker
process of ``immunoprecise serve --workers N``, a logout in one ends the session in all, and a
server restart does not log anyone out.

A session ends on logout, after ``idle`` without requests, or ``max_age`` after login. Its
last-seen time is written at most once a minute (:data:`TOUCH_SECONDS`), so that page views are
reads, not writes.

Examples
--------
>>> import tempfile, pathlib
>>> from immunoprecise.registry.database import open_migrated_engine
>>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
>>> store = SessionStore(open_migrated_engine(url, create=True))
>>> session = store.create("ann", Role.clinician)
>>> other_process = SessionStore(open_migrated_engine(url))
>>> other_process.get(session.id).name
'ann'
>>> store.drop(session.id); other_process.get(session.id) is None
True
>>> store.close(); other_process.close()
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, delete, or_, select, update

from immunoprecise.registry.database import Database
from immunoprecise.registry.schema import DashboardSessionRow
from immunoprecise.service.auth import Role, hash_token
from immunoprecise.service.deps import Caller

__all__ = ["SESSION_IDLE", "SESSION_MAX", "TOUCH_SECONDS", "DashboardSession", "SessionStore"]

SESSION_IDLE = dt.timedelta(hours=2)
"""A session ends after this long without requests."""
SESSION_MAX = dt.timedelta(hours=12)
"""A session ends this long after login, whatever its activity."""
TOUCH_SECONDS = 60.0
"""A session's last-seen time is written when it is older than this (seconds): at most one write
a minute per browser, so the idle limit is kept to within a minute."""


@dataclass
class DashboardSession:
    """A logged-in browser: the token's name (the actor) and role, and its CSRF token."""

    id: str
    name: str
    role: Role
    csrf: str
    created: dt.datetime
    last_seen: dt.datetime

    @property
    def caller(self) -> Caller:
        """The caller as the REST handlers see it."""
        return Caller(self.name, self.role)


class SessionStore(Database):
    """Dashboard sessions in the registry database (table ``dashboard_sessions``).

    Parameters
    ----------
    engine
        The registry database's engine, at the latest schema
        (:func:`~immunoprecise.registry.database.open_migrated_engine`).
    idle
        A session ends after this long without requests.
    max_age
        A session ends this long after login.
    """

    what = "dashboard sessions in"

    def __init__(
        self,
        engine: Engine,
        *,
        idle: dt.timedelta = SESSION_IDLE,
        max_age: dt.timedelta = SESSION_MAX,
    ) -> None:
        super().__init__(engine)
        self.idle = idle
        self.max_age = max_age

    def _expired(self, now: dt.datetime) -> ColumnElement[bool]:
        return or_(
            DashboardSessionRow.last_seen < now - self.idle,
            DashboardSessionRow.created_at < now - self.max_age,
        )

    def create(self, name: str, role: Role) -> DashboardSession:
        """Start a session for a verified token (and forget the expired ones).

        Parameters
        ----------
        name
            The token's name: the actor of every registry access the session makes.
        role
            The token's role.

        Returns
        -------
        DashboardSession
            With its id, the cookie's value (shown only here).
        """
        now = dt.datetime.now(dt.UTC)
        session = DashboardSession(
            id=secrets.token_urlsafe(32),
            name=name,
            role=role,
            csrf=secrets.token_urlsafe(32),
            created=now,
            last_seen=now,
        )
        with self._transaction() as db:
            db.execute(delete(DashboardSessionRow).where(self._expired(now)))
            db.add(
                DashboardSessionRow(
                    session_sha256=hash_token(session.id),
                    name=name,
                    role=role.value,
                    csrf=session.csrf,
                    created_at=now,
                    last_seen=now,
                )
            )
        return session

    def get(self, session_id: str | None) -> DashboardSession | None:
        """The live session with this id (its idle clock restarts), else ``None``.

        Parameters
        ----------
        session_id
            The cookie's value (``None`` or empty: no session).

        Returns
        -------
        DashboardSession or None
        """
        if not session_id:
            return None
        digest = hash_token(session_id)
        row = self._first_row(
            select(
                DashboardSessionRow.name,
                DashboardSessionRow.role,
                DashboardSessionRow.csrf,
                DashboardSessionRow.created_at,
                DashboardSessionRow.last_seen,
            ).where(DashboardSessionRow.session_sha256 == digest)
        )
        if row is None:
            return None
        now = dt.datetime.now(dt.UTC)
        if now - row.last_seen > self.idle or now - row.created_at > self.max_age:
            self.drop(session_id)
            return None
        last_seen = row.last_seen
        if (now - last_seen).total_seconds() > TOUCH_SECONDS:
            with self._transaction() as db:
                db.execute(
                    update(DashboardSessionRow)
                    .where(DashboardSessionRow.session_sha256 == digest)
                    .values(last_seen=now)
                )
            last_seen = now
        return DashboardSession(
            id=session_id,
            name=row.name,
            role=Role(row.role),
            csrf=row.csrf,
            created=row.created_at,
            last_seen=last_seen,
        )

    def drop(self, session_id: str | None) -> None:
        """End a session (logout); nothing happens for an unknown id.

        Parameters
        ----------
        session_id
            The cookie's value.
        """
        if not session_id:
            return
        with self._transaction() as db:
            db.execute(
                delete(DashboardSessionRow).where(
                    DashboardSessionRow.session_sha256 == hash_token(session_id)
                )
            )
