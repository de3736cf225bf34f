"""Every request, measured and logged by its route template: a plain ASGI middleware.

It gives each request an id (answered as ``X-Request-ID``, so a person reporting a problem can
quote it), and once the answer is sent it counts the request in the metrics and writes one
``healthcode.access`` line (web/logs.py). Both name the route by its template
(``/api/v1/me/dependants/{person_key}/status``), never by the path: a path can hold a person
key, and a template keeps the metrics' label values few.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: that one runs the
endpoint in a task of its own and streams the body through a queue, a cost every request
would pay (bench/http_load.py measures the server against a bare FastAPI app).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from healthcode.web.logs import ACCESS, UNMATCHED, RequestContext, current_request
from healthcode.web.metrics import Metrics

log = logging.getLogger(ACCESS)
# A method is the caller's text: any other is written as OTHER, so a caller can neither add
# label values to the metrics without bound nor put words of their own in a log line.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Instrument:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        context = RequestContext(secrets.token_hex(8), method, scope)
        token = current_request.set(context)
        header = (b"x-request-id", context.request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                context.status = int(message["status"])
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # Unhandled: the server's error middleware, outside this one, answers 500.
            if context.status is None:
                context.status = 500
            raise
        finally:
            current_request.reset(token)
            self._done(context, time.perf_counter() - start)

    def _done(self, context: RequestContext, seconds: float) -> None:
        status = context.status if context.status is not None else 500
        self.metrics.observe_request(context.method, context.route or UNMATCHED, status, seconds)
        if log.isEnabledFor(logging.INFO):
            context.duration_ms = round(seconds * 1000, 3)
            extra: dict[str, Any] = {"request": context}
            log.info("request", extra=extra)
