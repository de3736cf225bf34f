"""Staff sign in with badge id and password (OAuth2 password flow) for a short-lived token,
and replace the password the operator set with one of their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, Field

from healthcode.services.tokens import STAFF_ROLES
from healthcode.web.api.schemas import ERRORS, Closed
from healthcode.web.auth import PUBLIC, Caller, access

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
MEMBER = access(*sorted(STAFF_ROLES), scope="own")
THROTTLED = ERRORS | {429: {"description": "Too many failed attempts (Retry-After)"}}
# Past the service's bound (domain/staff_passwords.py), so a long one is told why, not refused
# as a malformed body.
LOOSE = 1000


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int


@router.post(
    "/token",
    response_model=TokenOut,
    responses=THROTTLED,
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


class PasswordChangeIn(Closed):
    current_password: Annotated[str, Field(min_length=1, max_length=LOOSE)]
    # 8 to 200 characters and not the current one: checked by the service, one code for both.
    new_password: Annotated[str, Field(min_length=1, max_length=LOOSE)]


class PasswordChangeOut(BaseModel):
    log_index: int  # the change's `staff_password` entry


@router.post("/password", response_model=PasswordChangeOut, responses=THROTTLED)
def change_password(
    request: Request, body: PasswordChangeIn, member: Annotated[Caller, Depends(MEMBER)]
) -> PasswordChangeOut:
    """Replace my password (the one the operator set, or my own) with one only I know,
    giving the current one; logged as a `staff_password` entry. Every session signed in
    before it ends, this one too: sign in again with the new password. Refused for a token
    the operator issued; a wrong current password counts as a failed sign-in."""
    services = request.app.state.services
    index = services.staff_passwords.change(
        str(member.subject), body.current_password, body.new_password,
        now=services.clock.now(), operator_token=member.operator_token,
        address=request.client.host if request.client else None,
    )  # fmt: skip
    return PasswordChangeOut(log_index=index)
