"""A person reads their own status, its explanation and its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse

from healthcode.errors import NotFound
from healthcode.services.explain import StatusView
from healthcode.services.tokens import Claims
from healthcode.store import status as status_repo
from healthcode.web.api.public import designation_out
from healthcode.web.api.schemas import (
    ERRORS,
    Bilingual,
    EvidenceOut,
    StatusChangeOut,
    StatusOut,
)
from healthcode.web.auth import current_person
from healthcode.web.checkpoints import carry_checkpoint

router = APIRouter(prefix="/api/v1/me", tags=["persons"])


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
        evidence=[
            EvidenceOut(
                ref=item.ref,
                kind=item.kind,
                occurred_at=item.occurred_at,
                received_at=item.received_at,
                area=item.area.id,
                area_name=Bilingual(zh=item.area.zh, en=item.area.en),
                source_id=item.source_id,
                authority_id=item.authority.id,
                authority_name=Bilingual(zh=item.authority.zh, en=item.authority.en),
                details=item.details,
            )
            for item in view.evidence
        ],
        designations=[designation_out(d) for d in view.designations],
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
def my_status(
    request: Request, response: Response, person: Annotated[Claims, Depends(current_person)]
) -> StatusOut:
    services = request.app.state.services
    view = services.explanations.explain(person.subject, now=services.clock.now())
    carry_checkpoint(response, view.checkpoint)
    return status_out(view)


@router.get("/receipts/{log_index}", response_class=PlainTextResponse, responses=ERRORS)
def my_receipt(
    request: Request, log_index: int, person: Annotated[Claims, Depends(current_person)]
) -> PlainTextResponse:
    """A tlog-proof that one of my status changes is in the log: verifies offline."""
    services = request.app.state.services
    with services.db.read() as conn:
        mine = {c.log_index for c in status_repo.history(conn, person.subject)}
    if log_index not in mine:
        raise NotFound("log.not_found", "no status change of yours has that index")
    receipt = services.log.receipt(log_index)
    if receipt is None:
        raise NotFound("log.not_found", "not yet in a signed checkpoint; try again in a second")
    return PlainTextResponse(receipt)
