"""Staff sign in on the pages with their badge and password, see their latest sign-ins, and
replace the password the operator set with one of their own (services/staff_passwords.py).

Until now a member reached the console only through a link with a token the operator minted
(``/staff/login``); signing in with a password the member chose is the way in no one else
holds. Form fields are optional strings, checked here, so a form sent empty gets the form back
with what is missing (422), never a bare validation error.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthcode.bootstrap import Services
from healthcode.errors import HealthcodeError, InputRejected, TooManyAttempts, Unauthorized
from healthcode.services.tokens import STAFF_AUDIENCE, STAFF_ROLES
from healthcode.web.auth import COOKIES, PUBLIC_PAGE, Caller, page, refused_by
from healthcode.web.pages.rendering import error_message, render

router = APIRouter(include_in_schema=False)
R = TypeVar("R", bound=Response)
MEMBER_PAGE = page(*sorted(STAFF_ROLES), scope="own")
STAFF_COOKIE = COOKIES[STAFF_AUDIENCE]
# Each role lands on its own page: officials and supervisors on their appeals queue, auditors
# on their cases (as after a sign-in link, pages/appeals.py).
LANDING = {"hotline": "/hotline", "auditor": "/oversight"}
# Past the services' bounds, so a field too long gets the form back with why, not a bare error.
FormText = Annotated[str, Form(max_length=1000)]


def signed_in(token: str, role: str, seconds: int) -> RedirectResponse:
    """To the role's page, with the staff token as an HttpOnly cookie for as long as it lasts."""
    return _with_cookie(
        RedirectResponse(LANDING.get(role, "/official/appeals"), status_code=303), token, seconds
    )


def _with_cookie(response: R, token: str, seconds: int) -> R:
    response.set_cookie(STAFF_COOKIE, token, httponly=True, samesite="lax", max_age=max(0, seconds))
    return response


def _no_store(response: R) -> R:
    """A page with a password form or a member's sign-ins: kept by no cache."""
    response.headers["Cache-Control"] = "no-store"
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
    return _no_store(render(request, "staff_sign_in.html", badge=""))


@router.post("/staff/sign-in", dependencies=[Depends(PUBLIC_PAGE)])
def sign_in(request: Request, badge: FormText = "", password: FormText = "") -> Response:
    """Badge and password for the console's cookie, throttled as the API's sign-in is."""
    services = request.app.state.services
    now = services.clock.now()
    try:
        if not badge or not password:
            raise InputRejected("request.malformed", "badge, password")
        address = request.client.host if request.client else None
        token = _signed_in_as(services, badge, password, address)
    except HealthcodeError as error:
        return _no_store(_refused(request, "staff_sign_in.html", error, badge=badge))
    claims = services.tokens.verify(token, audience=STAFF_AUDIENCE, now=now)
    return signed_in(token, claims.role, int((claims.expires_at - now).total_seconds()))


def _signed_in_as(services: Services, badge: str, password: str, address: str | None) -> str:
    """`Staff.sign_in`, its refusal told as the page's: "unknown badge or wrong password",
    not the API's "the token is invalid" (there is no token on a form)."""
    try:
        return services.staff.sign_in(badge, password, now=services.clock.now(), address=address)
    except Unauthorized as refused:
        if refused.code != "auth.invalid_token":
            raise
        raise Unauthorized("staff_sign_in.failed") from None


def _account_page(
    request: Request, caller: Caller, *, error: HealthcodeError | None = None,
    changed: int | None = None,
) -> HTMLResponse:  # fmt: skip
    """The member's sign-ins with their password, newest first, and the password form."""
    services = request.app.state.services
    context = {
        "sign_ins": services.staff.sign_ins(str(caller.subject)),
        "password": services.staff_passwords.state(str(caller.subject)),
        "operator_token": caller.operator_token is not None,
        "changed": changed,
    }
    if error is not None:
        return _no_store(_refused(request, "staff_account.html", error, caller, **context))
    return _no_store(render(request, "staff_account.html", caller=caller, **context))


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
        address = request.client.host if request.client else None
        index = services.staff_passwords.change(
            str(caller.subject), current, new, now=services.clock.now(),
            operator_token=caller.operator_token, address=address,
        )  # fmt: skip
    except HealthcodeError as error:
        return _account_page(request, caller, error=error)
    # The change ended every session from before it, this one too: signed in again with the
    # new password, so the member stays where they are (or, refused that, sent to sign in).
    try:
        token = _signed_in_as(services, str(caller.subject), new, address)
    except HealthcodeError:
        return RedirectResponse("/staff/sign-in", status_code=303)
    claims = services.tokens.verify(token, audience=STAFF_AUDIENCE, now=services.clock.now())
    seconds = int((claims.expires_at - services.clock.now()).total_seconds())
    return _with_cookie(_account_page(request, caller, changed=index), token, seconds)
