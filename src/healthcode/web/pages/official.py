"""The official's console (issue orders and designations, propose source key changes, see
them, the co-sign queues of orders (co-sign or refuse), designations, source key changes and
wider jurisdictions) and the read-only view hotline staff, officials and oversight use to
answer a person (status, who is accountable, how to appeal). Pages for staff signed in with the ``hc_staff`` cookie (``/staff/login``)."""

from __future__ import annotations

from dataclasses import dataclass
from secrets import token_hex
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from healthcode.domain.designations import VOIDING, RiskLevel
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.orders import REFUSAL_REASONS, OrderKind
from healthcode.errors import HealthcodeError, InputRejected
from healthcode.services.access import Reader, purposes_for
from healthcode.services.designations import DesignationRequest
from healthcode.services.orders import OrderRequest, PersonEvidence
from healthcode.store.orders import StoredOrder
from healthcode.web.api.jurisdiction_changes import jurisdiction_change_out
from healthcode.web.api.officials import actor
from healthcode.web.api.source_keys import key_change_out
from healthcode.web.auth import Caller, page, refused_by
from healthcode.web.i18n import local_instant
from healthcode.web.pages.rendering import error_message, render

router = APIRouter(include_in_schema=False)
OFFICIAL_PAGE = page("official", "supervisor", scope="jurisdiction")
SUPERVISOR_PAGE = page("supervisor", scope="jurisdiction")
READER_PAGE = page("hotline", "official", "supervisor", "auditor", scope="district")
# The designations the console offers to end; an ended one may still be withdrawn as made in
# error, through the API (docs/api.md, "Risk designations").
ENDABLE = ("pending", "scheduled", "in_force")
# The reasons to end one (`END_REASONS`), the least drastic first: the form's default.
END_CHOICES = ("no_longer_needed", "shortened", VOIDING)


@dataclass(frozen=True)
class KeyForm:
    """What the key change form held: shown again after a refusal, a 44-character key
    pasted from the source's operator is not typed twice."""

    source_id: str = ""
    public_key: str = ""
    kinds: tuple[str, ...] = ()


def _console(
    request: Request, caller: Caller, error: HealthcodeError | None = None, status: int = 200,
    order_form: dict[str, str] | None = None, key_form: KeyForm | None = None,
    proposed: str = "",
) -> Response:  # fmt: skip
    """The console; after a refused order, ``order_form`` holds what the official typed, so
    the form comes back filled in (a request may name thousands of people) to be corrected;
    ``key_form`` likewise for a key change. ``proposed``: the key change the caller just
    proposed, shown with where it is co-signed while it is pending."""
    services = request.app.state.services
    now = services.clock.now()
    orders = services.orders.of_authority(actor(caller), now)
    key_changes = [key_change_out(change, now) for change in services.source_keys.of_authority(
        str(caller.authority_id), now=now, state="pending")]  # fmt: skip
    return render(
        request, "official.html", status_code=status, caller=caller, now=now,
        pending=_requests([o for o in orders if o.state(now) == "pending"]), recent=orders[:50],
        pending_designations=services.designations.pending(str(caller.authority_id), now=now),
        key_changes=key_changes,
        proposed_change=next((c for c in key_changes if proposed and c.id == proposed), None),
        key_sources=services.source_keys.proposable_sources(str(caller.authority_id)),
        evidence_kinds=list(EvidenceKind), key_form=key_form or KeyForm(),
        jurisdiction_changes=[jurisdiction_change_out(change, now) for change in
                              services.jurisdiction_changes.of_authority(
                                  str(caller.authority_id), now=now, state="pending")],
        endable_designations=[
            d for d in services.designations.of_authority(actor(caller), now=now)
            if d.state in ENDABLE
        ],
        end_reasons=END_CHOICES, levels=list(RiskLevel), refusal_reasons=sorted(REFUSAL_REASONS),
        bases=services.orders.bases, kinds=list(OrderKind), order_form=order_form or {},
        error=error_message(request, error) if error else None,
    )  # fmt: skip


def _refused(
    request: Request, caller: Caller, error: HealthcodeError, route: str,
    order_form: dict[str, str] | None = None, key_form: KeyForm | None = None,
) -> Response:  # fmt: skip
    """A refused form: its refusal recorded naming the staff member whose act it was (what
    `refused_acts` counts), then the console again, with the error."""
    services = request.app.state.services
    services.refusals.record(
        error, route=route, source_id=None, now=services.clock.now(), by=refused_by(caller)
    )
    return _console(
        request, caller, error, error.spec.http_status, order_form=order_form, key_form=key_form
    )


def _requests(orders: list[StoredOrder]) -> list[tuple[StoredOrder, int]]:
    """The co-sign queue: one row per request (a co-signature puts a whole request in force,
    a bulk one naming up to 5,000 people), as its first order and how many people it names."""
    requests: dict[str, tuple[StoredOrder, int]] = {}
    for order in orders:
        first, people = requests.get(order.request_id, (order, 0))
        requests[order.request_id] = (first, people + 1)
    return list(requests.values())


@router.get("/official")
def console(
    request: Request, caller: Annotated[Caller | None, Depends(OFFICIAL_PAGE)],
    proposed: Annotated[str, Query(max_length=64)] = "",
) -> Response:  # fmt: skip
    """``?proposed=<change id>``: where a key change form lands, to show the change."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    return _console(request, caller, proposed=proposed)


@router.post("/official/orders")
def issue_order(
    request: Request,
    caller: Annotated[Caller | None, Depends(OFFICIAL_PAGE)],
    # Defaults, so a caller who may not use the form is refused before its fields are read.
    kind: Annotated[str, Form(max_length=40)] = "",
    legal_basis: Annotated[str, Form(max_length=64)] = "",
    persons: Annotated[str, Form(max_length=200_000)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """One line per person: ``<person key> <evidence ref> [<evidence ref> ...]``."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    try:
        named = tuple(
            PersonEvidence(parts[0], tuple(parts[1:]))
            for parts in (line.split() for line in persons.splitlines())
            if parts
        )
        try:
            until = local_instant(valid_until, services.settings.timezone)
            order_kind = OrderKind(kind)
        except ValueError:
            raise InputRejected("request.malformed", "kind or valid_until") from None
        services.orders.issue(
            actor(caller),
            OrderRequest(order_kind, legal_basis, named, until),
            now=services.clock.now(),
        )
    except HealthcodeError as error:
        typed = {"kind": kind, "legal_basis": legal_basis, "persons": persons,
                 "valid_until": valid_until}  # fmt: skip
        return _refused(request, caller, error, "/official/orders", order_form=typed)
    return RedirectResponse("/official", status_code=303)


@router.post("/official/orders/{request_id}/cosign")
def cosign(
    request: Request, request_id: str, caller: Annotated[Caller | None, Depends(SUPERVISOR_PAGE)]
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    try:
        services.orders.cosign(actor(caller), request_id, now=services.clock.now())
    except HealthcodeError as error:
        return _refused(request, caller, error, "/official/orders/{request_id}/cosign")
    return RedirectResponse("/official", status_code=303)


@router.post("/official/orders/{request_id}/refuse")
def refuse(
    request: Request, request_id: str, caller: Annotated[Caller | None, Depends(SUPERVISOR_PAGE)],
    reason: Annotated[str, Form(max_length=32)] = "",
) -> Response:  # fmt: skip
    """Refuse a pending request, for a reason of the closed list: its orders are withdrawn."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    now = services.clock.now()
    try:
        services.order_refusals.refuse(actor(caller), request_id, reason=reason, now=now)
    except HealthcodeError as error:
        return _refused(request, caller, error, "/official/orders/{request_id}/refuse")
    return RedirectResponse("/official", status_code=303)


@router.post("/official/designations")
def designate(
    request: Request,
    caller: Annotated[Caller | None, Depends(OFFICIAL_PAGE)],
    area: Annotated[str, Form(max_length=6)] = "",
    venue_id: Annotated[str, Form(max_length=64)] = "",
    level: Annotated[str, Form(max_length=8)] = "",
    valid_from: Annotated[str, Form(max_length=40)] = "",
    valid_to: Annotated[str, Form(max_length=40)] = "",
    case_count: Annotated[str, Form(max_length=9)] = "",
    basis: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Designate an area (or one venue) of the caller's jurisdiction at a risk level; one that
    touches many people waits for a second official (a supervisor's co-signature)."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    now, zone = services.clock.now(), services.settings.timezone
    try:
        try:
            designation = DesignationRequest(
                id="des-" + token_hex(6), area=area, level=RiskLevel(level),
                valid_from=local_instant(valid_from, zone),
                valid_to=local_instant(valid_to, zone) if valid_to else None,
                authority_id=str(caller.authority_id), case_count=int(case_count), basis=basis,
                venue_id=venue_id or None,
            )  # fmt: skip
        except ValueError:
            raise InputRejected("request.malformed", "level, times or case count") from None
        services.designations.designate_as(actor(caller), designation, now=now)
    except HealthcodeError as error:
        return _refused(request, caller, error, "/official/designations")
    return RedirectResponse("/official", status_code=303)


@router.post("/official/designations/{designation_id}/cosign")
def cosign_designation(
    request: Request,
    designation_id: str,
    caller: Annotated[Caller | None, Depends(SUPERVISOR_PAGE)],
) -> Response:
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    now = services.clock.now()
    try:
        services.designations.cosign(actor(caller), designation_id, now=now)
    except HealthcodeError as error:
        return _refused(request, caller, error, "/official/designations/{designation_id}/cosign")
    return RedirectResponse("/official", status_code=303)


@router.post("/official/key-changes")
def propose_key_change(
    request: Request,
    caller: Annotated[Caller | None, Depends(OFFICIAL_PAGE)],
    source_id: Annotated[str, Form(max_length=64)] = "",
    public_key: Annotated[str, Form(max_length=200)] = "",
    kinds: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Propose a new key (and kinds) for a source of the caller's authority, as
    `POST /api/v1/sources/{source_id}/key-changes` does; no kind ticked keeps the source's."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    typed = KeyForm(source_id, public_key, tuple(kinds or ()))
    try:
        change = services.source_keys.propose(
            actor(caller), source_id, public_key.strip(), list(typed.kinds) or None,
            now=services.clock.now(),
        )  # fmt: skip
    except HealthcodeError as error:
        return _refused(request, caller, error, "/official/key-changes", key_form=typed)
    return RedirectResponse(f"/official?proposed={change.id}#proposed", status_code=303)


@router.post("/official/key-changes/{change_id}/cosign")
def cosign_key_change(
    request: Request, change_id: str, caller: Annotated[Caller | None, Depends(SUPERVISOR_PAGE)]
) -> Response:
    return _decide_change(request, caller, change_id, "cosign", "key-changes")


@router.post("/official/key-changes/{change_id}/withdraw")
def withdraw_key_change(
    request: Request, change_id: str, caller: Annotated[Caller | None, Depends(OFFICIAL_PAGE)]
) -> Response:
    """Its proposer, or a supervisor of the source's authority."""
    return _decide_change(request, caller, change_id, "withdraw", "key-changes")


def _decide_change(
    request: Request, caller: Caller | None, change_id: str, step: Literal["cosign", "withdraw"],
    kind: Literal["key-changes", "jurisdiction-changes"],
) -> Response:  # fmt: skip
    """A pending key change or wider jurisdiction of the caller's authority, co-signed or
    withdrawn; back to its list on the console, or the console with the refusal."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    changes = services.source_keys if kind == "key-changes" else services.jurisdiction_changes
    decide = changes.cosign if step == "cosign" else changes.withdraw
    try:
        decide(actor(caller), change_id, now=services.clock.now())
    except HealthcodeError as error:
        return _refused(request, caller, error, f"/official/{kind}/{{change_id}}/{step}")
    return RedirectResponse(f"/official#{kind}", status_code=303)


@router.post("/official/jurisdiction-changes/{change_id}/cosign")
def cosign_jurisdiction_change(
    request: Request, change_id: str, caller: Annotated[Caller | None, Depends(SUPERVISOR_PAGE)]
) -> Response:
    return _decide_change(request, caller, change_id, "cosign", "jurisdiction-changes")


@router.post("/official/jurisdiction-changes/{change_id}/withdraw")
def withdraw_jurisdiction_change(
    request: Request, change_id: str, caller: Annotated[Caller | None, Depends(SUPERVISOR_PAGE)]
) -> Response:
    return _decide_change(request, caller, change_id, "withdraw", "jurisdiction-changes")


@router.post("/official/designations/{designation_id}/end")
def end_designation(
    request: Request,
    designation_id: str,
    caller: Annotated[Caller | None, Depends(OFFICIAL_PAGE)],
    reason: Annotated[str, Form(max_length=32)] = "",
    ends_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """End one of the authority's designations now or at ``ends_at``, or withdraw a pending
    one, with a reason from the closed list."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    now, zone = services.clock.now(), services.settings.timezone
    try:
        try:
            until = local_instant(ends_at, zone) if ends_at else None
        except ValueError:
            raise InputRejected("request.malformed", "ends_at") from None
        services.designations.end(
            actor(caller), designation_id, reason=reason, ends_at=until, now=now
        )
    except HealthcodeError as error:
        return _refused(request, caller, error, "/official/designations/{designation_id}/end")
    return RedirectResponse("/official", status_code=303)


@router.get("/hotline")
def hotline(
    request: Request,
    caller: Annotated[Caller | None, Depends(READER_PAGE)],
    person: str = "",
    purpose: str = "",
) -> Response:
    """Look a person up, for a stated purpose: their status as they see it, and who to ask."""
    if caller is None:
        return render(request, "login_failed.html", status_code=401)
    services = request.app.state.services
    view, error = None, None
    if person:
        try:
            reader = Reader(
                str(caller.subject), caller.role, caller.authority_id, caller.jurisdiction,
                caller.operator_token,
            )  # fmt: skip
            view = services.access.read(reader, person, purpose or None, now=services.clock.now())
        except HealthcodeError as failure:
            error = failure
    return render(
        request, "hotline.html", status_code=error.spec.http_status if error else 200,
        caller=caller, view=view, status=view.status if view else None, person=person,
        purposes=purposes_for(caller.role), error=error_message(request, error) if error else None,
    )  # fmt: skip
