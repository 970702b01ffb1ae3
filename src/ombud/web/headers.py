"""Security headers and the access log, as a plain ASGI middleware.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: that one runs every
request through an extra task and stream, which cost more CPU than the consent
endpoint's own work (bench/consent_ingest.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ombud.http")

SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"strict-origin-when-cross-origin",
    b"x-frame-options": b"DENY",
}


#: The same, as a header list to add to a response that has none of them.
SECURITY_HEADER_LIST: tuple[tuple[bytes, bytes], ...] = tuple(SECURITY_HEADERS.items())


class SecurityHeaders:
    """Adds the security headers a response lacks, and logs one line per request.

    The line names neither the client address nor the query string (both can be
    personal data: an IP, an e-mail in a link): the method, the route template,
    the status and the time taken.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log_request(scope["method"], _route(scope), status, started)


def log_request(method: str, route: str, status: int, started: float) -> None:
    """The access log's line of one request (``started``: its ``time.perf_counter()``)."""
    if log.isEnabledFor(logging.INFO):
        log.info("%s %s %d %.1fms", method, route, status, (time.perf_counter() - started) * 1000)


def _route(scope: MutableMapping[str, Any]) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "(unmatched)"))
