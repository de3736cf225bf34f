"""The venue page (a rotating place code full screen, a pass and card check) and the person
page's scan form. Both work without JavaScript (the venue page then reloads itself)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from healthcode.credentials.passes import qr_svg
from healthcode.errors import HealthcodeError, InputRejected, Unauthorized
from healthcode.services.tokens import VENUE_AUDIENCE
from healthcode.web.api.places import UPLOAD_LIMIT, form_text
from healthcode.web.auth import COOKIES, PERSON_PAGE, PUBLIC_PAGE, Caller, page
from healthcode.web.bodies import larger_body
from healthcode.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
VENUE_PAGE = page("venue", scope="venue")
VENUE_COOKIE = COOKIES[VENUE_AUDIENCE]


@router.get("/venue/login", dependencies=[Depends(PUBLIC_PAGE)])
def venue_login(request: Request, token: str = "") -> Response:
    """Exchange a venue device token (`healthcode venue token`) for the device's cookie."""
    if not token:
        return render(request, "venue_login.html")
    services = request.app.state.services
    now = services.clock.now()
    try:
        claims = services.tokens.verify(token, audience=VENUE_AUDIENCE, now=now)
    except Unauthorized:
        return render(request, "venue_login.html", status_code=401, failed=True)
    response = RedirectResponse("/venue", status_code=303)
    seconds = max(0, int((claims.expires_at - now).total_seconds()))
    response.set_cookie(VENUE_COOKIE, token, httponly=True, samesite="lax", max_age=seconds)
    return response


@router.get("/venue")
def venue_page(
    request: Request, venue: Annotated[Caller | None, Depends(VENUE_PAGE)]
) -> HTMLResponse:
    """Full screen: the venue's current place code, refreshed every few seconds; below it,
    every device sign-in the operator issued for the venue."""
    if venue is None:
        return render(request, "venue_login.html", status_code=401)
    services = request.app.state.services
    view = services.places.current_code(str(venue.subject), services.clock.now())
    refresh = max(1, int(services.places.policy.code_interval.total_seconds() // 2))
    return render(
        request,
        "venue.html",
        view=view,
        svg=Markup(qr_svg(view.text, scale=8).decode()),  # segno's own SVG, trusted
        refresh=refresh,
        issued_tokens=services.venue_tokens.of_venue(str(venue.subject)),
        until=view.valid_until.astimezone(ZoneInfo(services.settings.timezone)).strftime(
            "%H:%M:%S"
        ),
    )


async def _form_text(request: Request, field: str, prefixes: tuple[str, ...]) -> str:
    if not request.headers.get("content-type", "").startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    ):
        raise InputRejected("request.malformed", "a form is expected")
    return await form_text(request, field, prefixes)


def _refused(
    request: Request, template: str, error: HealthcodeError, **context: object
) -> Response:
    # Recorded like any refused write (code and route only), then shown on the page.
    services = request.app.state.services
    route = request.scope.get("route")
    services.refusals.record(
        error, route=getattr(route, "path", request.url.path), source_id=None,
        now=services.clock.now(), by=None,  # a person's or a venue's: it names nobody
    )  # fmt: skip
    return render(request, template, status_code=error.spec.http_status, error=error, **context)


@router.post("/venue/check", openapi_extra=larger_body(UPLOAD_LIMIT))
async def venue_check(
    request: Request, venue: Annotated[Caller | None, Depends(VENUE_PAGE)]
) -> Response:
    """Check a pass or an identity card (pasted text or a photo of its QR code)."""
    if venue is None:
        return render(request, "venue_login.html", status_code=401)
    services = request.app.state.services
    now = services.clock.now()
    try:
        text = await _form_text(request, "text", ("HCP1:", "HCI1:"))
        if text.startswith("HCI1:"):
            where = await run_in_threadpool(services.places.venue, str(venue.subject), now)
            answer = await run_in_threadpool(
                services.passes.check_card, where, text, now, device_token=venue.operator_token
            )
        else:
            answer = await run_in_threadpool(services.passes.check_pass, text, now)
    except HealthcodeError as error:
        return _refused(request, "venue_check.html", error)
    return render(request, "venue_check.html", answer=answer)


@router.post("/me/scan", openapi_extra=larger_body(UPLOAD_LIMIT))
async def scan_form(
    request: Request, person: Annotated[Caller | None, Depends(PERSON_PAGE)]
) -> Response:
    """The person page's scan form: paste a place code, or upload a photo of one."""
    if person is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    try:
        code = await _form_text(request, "code", ("HCV1:",))
        result = await run_in_threadpool(
            services.places.scan, str(person.subject), code, services.clock.now()
        )
    except HealthcodeError as error:
        return _refused(request, "scan_result.html", error)
    return render(request, "scan_result.html", result=result)
