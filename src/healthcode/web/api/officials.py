"""Acts of health officials and supervisors: orders, co-signatures, designations, rulebook
editions, source revocations. Every body is closed (unknown fields are refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, Strict

from healthcode.domain.designations import END_REASONS as DESIGNATION_END_REASONS
from healthcode.domain.designations import RiskLevel
from healthcode.domain.evidence import AREA_CODE_PATTERN, RECORD_ID_PATTERN
from healthcode.domain.json_values import WHOLE, JsonInstant
from healthcode.domain.orders import REFUSAL_REASONS, OrderKind
from healthcode.domain.people import PERSON_KEY_PATTERN
from healthcode.errors import Unauthorized
from healthcode.services import policy
from healthcode.services.designations import DesignationRequest
from healthcode.services.orders import END_REASONS, Actor, OrderRequest, PersonEvidence
from healthcode.services.sources import REASONS as SOURCE_REVOKE_REASONS
from healthcode.store.orders import StoredOrder
from healthcode.web.api.idempotency import IdempotencyKey
from healthcode.web.api.public import designation_out
from healthcode.web.api.schemas import (
    ERRORS,
    Closed,
    DesignationOut,
    OrderOut,
    Version,
    closed_list,
    order_out,
)
from healthcode.web.auth import Caller, access
from healthcode.web.bodies import larger_body
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint

router = APIRouter(prefix="/api/v1", tags=["officials"])
# The closed list of legal bases (data/legal_bases.yaml), in the document as the service has it.
LEGAL_BASES = sorted(policy.legal_bases())
OFFICIAL = access("official", "supervisor", scope="jurisdiction")
SUPERVISOR = access("supervisor", scope="jurisdiction")


def actor(caller: Caller) -> Actor:
    if caller.subject is None or caller.authority_id is None:
        raise Unauthorized("auth.forbidden")
    return Actor(
        caller.subject, caller.role, caller.authority_id, caller.jurisdiction,
        caller.operator_token,
    )  # fmt: skip


class PersonEvidenceIn(Closed):
    person: Annotated[str, Field(pattern=PERSON_KEY_PATTERN)]
    evidence: Annotated[list[Annotated[str, Field(max_length=130)]], Field(max_length=50)]


class OrderIn(Closed):
    kind: OrderKind
    legal_basis: Annotated[str, Field(max_length=64, json_schema_extra=closed_list(LEGAL_BASES))]
    persons: Annotated[list[PersonEvidenceIn], Field(min_length=1, max_length=5000)]
    valid_until: JsonInstant
    valid_from: JsonInstant | None = None
    extends: Annotated[str, Field(pattern=RECORD_ID_PATTERN)] | None = None


class IssuedOut(BaseModel):
    request_id: str
    pending: bool
    orders: list[OrderOut]


class RefuseIn(Closed):
    reason: Annotated[str, Field(max_length=32, json_schema_extra=closed_list(REFUSAL_REASONS))]


class RefusedOut(BaseModel):
    """A refused request: every order of it, those it withdrew ``ended`` with ``reason`` as
    their ``end_reason``; ``log_index`` is the refusal's ``order_refusal`` entry."""

    request_id: str
    reason: str
    refused_by: str
    refused_at: datetime
    log_index: int
    orders: list[OrderOut]


class EndIn(Closed):
    reason: Annotated[str, Field(max_length=32, json_schema_extra=closed_list(END_REASONS))]
    ends_at: JsonInstant | None = None


class DesignationIn(Closed):
    id: Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
    area: Annotated[str, Field(pattern=AREA_CODE_PATTERN)]
    level: RiskLevel
    valid_from: JsonInstant
    valid_to: JsonInstant | None = None
    # Published as sent: a JSON integer, never text or a flag (domain/json_values.py).
    case_count: Annotated[int, Strict(), Field(ge=0, le=10_000_000), WHOLE]
    basis: Annotated[str, Field(min_length=1, max_length=400)]
    venue_id: Annotated[str, Field(pattern=RECORD_ID_PATTERN)] | None = None


class ChangesOut(BaseModel):
    status_changes: int


class DesignatedOut(ChangesOut):
    """``pending``: it waits for a supervisor's co-signature and counts for no one until then."""

    designation_id: str
    pending: bool


class DesignationEndIn(Closed):
    """``issued_in_error``: it should never have been, and counts for no one from now on; the
    other reasons cut its period (to now, or to ``ends_at``), a visit during it still counting."""

    reason: Annotated[
        str, Field(max_length=32, json_schema_extra=closed_list(DESIGNATION_END_REASONS))
    ]
    ends_at: JsonInstant | None = None


class EndedDesignationOut(DesignationOut):
    status_changes: int


class ProposalIn(Closed):
    source: dict[str, object]
    effective_from: JsonInstant | None = None


class ProposalOut(BaseModel):
    version: int
    digest: str
    proposed_by: str
    proposed_at: datetime
    effective_from: datetime
    status: str


class RevokeIn(Closed):
    reason: Annotated[
        str, Field(max_length=32, json_schema_extra=closed_list(SOURCE_REVOKE_REASONS))
    ]


def _issued(orders: list[StoredOrder], request_id: str, pending: bool, now: datetime) -> IssuedOut:
    return IssuedOut(
        request_id=request_id, pending=pending, orders=[order_out(o, now) for o in orders]
    )


# The largest body the order schema admits (5,000 persons, 50 references of 130 characters
# each: about 33 MB) is not refused for its size.
ORDERS_BODY = 36 * 1024 * 1024


@router.post(
    "/orders", response_model=IssuedOut, responses=ERRORS, openapi_extra=larger_body(ORDERS_BODY)
)
def issue_orders(
    request: Request, body: OrderIn, caller: Annotated[Caller, Depends(OFFICIAL)],
    idempotency_key: IdempotencyKey = None,
) -> IssuedOut:  # fmt: skip
    """Issue one order per person, each citing that person's own evidence (retried safely
    with an ``Idempotency-Key``)."""
    services = request.app.state.services
    now = services.clock.now()
    issued = services.orders.issue(
        actor(caller),
        OrderRequest(
            kind=body.kind,
            legal_basis=body.legal_basis,
            persons=tuple(PersonEvidence(p.person, tuple(p.evidence)) for p in body.persons),
            valid_until=body.valid_until,
            valid_from=body.valid_from,
            extends=body.extends,
        ),
        now=now,
        idempotency_key=idempotency_key,
    )
    return _issued(issued.orders, issued.request_id, issued.pending, now)


@router.get("/orders", response_model=list[OrderOut], responses=ERRORS)
def list_orders(
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(OFFICIAL)],
    status: Literal["pending", "active", "ended"] | None = None,
) -> list[OrderOut]:
    """Orders of the caller's authority, newest first; ``status`` keeps those in that state
    now (``pending``: the co-sign queue; ``active``: in force, or to be until their end)."""
    services = request.app.state.services
    carry_checkpoint(response, latest_checkpoint(services))
    now = services.clock.now()
    return [order_out(o, now) for o in services.orders.of_authority(actor(caller), now, status)]


@router.post("/orders/requests/{request_id}/cosign", response_model=IssuedOut, responses=ERRORS)
def cosign_orders(
    request: Request, request_id: str, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> IssuedOut:
    services = request.app.state.services
    now = services.clock.now()
    orders = services.orders.cosign(actor(caller), request_id, now=now)
    return _issued(orders, request_id, False, now)


@router.post("/orders/requests/{request_id}/refuse", response_model=RefusedOut, responses=ERRORS)
def refuse_orders(
    request: Request, request_id: str, body: RefuseIn,
    caller: Annotated[Caller, Depends(SUPERVISOR)],
) -> RefusedOut:  # fmt: skip
    """Refuse a pending bulk request with a reason from the closed list: its orders still
    pending are withdrawn, all in one act; nobody's colour changes (they never counted)."""
    services = request.app.state.services
    now = services.clock.now()
    refused = services.order_refusals.refuse(actor(caller), request_id, reason=body.reason, now=now)
    return RefusedOut(
        request_id=refused.request_id, reason=refused.reason, refused_by=refused.refused_by,
        refused_at=refused.refused_at, log_index=refused.log_index,
        orders=[order_out(o, now) for o in refused.orders],
    )  # fmt: skip


@router.post("/orders/{order_id}/end", response_model=OrderOut, responses=ERRORS)
def end_order(
    request: Request, order_id: str, body: EndIn, caller: Annotated[Caller, Depends(OFFICIAL)]
) -> OrderOut:
    """Lift an order now, or shorten it to ``ends_at``, with a reason from the closed list."""
    services = request.app.state.services
    now = services.clock.now()
    ended = services.orders.end(
        actor(caller), order_id, reason=body.reason, ends_at=body.ends_at, now=now
    )
    return order_out(ended, now)


@router.post("/designations", response_model=DesignatedOut, responses=ERRORS)
def designate(
    request: Request, body: DesignationIn, caller: Annotated[Caller, Depends(OFFICIAL)]
) -> DesignatedOut:
    """Designate an area (or one venue) of the caller's jurisdiction as low, medium or high risk."""
    services = request.app.state.services
    done = services.designations.designate_as(
        actor(caller),
        DesignationRequest(
            id=body.id, area=body.area, level=body.level, valid_from=body.valid_from, valid_to=body.valid_to,
            authority_id=str(caller.authority_id), case_count=body.case_count, basis=body.basis, venue_id=body.venue_id,
        ),
        now=services.clock.now(),
    )  # fmt: skip
    return DesignatedOut(
        designation_id=done.id, pending=done.pending, status_changes=done.status_changes
    )


@router.post(
    "/designations/{designation_id}/cosign", response_model=DesignatedOut, responses=ERRORS
)
def cosign_designation(
    request: Request, designation_id: str, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> DesignatedOut:
    services = request.app.state.services
    done = services.designations.cosign(actor(caller), designation_id, now=services.clock.now())
    return DesignatedOut(
        designation_id=done.id, pending=done.pending, status_changes=done.status_changes
    )


@router.post(
    "/designations/{designation_id}/end", response_model=EndedDesignationOut, responses=ERRORS
)
def end_designation(
    request: Request, designation_id: str, body: DesignationEndIn,
    caller: Annotated[Caller, Depends(OFFICIAL)],
) -> EndedDesignationOut:  # fmt: skip
    """End a designation of the caller's jurisdiction early, with a reason from the closed
    list: now, or cut to ``ends_at``; as made in error, from now on; a pending one is withdrawn."""
    services = request.app.state.services
    now = services.clock.now()
    ended = services.designations.end(
        actor(caller), designation_id, reason=body.reason, ends_at=body.ends_at, now=now
    )
    shown = designation_out(ended.designation, now, "withdrawn" if ended.withdrawn else None)
    return EndedDesignationOut(**shown.model_dump(), status_changes=ended.status_changes)


@router.post("/rulebooks/proposals", response_model=ProposalOut, responses=ERRORS)
def propose_rulebook(
    request: Request, body: ProposalIn, caller: Annotated[Caller, Depends(OFFICIAL)]
) -> ProposalOut:
    """Propose a rulebook edition; it is published only when another supervisor co-signs."""
    services = request.app.state.services
    proposal = services.proposals.propose(
        actor(caller), body.source, effective_from=body.effective_from, now=services.clock.now()
    )
    return ProposalOut(**{k: getattr(proposal, k) for k in ProposalOut.model_fields})


@router.get("/rulebooks/proposals", response_model=list[ProposalOut], responses=ERRORS)
def pending_proposals(
    request: Request, response: Response, caller: Annotated[Caller, Depends(OFFICIAL)]
) -> list[ProposalOut]:
    services = request.app.state.services
    carry_checkpoint(response, latest_checkpoint(services))
    found = services.proposals.pending(str(caller.authority_id))
    return [ProposalOut(**{k: getattr(p, k) for k in ProposalOut.model_fields}) for p in found]


@router.post("/rulebooks/proposals/{version}/cosign", response_model=ProposalOut, responses=ERRORS)
def cosign_rulebook(
    request: Request, version: Version, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> ProposalOut:
    services = request.app.state.services
    services.proposals.cosign(actor(caller), version, now=services.clock.now())
    # The proposal as it now stands: who proposed it and when, not the co-signer and the hour.
    published = services.proposals.find(version)
    assert published is not None  # co-signed just now: its row is there
    return ProposalOut(**{k: getattr(published, k) for k in ProposalOut.model_fields})


@router.post("/sources/{source_id}/revoke", response_model=ChangesOut, responses=ERRORS)
def revoke_source(
    request: Request, source_id: str, body: RevokeIn, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> ChangesOut:
    """Revoke a source from now on: its evidence is set aside and everyone it touched recomputed."""
    services = request.app.state.services
    changes = services.sources.revoke(
        actor(caller), source_id, reason=body.reason, now=services.clock.now()
    )
    return ChangesOut(status_changes=changes)
