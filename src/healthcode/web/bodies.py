"""Request bodies: one size limit for every route, and one way to read JSON by hand.

``BodyLimit`` counts a body's bytes as they arrive, so a chunked body (no Content-Length) is
held to the same limit as one that declares its length, and a body is refused before any of it
is parsed. The limit is ``DEFAULT_LIMIT`` for every route; a route that takes pictures or bulk
data declares a larger one with ``larger_body(...)`` (docs/api.md, "Request bodies"), which
also puts it in /openapi.json. The limit is looked up on the first read of the body, once the
router has matched the route: a route that never reads its body never pays for it.

``read_json`` is the one function that parses a body by hand (routes that take JSON or a form):
a body that is not JSON, or nests too deep for the parser, is ``request.malformed``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from healthcode.errors import InputRejected

DEFAULT_LIMIT = 1024 * 1024  # bytes; far above any form or JSON body but the bulk ones
LIMIT_KEY = "x-max-body-bytes"  # where a route's larger limit is declared (openapi_extra)


class BodyTooLarge(HTTPException):
    """Raised from ``receive``: an HTTP exception, so the framework's own body parsing lets it
    through (it turns any other error into a 400) and ``web/errors.py`` answers it as
    ``request.too_large``, with the refusal recorded."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request.too_large")


def larger_body(limit: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A route's ``openapi_extra`` declaring a body limit above ``DEFAULT_LIMIT``."""
    return {**(extra or {}), LIMIT_KEY: limit}


def route_limit(scope: Scope, default: int = DEFAULT_LIMIT) -> int:
    extra = getattr(scope.get("route"), "openapi_extra", None) or {}
    return int(extra.get(LIMIT_KEY, default))


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """A plain ASGI middleware (not ``BaseHTTPMiddleware``: see web/instrument.py)."""

    def __init__(self, app: ASGIApp, default: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = -1
        received = 0

        async def counted() -> Message:
            nonlocal limit, received
            if limit < 0:
                limit = route_limit(scope, self.default)
                declared = _declared_length(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        await self.app(scope, counted, send)


async def read_json(request: Request, limit: int | None = None) -> Any:
    """The body as JSON, at most ``limit`` bytes if given (tighter than the route's limit, for a
    route whose pictures may be larger than its JSON). Not JSON, or nested deeper than the
    parser goes (a RecursionError, not a ValueError): ``request.malformed``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            raise InputRejected("request.too_large")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        raise InputRejected("request.malformed", "body: not JSON, or nested too deep") from None
