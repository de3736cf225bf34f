"""The person's pages: log in by link, see the code, the reason, the evidence and the history."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthcode.errors import Unauthorized
from healthcode.services.tokens import PERSON_AUDIENCE
from healthcode.web.auth import SESSION_COOKIE, current_person
from healthcode.web.pages.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/login")
def login(request: Request, token: str = "") -> Response:
    """Exchange a signed token from a login link for an HttpOnly session cookie."""
    services = request.app.state.services
    now = services.clock.now()
    try:
        claims = services.tokens.verify(token, audience=PERSON_AUDIENCE, now=now)
    except Unauthorized:
        return render(request, "login_failed.html", status_code=401)
    session = services.tokens.mint(
        claims.subject,
        role=claims.role,
        audience=PERSON_AUDIENCE,
        now=now,
        ttl=timedelta(hours=services.settings.session_hours),
    )
    response = RedirectResponse("/me", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        httponly=True,
        samesite="lax",
        max_age=services.settings.session_hours * 3600,
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me")
def my_page(request: Request) -> Response:
    try:
        claims = current_person(request)
    except Unauthorized:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    view = services.explanations.explain(claims.subject, now=services.clock.now())
    record = services.identity.lookup(claims.subject)
    return render(
        request,
        "person.html",
        view=view,
        status=view.status,
        person=record,
        log_secret=services.secrets.secret(claims.subject).hex(),
    )
