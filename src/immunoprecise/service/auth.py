"""Bearer tokens and roles of the REST service.

A token is ``secrets.token_urlsafe(32)`` (256 random bits). It is shown once when made; the
database keeps only its SHA-256, with the token's name, role, creator, creation and revocation
times (table ``api_tokens``). The name is the ``actor`` of every registry access made with the
token, so the audit log says who read or wrote which patient's data. Names are never reused, so
that an audit row always names one token holder.

Roles
-----
``admin``
    Everything, including token management and the audit log.
``clinician``
    Identifiable data: full records; may add records and store evaluations.
``researcher``
    Pseudonymized data only (see :mod:`immunoprecise.service.pseudonymize`); may run
    evaluations, simulations and virtual trials but not add records.

Examples
--------
>>> import tempfile, pathlib
>>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
>>> with TokenStore.open(url, create=True) as store:
...     token, secret = store.create("ann", Role.clinician, created_by="admin")
...     (store.verify(secret).name, store.verify("guess"), len(secret) >= 43)
('ann', None, True)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from immunoprecise.errors import RegistryError
from immunoprecise.registry.database import Database, open_migrated_engine
from immunoprecise.registry.schema import ApiTokenRow

__all__ = [
    "SERVICE_TOKEN_RECHECK_SECONDS",
    "TOKEN_NAME_PATTERN",
    "TOKEN_NAME_RULE",
    "ApiToken",
    "Role",
    "TokenConflictError",
    "TokenNotFoundError",
    "TokenStore",
    "TokenStoreDatabaseError",
    "hash_token",
]

TOKEN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
"""Token names: a person or service, 1–128 letters, digits, ``_ . @ -``."""
TOKEN_NAME_RULE = (
    "1–128 letters A–Z or a–z, digits, '_', '.', '@' or '-', starting with a letter or digit"
)
"""What a token name may hold, in words: said alike by the CLI and the REST service."""

SERVICE_TOKEN_RECHECK_SECONDS = 5.0
"""How long the service trusts a token it has found valid before reading it again (seconds).

A token revoked through the service's API is refused at once; one revoked by another process
(``immunoprecise token revoke``) is refused within this time. Reading the token on every
request cost a fifth of the server's time per evaluation (``benchmarks/service.py``)."""


class Role(StrEnum):
    """What a token may do."""

    admin = "admin"
    """Everything, including token management and the audit log."""
    clinician = "clinician"
    """Identifiable patient data: read and add records, store evaluations."""
    researcher = "researcher"
    """Pseudonymized patient data only; no writes of patient data."""


class TokenConflictError(RegistryError):
    """A token name that is already taken (names are never reused)."""


class TokenNotFoundError(RegistryError):
    """No token of that name."""


class TokenStoreDatabaseError(RegistryError):
    """The token table could not be read or written (a database failure, not a bad request)."""


class ApiToken(BaseModel):
    """A stored token (without its secret)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Who holds the token; the actor in the audit log.")
    role: Role
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = Field(description="When it was revoked; null while valid.")

    @property
    def revoked(self) -> bool:
        """Whether the token has been revoked."""
        return self.revoked_at is not None


def hash_token(secret: str) -> str:
    """Return the SHA-256 hex digest of a token (what the database keeps).

    Examples
    --------
    >>> hash_token("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class _TokenFields(Protocol):
    """A token's stored fields: an ``ApiTokenRow``, or a row of a query selecting them."""

    name: str
    role: str
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _model(row: _TokenFields) -> ApiToken:
    return ApiToken(
        name=row.name,
        role=Role(row.role),
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class TokenStore(Database):
    """The service's tokens in the registry database (table ``api_tokens``).

    Built like :class:`~immunoprecise.registry.Registry` on an engine at the latest schema
    (:meth:`open` checks it).

    Parameters
    ----------
    engine
        The registry database's engine.
    recheck_seconds
        How long :meth:`verify` trusts a token it found valid before reading it again
        (0: read it on every call).
    """

    def __init__(self, engine: Engine, *, recheck_seconds: float = 0.0) -> None:
        super().__init__(engine)
        self.recheck_seconds = recheck_seconds
        self._valid: dict[str, tuple[float, ApiToken]] = {}
        self._revocations = 0  # revocations this store has made: a token read before one is
        # not kept as valid (it may be the one revoked, read before the revocation was written)
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, url: str | None = None, *, create: bool = False, recheck_seconds: float = 0.0
    ) -> TokenStore:
        """Open the tokens of the registry at ``url`` (see :meth:`Registry.open`).

        Parameters
        ----------
        url
            Database URL or SQLite file; ``$IMMUNOPRECISE_DB`` or the default file when omitted.
        create
            Create and migrate the database if needed.
        recheck_seconds
            How long a token found valid is trusted before it is read again (0: always read).

        Returns
        -------
        TokenStore

        Raises
        ------
        RegistryError
            If the database cannot be reached or is not at the latest schema.
        """
        return cls(open_migrated_engine(url, create=create), recheck_seconds=recheck_seconds)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise TokenStoreDatabaseError(f"tokens in {self.url}: {exc.args[0]}") from None

    def create(self, name: str, role: Role | str, *, created_by: str) -> tuple[ApiToken, str]:
        """Make a new token.

        Parameters
        ----------
        name
            Who will hold it (1–128 letters, digits, ``_ . @ -``); unique, never reused.
        role
            ``admin``, ``clinician`` or ``researcher``.
        created_by
            Who makes it.

        Returns
        -------
        tuple of ApiToken and str
            The stored token and its secret, which is not kept and cannot be shown again.

        Raises
        ------
        RegistryError
            If the name or role is invalid; :class:`TokenConflictError` if the name is taken.
        """
        if not TOKEN_NAME_PATTERN.fullmatch(name):
            raise RegistryError(f"token name {name!r}: use {TOKEN_NAME_RULE}, e.g. a user name")
        try:
            chosen = Role(role)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise RegistryError(f"role {role!r}: use one of {roles}") from None
        secret = secrets.token_urlsafe(32)
        row = ApiTokenRow(
            name=name,
            role=chosen.value,
            token_sha256=hash_token(secret),
            created_by=created_by[:128] or "unknown",
            created_at=dt.datetime.now(dt.UTC),
            revoked_at=None,
        )
        try:
            with self._transaction() as session:
                if session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == name)).first():
                    raise TokenConflictError(
                        f"a token named {name!r} already exists (names are never reused, so "
                        "the audit log stays unambiguous); choose another name"
                    )
                session.add(row)
        except IntegrityError:
            raise TokenConflictError(
                f"a token named {name!r} already exists; choose another name"
            ) from None
        return _model(row), secret

    def list(self) -> list[ApiToken]:
        """Return every token (valid and revoked), oldest first.

        Returns
        -------
        list of ApiToken
        """
        with self._transaction() as session:
            rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)).all()
            return [_model(r) for r in rows]

    def revoke(self, name: str) -> ApiToken:
        """Revoke a token: it stops working at once; the row stays for the audit log.

        Parameters
        ----------
        name
            The token's name.

        Returns
        -------
        ApiToken
            The token, with ``revoked_at`` set (unchanged if it was already revoked).

        Raises
        ------
        TokenNotFoundError
            If there is no token of that name.
        """
        with self._transaction() as session:
            row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == name)).first()
            if row is None:
                raise TokenNotFoundError(
                    f"no token named {name!r}; `immunoprecise token list` shows them"
                )
            if row.revoked_at is None:
                row.revoked_at = dt.datetime.now(dt.UTC)
            token = _model(row)
        # only now that the revocation is written: a token found valid before it is forgotten,
        # and one being read meanwhile (which may not see it yet) is not kept
        with self._lock:
            self._revocations += 1
            self._valid.clear()
        return token

    def verify(self, secret: str) -> ApiToken | None:
        """Return the valid (not revoked) token with this secret, else ``None``.

        Parameters
        ----------
        secret
            The bearer token as sent by a client.

        Returns
        -------
        ApiToken or None
        """
        if not secret or len(secret) > 512:
            return None
        digest = hash_token(secret)
        with self._lock:
            seen = self._valid.get(digest) if self.recheck_seconds > 0 else None
            revocations = self._revocations
        if seen is not None and time.monotonic() - seen[0] < self.recheck_seconds:
            return seen[1]
        query = select(
            ApiTokenRow.name,
            ApiTokenRow.role,
            ApiTokenRow.created_by,
            ApiTokenRow.created_at,
            ApiTokenRow.revoked_at,
        ).where(ApiTokenRow.token_sha256 == digest)
        row = self._first_row(query)
        if row is None or row.revoked_at is not None:
            with self._lock:
                self._valid.pop(digest, None)
            return None
        token = _model(row)
        if self.recheck_seconds > 0:
            with self._lock:
                if self._revocations == revocations:  # no revocation written since the read
                    self._valid[digest] = (time.monotonic(), token)
        return token
