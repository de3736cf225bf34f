"""Staff sign in with badge id and password (OAuth2 password flow) for a short-lived token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel

from healthcode.web.api.schemas import ERRORS
from healthcode.web.auth import PUBLIC

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int


@router.post(
    "/token",
    response_model=TokenOut,
    responses=ERRORS | {429: {"description": "Too many failed attempts (Retry-After)"}},
    dependencies=[Depends(PUBLIC)],
)
def sign_in(
    request: Request,
    # An empty form field arrives as a missing one, so the schema asks for one character.
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
) -> TokenOut:
    services = request.app.state.services
    # Throttled per badge id and per client address (behind a proxy: its address, unless the
    # server is started with the proxy's forwarded headers trusted; docs/operations.md).
    address = request.client.host if request.client else None
    token = services.staff.sign_in(username, password, now=services.clock.now(), address=address)
    return TokenOut(access_token=token, token_type="bearer", expires_in=15 * 60)
