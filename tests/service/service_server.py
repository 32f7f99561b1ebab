"""The running test server's handle (imported by the service tests and their fixtures)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

__all__ = ["Server"]


@dataclass
class Server:
    """A running service: its base URL, database and one token per role."""

    url: str
    db_url: str
    tokens: dict[str, str]

    def client(self, role: str | None = None, *, token: str | None = None) -> httpx.Client:
        """An HTTP client sending the token of ``role`` (or ``token``; none for neither)."""
        secret = token if token is not None else (self.tokens[role] if role else None)
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0)
