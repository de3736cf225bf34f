"""Staff sign in on the pages with their badge and password, see their latest sign-ins, and
replace the password the operator set with one of their own (services/staff_passwords.py).

Until now a member reached the console only through a link with a token the operator minted
(``/staff/login``); signing in with a password the member chose is the way in no one else
holds. Form fields are optional strings, checked here, so a form sent empty gets the form back
with what is missing (422), never a bare validation error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthcode.errors import HealthcodeError, InputRejected, TooManyAttempts
from healthcode.services.tokens import STAFF_AUDIENCE, STAFF_ROLES
from healthcode.web.auth import COOKIES, PUBLIC_PAGE, Caller, page, refused_by
from healthcode.web.pages.rendering import error_message, render

router = APIRouter(include_in_schema=False)
MEMBER_PAGE = page(*sorted(STAFF_ROLES), scope="own")
STAFF_COOKIE = COOKIES[STAFF_AUDIENCE]
# Each role lands on its own page: officials and supervisors on their appeals queue, auditors
# on their cases (as after a sign-in link, pages/appeals.py).
LANDING = {"hotline": "/hotline", "auditor": "/oversight"}
FormText = Annotated[str, Form(max_length=200)]


def signed_in(token: str, role: str, seconds: int) -> RedirectResponse:
    """To the role's page, with the staff token as an HttpOnly cookie for as long as it lasts."""
    response = RedirectResponse(LANDING.get(role, "/official/appeals"), status_code=303)
    response.set_cookie(STAFF_COOKIE, token, httponly=True, samesite="lax", max_age=max(0, seconds))
    return response


def _refused(
    request: Request, template: str, error: HealthcodeError, caller: Caller | None = None,
    **context: object,
) -> HTMLResponse:  # fmt: skip
    """The form again with the refusal, recorded as the API's are (naming the member whose
    act it was, for a signed-in one: what `refused_acts` counts)."""
    services = request.app.state.services
    services.refusals.record(
        error, route=request.url.path, source_id=None, now=services.clock.now(),
        by=refused_by(caller),
    )  # fmt: skip
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyAttempts) else {}
    answer = render(
        request, template, status_code=error.spec.http_status,
        error=error_message(request, error), caller=caller, **context,
    )  # fmt: skip
    answer.headers.update(headers)
    return answer


@router.get("/staff/sign-in", dependencies=[Depends(PUBLIC_PAGE)])
def sign_in_page(request: Request) -> HTMLResponse:
    return render(request, "staff_sign_in.html", badge="")


@router.post("/staff/sign-in", dependencies=[Depends(PUBLIC_PAGE)])
def sign_in(request: Request, badge: FormText = "", password: FormText = "") -> Response:
    """Badge and password for the console's cookie, throttled as the API's sign-in is."""
    services = request.app.state.services
    now = services.clock.now()
    try:
        if not badge or not password:
            raise InputRejected("request.malformed", "badge, password")
        address = request.client.host if request.client else None
        token = services.staff.sign_in(badge, password, now=now, address=address)
    except HealthcodeError as error:
        return _refused(request, "staff_sign_in.html", error, badge=badge)
    claims = services.tokens.verify(token, audience=STAFF_AUDIENCE, now=now)
    return signed_in(token, claims.role, int((claims.expires_at - now).total_seconds()))


def _account_page(
    request: Request, caller: Caller, *, error: HealthcodeError | None = None,
    changed: int | None = None,
) -> HTMLResponse:  # fmt: skip
    """The member's sign-ins with their password, newest first, and the password form."""
    services = request.app.state.services
    context = {
        "sign_ins": services.staff.sign_ins(str(caller.subject)),
        "operator_knows": services.staff_passwords.operator_knows(str(caller.subject)),
        "operator_token": caller.operator_token is not None,
        "changed": changed,
    }
    if error is not None:
        return _refused(request, "staff_account.html", error, caller, **context)
    return render(request, "staff_account.html", caller=caller, **context)


@router.get("/staff/account")
def account_page(
    request: Request, caller: Annotated[Caller | None, Depends(MEMBER_PAGE)]
) -> Response:
    if caller is None:
        return render(request, "staff_sign_in.html", status_code=401, badge="")
    return _account_page(request, caller)


@router.post("/staff/password")
def change_password(
    request: Request,
    caller: Annotated[Caller | None, Depends(MEMBER_PAGE)],
    current: FormText = "",
    new: FormText = "",
    again: FormText = "",
) -> Response:
    if caller is None:
        return render(request, "staff_sign_in.html", status_code=401, badge="")
    services = request.app.state.services
    try:
        if not current or not new:
            raise InputRejected("request.malformed", "current, new")
        if new != again:
            raise InputRejected("staff_password.mismatch")
        index = services.staff_passwords.change(
            str(caller.subject), current, new, now=services.clock.now(),
            operator_token=caller.operator_token,
            address=request.client.host if request.client else None,
        )  # fmt: skip
    except HealthcodeError as error:
        return _account_page(request, caller, error=error)
    return _account_page(request, caller, changed=index)
