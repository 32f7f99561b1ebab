"""The service's access log: one line per request that names the route, never the data in it.

A web server's usual access log writes the request's path and query string, which here would
put patient ids (``/api/v1/patients/SYN-CRC-001``), searches and cohort names into log files.
This log writes the route's template instead (``/api/v1/patients/{patient_id}``), with the
method, status and duration, and the caller's address; ``immunoprecise serve`` turns uvicorn's
own access log off in its favour. A test runs the service end to end and scans its output for
every identifying field of the patients it handled (``tests/service/test_logs_hold_no_phi.py``).

Examples
--------
>>> from starlette.routing import Route
>>> _route({"route": Route("/api/v1/patients/{patient_id}", lambda request: None)})
'/api/v1/patients/{patient_id}'
>>> _route({})  # no route matched: the path is not logged either
'(no route)'
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ACCESS_LOGGER", "AccessLog"]

ACCESS_LOGGER = "immunoprecise.service.access"
"""Name of the logger the access lines go to (level INFO)."""

_log = logging.getLogger(ACCESS_LOGGER)


class AccessLog:
    """ASGI middleware logging ``client - METHOD /route/{template} STATUS ms`` per request.

    Parameters
    ----------
    app
        The application to wrap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if _log.isEnabledFor(logging.INFO):
                _log.info(
                    "%s - %s %s %d %.1f ms",
                    _client(scope),
                    scope.get("method", "?"),
                    _route(scope),
                    status,
                    (time.perf_counter() - start) * 1e3,
                )


def _route(scope: Scope) -> str:
    """The matched route's template; what is not a route is logged without its path."""
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    return "(no route)"


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}" if client else "-"
