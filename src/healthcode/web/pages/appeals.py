"""Appeal pages: the person files and follows appeals, the official works the queue (nearest
deadline first), anyone reads the statistics. Forms post here and land back on the page.

Form fields are all optional strings, checked here: a caller without a session gets the
sign-in page (401), never a validation error about a form they were not allowed to send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthcode.domain.appeals import AppealTarget, Ground, Outcome
from healthcode.errors import HealthcodeError, InputRejected, Unauthorized
from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.tokens import STAFF_AUDIENCE
from healthcode.web.api.appeals import stats_out
from healthcode.web.api.officials import actor
from healthcode.web.auth import PERSON_PAGE, PUBLIC_PAGE, Caller, page, refused_by
from healthcode.web.i18n import local_instant
from healthcode.web.pages.person import dependant_names
from healthcode.web.pages.rendering import error_message, hours_minutes, render
from healthcode.web.pages.staff_account import signed_in

router = APIRouter(include_in_schema=False)
STAFF_PAGE = page("official", "supervisor", scope="jurisdiction")
FormText = Annotated[str, Form(max_length=400)]


def _person_page(
    request: Request, caller: Caller, *, error: HealthcodeError | None = None, status: int = 200,
    on_behalf_of: str = "", chosen: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    """The caller's appeals and the form; with ``on_behalf_of`` (one of the caller's
    dependants) the form contests that person's code, orders and evidence. ``chosen``: what a
    refused form held (item, ground, text), shown again so that nothing is typed twice."""
    services = request.app.state.services
    now = services.clock.now()
    names = dependant_names(services, str(caller.subject))
    if on_behalf_of and on_behalf_of not in names:
        error, status, on_behalf_of = Unauthorized("appeal.not_guardian"), 403, ""
    if on_behalf_of:  # the dependant's code, orders and evidence: a read of their record
        view = services.access.read_dependant(
            str(caller.subject), on_behalf_of, now=now, operator_token=caller.operator_token
        )
    else:
        view = services.explanations.explain(str(caller.subject), now=now)
    return render(
        request, "appeals.html", status_code=status, view=view,
        appeals=services.appeals.of_person(str(caller.subject), now=now),
        hours_minutes=hours_minutes, error=error_message(request, error) if error else None,
        dependant_names=names, on_behalf_of=on_behalf_of, caller_key=str(caller.subject),
        appellant=names.get(on_behalf_of), chosen=chosen or {},
        # An appeal against the colour contests an order or a record behind it: a code that
        # no input holds (green by default) offers nothing to contest.
        colour_contestable=any(
            ref.startswith(("order:", "evidence:")) for ref in view.status.inputs
        ),
    )  # fmt: skip


@router.get("/me/appeals")
def my_appeals_page(
    request: Request,
    caller: Annotated[Caller | None, Depends(PERSON_PAGE)],
    for_: Annotated[str, Query(alias="for", max_length=64)] = "",
) -> Response:
    """``?for=<person key>``: a guardian appeals for one of their dependants."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    return _person_page(request, caller, on_behalf_of=for_)


@router.post("/me/appeals")
def file_appeal_page(
    request: Request,
    caller: Annotated[Caller | None, Depends(PERSON_PAGE)],
    item: FormText = "",
    ground: FormText = "",
    text: FormText = "",
    on_behalf_of: FormText = "",
) -> Response:
    """``item`` is ``colour``, ``order:<id>`` or ``evidence:<source/record>``;
    ``on_behalf_of`` a dependant's person key when a guardian files for them."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    kind, _, ref = item.partition(":")
    try:
        if kind not in {t.value for t in AppealTarget} or ground not in {g.value for g in Ground}:
            raise InputRejected("request.malformed", "choose what to appeal and a ground")
        services.appeals.file(
            str(caller.subject),
            AppealRequest(target=AppealTarget(kind), ground=Ground(ground), ref=ref or None,
                          text=text.strip() or None, on_behalf_of=on_behalf_of or None),
            now=services.clock.now(), operator_token=caller.operator_token,
        )  # fmt: skip
    except HealthcodeError as error:
        services.refusals.record(
            error, route="/me/appeals", source_id=None, now=services.clock.now(), by=None
        )
        return _person_page(
            request, caller, error=error, status=error.spec.http_status,
            on_behalf_of=on_behalf_of, chosen={"item": item, "ground": ground, "text": text},
        )  # fmt: skip
    return RedirectResponse("/me/appeals", status_code=303)


@router.post("/me/appeals/{appeal_id}/escalate")
def escalate_page(
    request: Request, appeal_id: str, caller: Annotated[Caller | None, Depends(PERSON_PAGE)]
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    try:
        services.appeals.escalate(
            str(caller.subject), appeal_id, now=services.clock.now(),
            operator_token=caller.operator_token,
        )  # fmt: skip
    except HealthcodeError as error:
        services.refusals.record(
            error, route="/me/appeals/{appeal_id}/escalate", source_id=None,
            now=services.clock.now(), by=None,  # a person's appeal: it names nobody
        )  # fmt: skip
        return _person_page(request, caller, error=error, status=error.spec.http_status)
    return RedirectResponse("/me/appeals", status_code=303)


# --- staff ----------------------------------------------------------------------------------


@router.get("/staff/login", dependencies=[Depends(PUBLIC_PAGE)])
def staff_login(request: Request, token: str = "") -> Response:
    """A staff sign-in link: the staff token becomes an HttpOnly cookie, for no longer than
    the token itself is valid (the same checks apply to every request it makes)."""
    services = request.app.state.services
    now = services.clock.now()
    try:
        claims = services.tokens.verify(token, audience=STAFF_AUDIENCE, now=now)
    except Unauthorized:
        return render(request, "login_failed.html", status_code=401)
    return signed_in(token, claims.role, int(claims.expires_at.timestamp() - now.timestamp()))


def _queue_page(
    request: Request, caller: Caller, *, error: HealthcodeError | None = None, status: int = 200,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    """The queue; after a refused answer, ``typed`` is that answer (its appeal's id, outcome,
    evidence, end), shown again in that appeal's form beside the reason it was refused."""
    services = request.app.state.services
    now = services.clock.now()
    queue = services.appeals.queue(actor(caller))
    return render(
        request, "official_appeals.html", status_code=status, queue=queue, now=now,
        caller=caller, hours_minutes=hours_minutes, typed=typed or {},
        error=error_message(request, error) if error else None,
    )  # fmt: skip


@router.get("/official/appeals")
def official_queue_page(
    request: Request, caller: Annotated[Caller | None, Depends(STAFF_PAGE)]
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    return _queue_page(request, caller)


def _ends_at(value: str, timezone: str) -> datetime | None:
    """The answer's optional end of the order, typed in the pages' time zone."""
    if not value:
        return None
    try:
        return local_instant(value, timezone)
    except ValueError:
        raise InputRejected("request.malformed", "ends_at") from None


@router.post("/official/appeals/{appeal_id}/answer")
def answer_page(
    request: Request,
    appeal_id: str,
    caller: Annotated[Caller | None, Depends(STAFF_PAGE)],
    outcome: FormText = "",
    evidence: FormText = "",
    ends_at: FormText = "",
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    try:
        if outcome not in {o.value for o in Outcome}:
            raise InputRejected("request.malformed", "choose an outcome")
        answer = Answer(
            outcome=Outcome(outcome),
            evidence=tuple(evidence.replace(",", " ").split()),
            ends_at=_ends_at(ends_at, services.settings.timezone),
        )
        services.appeals.answer(actor(caller), appeal_id, answer, now=services.clock.now())
    except HealthcodeError as error:
        services.refusals.record(
            error, route="/official/appeals/{appeal_id}/answer", source_id=None,
            now=services.clock.now(), by=refused_by(caller),
        )  # fmt: skip
        typed = {"id": appeal_id, "outcome": outcome, "evidence": evidence, "ends_at": ends_at}
        return _queue_page(request, caller, error=error, status=error.spec.http_status, typed=typed)
    return RedirectResponse("/official/appeals", status_code=303)


# --- the public -----------------------------------------------------------------------------


@router.get("/stats/appeals", dependencies=[Depends(PUBLIC_PAGE)])
def statistics_page(request: Request) -> HTMLResponse:
    return render(request, "appeal_stats.html", stats=stats_out(request.app.state.services))
