"""Who is calling: a person's bearer token (API) or session cookie (pages)."""

from __future__ import annotations

from fastapi import Request

from healthcode.errors import Unauthorized
from healthcode.services.tokens import PERSON_AUDIENCE, Claims

SESSION_COOKIE = "hc_session"


def bearer_or_cookie(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def current_person(request: Request) -> Claims:
    services = request.app.state.services
    token = bearer_or_cookie(request)
    if not token:
        raise Unauthorized("auth.required")
    claims: Claims = services.tokens.verify(
        token, audience=PERSON_AUDIENCE, now=services.clock.now()
    )
    if claims.role != "person":
        raise Unauthorized("auth.forbidden", "not a person token")
    return claims
