"""The person's pages: log in by link, see the code, the reason, the evidence and the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthcode.bootstrap import Services
from healthcode.domain.status import Status
from healthcode.errors import Unauthorized
from healthcode.services.notifications import Notice
from healthcode.services.tokens import PERSON_AUDIENCE, SIGN_IN_AUDIENCE
from healthcode.web.auth import PERSON_PAGE, PUBLIC_PAGE, SESSION_COOKIE, SIGNED_OUT, Caller
from healthcode.web.pages.rendering import hours_minutes, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Dependant:
    """A person in the caller's care as their guardian's page shows them: their own code."""

    key: str
    name: str
    status: Status  # from their own evidence only (A4)


def dependants_of(
    services: Services, guardian: str, now: datetime, operator_token: str | None = None
) -> list[Dependant]:
    """The guardian's dependants with their codes: each one a read of the dependant's record,
    recorded and shown to them (invariant 7, services/access.py), made with ``operator_token``
    (the guardian's, if the operator issued it)."""
    found = []
    for key, view in services.access.read_dependants(
        guardian, now=now, operator_token=operator_token
    ):
        found.append(Dependant(key, dependant_name(services, key), view.status))
    return found


def guardian_names(services: Services, dependant: str, notices: list[Notice]) -> dict[str, str]:
    """The guardian's name by the subject of each of the dependant's guardianship notices."""
    indices = [int(n.subject) for n in notices if n.kind == "guardianship" and n.subject]
    return {
        str(i): name
        for i, name in services.guardianships.names_by_entry(dependant, indices).items()
    }


def dependant_names(services: Services, guardian: str) -> dict[str, str]:
    """The guardian's dependants by name only: no code is read, so none is recorded."""
    return {key: dependant_name(services, key) for key in services.identity.dependants(guardian)}


def dependant_name(services: Services, key: str) -> str:
    record = services.identity.lookup(key)
    return record.display_name if record else key


@router.get("/", dependencies=[Depends(PUBLIC_PAGE)])
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/login", dependencies=[Depends(PUBLIC_PAGE)])
def login_page(request: Request, token: str = "") -> Response:
    """A sign-in link opens a page that asks to sign in, and spends nothing: a link preview
    (a chat app's, a mail scanner's) or a browser's prefetch fetches links by GET, and would
    otherwise spend a link that signs in once before its person opens it."""
    services = request.app.state.services
    try:
        services.tokens.verify(token, audience=SIGN_IN_AUDIENCE, now=services.clock.now())
    except Unauthorized as refused:
        # Spent, it is revoked: the page says the link was used rather than that it is wrong.
        used = refused.detail == "revoked"
        return _no_store(render(request, "login_failed.html", status_code=401, used=used))
    return _no_store(render(request, "login.html", token=token))


@router.post("/login", dependencies=[Depends(PUBLIC_PAGE)])
def login(request: Request, token: Annotated[str, Form(max_length=4096)] = "") -> Response:
    """Exchange the token of a sign-in link for an HttpOnly session cookie. A link signs in
    once: its token is spent here (a person's app holds bearer tokens of its own)."""
    services = request.app.state.services
    now = services.clock.now()
    try:
        claims = services.tokens.redeem(token, audience=SIGN_IN_AUDIENCE, now=now)
    except Unauthorized as refused:
        used = refused.detail == "already used"
        return _no_store(render(request, "login_failed.html", status_code=401, used=used))
    ttl = timedelta(hours=services.settings.session_hours)
    if claims.operator_issued:
        # The session acts with the operator's link (services/person_token_uses.py), so it
        # carries the link's id, and ends when the link's logged validity does: an act after
        # it would be refused as one outside that validity.
        ttl = min(ttl, claims.expires_at - now)
    session = services.tokens.mint(
        str(claims.subject),
        role=claims.role,
        audience=PERSON_AUDIENCE,
        now=now,
        ttl=ttl,
        opened_with=claims.token_id if claims.operator_issued else None,
    )
    response = RedirectResponse("/me", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        httponly=True,
        samesite="lax",
        max_age=int(ttl.total_seconds()),
    )
    return response


def _no_store(response: Response) -> Response:
    """A page that holds or judges a sign-in token: kept by no cache, sent to no other site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/logout", dependencies=[Depends(PUBLIC_PAGE)])
def logout(request: Request) -> Response:
    """Sign out of the person's and staff sessions this browser holds (`SIGNED_OUT`): each
    is revoked, not only forgotten, so a copy of the cookie (a shared phone, a shared office
    computer) stops working too."""
    services = request.app.state.services
    now = services.clock.now()
    response = RedirectResponse("/", status_code=303)
    for audience, cookie in SIGNED_OUT.items():
        token = request.cookies.get(cookie)
        if token:
            services.tokens.sign_out(token, audience=audience, now=now)
            response.delete_cookie(cookie)
    return response


@router.get("/me")
def my_page(request: Request, claims: Annotated[Caller | None, Depends(PERSON_PAGE)]) -> Response:
    if claims is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    now = services.clock.now()
    view = services.explanations.explain(str(claims.subject), now=now)
    dependants = dependants_of(services, str(claims.subject), now, claims.operator_token)
    record = services.identity.lookup(str(claims.subject))
    issued_tokens = services.person_tokens.of_person(str(claims.subject))
    notices = services.notices.of_person(str(claims.subject))
    return render(
        request,
        "person.html",
        view=view,
        status=view.status,
        person=record,
        log_secret=services.secrets.secret(str(claims.subject)).hex(),
        accesses=services.access.of_person(str(claims.subject)),
        issued_tokens=issued_tokens,
        guardians=services.guardianships.guardians_of(str(claims.subject)),
        appeals=services.appeals.of_person(str(claims.subject), now=now),
        notices=notices,
        # What a notice's subject (an entry's log index) stands for: no person key reaches it.
        token_until={str(t.issued.log_index): t.issued.valid_until for t in issued_tokens},
        guardian_names=guardian_names(services, str(claims.subject), notices),
        dependants=dependants,
        dependant_names={d.key: d.name for d in dependants},
        caller_key=str(claims.subject),
        hours_minutes=hours_minutes,
    )
