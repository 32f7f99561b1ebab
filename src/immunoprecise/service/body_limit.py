"""A limit on the size of every request body, enforced as the body arrives.

FastAPI reads a request's whole body before any dependency runs, so without a limit a caller,
even one without a token, could make the server hold any number of bytes in memory. A body
that says it is larger than the limit (``Content-Length``) is answered 413 before any of it is
read; one sent without a length (chunked) is stopped once it passes the limit. The answer is
JSON (``{"detail": ...}``) for the API and the error page for the dashboard, like every other
error.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from immunoprecise.service.errors import message_answer

__all__ = ["BODY_LIMIT_SCOPE_KEY", "BodyLimit", "BodyTooLargeError", "too_large_message"]

BODY_LIMIT_SCOPE_KEY = "immunoprecise.max_body_bytes"
"""Request-scope key holding the limit in bytes (for the messages of the routes)."""


class BodyTooLargeError(Exception):
    """The request body passed the limit while it was being read."""


def too_large_message(limit: int) -> str:
    """The 413 message for a body larger than ``limit`` bytes.

    Examples
    --------
    >>> too_large_message(22_020_096)
    'the request body is larger than 22,020,096 bytes (21 MiB), the most this service accepts; send a smaller one (split a cohort table)'
    """  # noqa: E501
    return (
        f"the request body is larger than {limit:,} bytes ({limit / 2**20:.0f} MiB), the most "
        "this service accepts; send a smaller one (split a cohort table)"
    )


class BodyLimit:
    """ASGI middleware that refuses request bodies larger than ``max_bytes`` (413).

    Parameters
    ----------
    app
        The application.
    max_bytes
        The largest body accepted, in bytes.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[BODY_LIMIT_SCOPE_KEY] = self.max_bytes
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def counting(  # the body as it arrives, stopped past the limit
        ) -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLargeError:
            if started:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        async def nothing() -> Message:  # the body is not read
            return {"type": "http.disconnect"}

        request = Request(scope, nothing)
        response = await message_answer(request, 413, too_large_message(self.max_bytes))
        response.headers["Connection"] = "close"
        await response(scope, nothing, send)
