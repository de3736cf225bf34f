"""A person reads their own status, its explanation and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from healthcode.errors import NotFound
from healthcode.services.access import PURPOSES
from healthcode.services.explain import EvidenceView, Named, StatusView
from healthcode.store import status as status_repo
from healthcode.web.api.public import designation_out
from healthcode.web.api.schemas import (
    ERRORS,
    HALTED,
    AccessOut,
    Bilingual,
    EvidenceOut,
    PersonOrderOut,
    PersonTokenOut,
    PersonTokenUseOut,
    StatusChangeOut,
    StatusOut,
)
from healthcode.web.auth import PERSON, Caller
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint

router = APIRouter(prefix="/api/v1/me", tags=["persons"])


def evidence_out(item: EvidenceView) -> EvidenceOut:
    return EvidenceOut(
        ref=item.ref,
        kind=item.kind,
        occurred_at=item.occurred_at,
        received_at=item.received_at,
        area=item.area.id,
        area_name=bilingual(item.area),
        source_id=item.source_id,
        authority_id=item.authority.id,
        authority_name=bilingual(item.authority),
        details=item.details,
        cited_by_orders=list(item.cited_by_orders),
        venue_name=maybe_bilingual(item.venue),
    )


def bilingual(named: Named) -> Bilingual:
    return Bilingual(zh=named.zh, en=named.en)


def maybe_bilingual(named: Named | None) -> Bilingual | None:
    return bilingual(named) if named is not None else None


def status_out(view: StatusView) -> StatusOut:
    status = view.status
    return StatusOut(
        person_key=view.person_key,
        colour=str(status.colour),
        rule_id=status.rule_id,
        reason=Bilingual(zh=status.reason.zh, en=status.reason.en),
        inputs=list(status.inputs),
        valid_until=status.valid_until,
        rulebook_version=status.rulebook_version,
        computed_at=status.at,
        evidence=[evidence_out(item) for item in view.evidence],
        designations=[designation_out(d, status.at) for d in view.designations],
        orders=[
            PersonOrderOut(
                id=o.id,
                kind=o.kind,
                status=o.status,
                valid_from=o.valid_from,
                valid_until=o.valid_until,
                ended_at=o.ended_at,
                official_id=o.official_id,
                authority_id=o.authority.id,
                authority_name=bilingual(o.authority),
                legal_basis=o.legal_basis.id,
                legal_basis_title=bilingual(o.legal_basis),
                evidence=list(o.evidence),
                cited_evidence=[evidence_out(item) for item in o.cited],
            )
            for o in view.orders
        ],
        history=[
            StatusChangeOut(
                effective_at=c.effective_at,
                recorded_at=c.recorded_at,
                colour=str(c.colour),
                rule_id=c.rule_id,
                previous_colour=str(c.previous_colour),
                previous_rule_id=c.previous_rule_id,
                valid_until=c.valid_until,
                rulebook_version=c.rulebook_version,
                cause=c.cause,
                log_index=c.log_index,
                receipt_url=f"/api/v1/me/receipts/{c.log_index}",
            )
            for c in view.history
        ],
    )


@router.get("/status", response_model=StatusOut, responses=ERRORS)
async def my_status(
    request: Request, response: Response, person: Annotated[Caller, Depends(PERSON)]
) -> StatusOut:
    services = request.app.state.services
    # ``async``, the store's work in one worker thread: a plain ``def`` route costs a second
    # hand-over to the thread pool, to check the answer against its model.
    view = await run_in_threadpool(
        services.explanations.explain, str(person.subject), now=services.clock.now()
    )
    carry_checkpoint(response, view.checkpoint)
    return status_out(view)


@router.get("/receipts/{log_index}", response_class=PlainTextResponse, responses=ERRORS | HALTED)
def my_receipt(
    request: Request, log_index: int, person: Annotated[Caller, Depends(PERSON)]
) -> PlainTextResponse:
    """A tlog-proof that one of my status changes is in the log: verifies offline."""
    services = request.app.state.services
    with services.db.read() as conn:
        mine = {c.log_index for c in status_repo.history(conn, str(person.subject))}
    if log_index not in mine:
        raise NotFound("log.not_found", "no status change of yours has that index")
    receipt = services.log.receipt(log_index)
    if receipt is None:
        raise NotFound("log.not_found", "not yet in a signed checkpoint; try again in a second")
    return PlainTextResponse(receipt)


@router.get("/accesses", response_model=list[AccessOut], responses=ERRORS)
def my_accesses(
    request: Request, response: Response, person: Annotated[Caller, Depends(PERSON)]
) -> list[AccessOut]:
    """Everyone who read my record: who, for which authority, when and why."""
    carry_checkpoint(response, latest_checkpoint(request.app.state.services))
    return [
        AccessOut(
            accessor_id=a.shown_id, accessor_role=a.accessor_role, authority_id=a.authority_id,
            purpose=a.purpose, purpose_name=Bilingual(zh=PURPOSES[a.purpose][0], en=PURPOSES[a.purpose][1]),
            at=a.at, log_index=a.log_index, accessor_name=maybe_bilingual(a.accessor_name),
            authority_name=maybe_bilingual(a.authority),
        )
        for a in request.app.state.services.access.of_person(str(person.subject))
    ]  # fmt: skip


# The kinds' names, as the person's page gives them (web/templates/labels.html).
TOKEN_KINDS = {
    "bearer": Bilingual(zh="持有者令牌（供应用使用）", en="bearer token (for an app)"),
    "login_link": Bilingual(zh="登录链接（仅可登录一次）", en="sign-in link (signs in once)"),
}


@router.get("/tokens", response_model=list[PersonTokenOut], responses=ERRORS)
def my_tokens(
    request: Request, response: Response, person: Annotated[Caller, Depends(PERSON)]
) -> list[PersonTokenOut]:
    """Every token the operator issued for me (bearer tokens, sign-in links), newest first:
    when, of which kind, until when, whether spent or revoked, its log entry, and how many
    acts were made with it, with the newest 20 (each with its act's entry and its own)."""
    services = request.app.state.services
    carry_checkpoint(response, latest_checkpoint(services))
    return [
        PersonTokenOut(
            kind=t.issued.kind, kind_name=TOKEN_KINDS[t.issued.kind],
            valid_from=t.issued.valid_from, valid_until=t.issued.valid_until,
            revoked_at=t.revoked_at, log_index=t.issued.log_index, use_count=t.use_count,
            uses=[PersonTokenUseOut(act=u.act, act_index=u.act_index, at=u.at, log_index=u.log_index)
                  for u in t.uses],
        )
        for t in services.person_tokens.of_person(str(person.subject))
    ]  # fmt: skip


class GuardianOut(BaseModel):
    # By name only: a guardian's person key is another person's pseudonym (as in AccessOut).
    name: str
    since: datetime
    log_index: int | None  # the `guardianship` entry; null for one recorded before it was logged


@router.get("/guardians", response_model=list[GuardianOut], responses=ERRORS)
def my_guardians(
    request: Request, response: Response, person: Annotated[Caller, Depends(PERSON)]
) -> list[GuardianOut]:
    """Who is recorded as my guardian (and so may read my record and appeal for me), since when."""
    services = request.app.state.services
    carry_checkpoint(response, latest_checkpoint(services))
    return [
        GuardianOut(name=g.name, since=g.since, log_index=g.log_index)
        for g in services.guardianships.guardians_of(str(person.subject))
    ]


class DependantOut(BaseModel):
    person_key: str
    name: str
    colour: str
    rule_id: str


@router.get("/dependants", response_model=list[DependantOut], responses=ERRORS)
def my_dependants(
    request: Request, response: Response, person: Annotated[Caller, Depends(PERSON)]
) -> list[DependantOut]:
    """The people I am guardian of (children, relatives without phones), with their codes."""
    services = request.app.state.services
    carry_checkpoint(response, latest_checkpoint(services))  # before each dependant's status
    found = []
    # Each dependant's code read is recorded and shown to them (invariant 7).
    for key, view in services.access.read_dependants(
        str(person.subject), now=services.clock.now(), operator_token=person.operator_token
    ):
        record = services.identity.lookup(key)
        found.append(DependantOut(person_key=key, name=record.display_name if record else "",
                                  colour=str(view.status.colour), rule_id=view.status.rule_id))  # fmt: skip
    return found


@router.get("/dependants/{person_key}/status", response_model=StatusOut, responses=ERRORS)
def dependant_status(
    request: Request,
    response: Response,
    person_key: str,
    person: Annotated[Caller, Depends(PERSON)],
) -> StatusOut:
    """A dependant's own status, from their own evidence only (A4)."""
    services = request.app.state.services
    view = services.access.read_dependant(  # recorded, and shown to them (invariant 7)
        str(person.subject), person_key, now=services.clock.now(),
        operator_token=person.operator_token,
    )  # fmt: skip
    carry_checkpoint(response, view.checkpoint)
    return status_out(view)
