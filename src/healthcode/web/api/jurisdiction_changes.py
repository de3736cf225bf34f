"""An authority's proposed wider jurisdictions: proposed by a registry load, co-signed or
withdrawn by a supervisor of the authority (docs/api.md, "Source keys")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from healthcode.domain.evidence import RECORD_ID_PATTERN
from healthcode.domain.jurisdiction_changes import JurisdictionChange
from healthcode.domain.source_keys import State
from healthcode.web.api.officials import OFFICIAL, SUPERVISOR, actor
from healthcode.web.api.schemas import ERRORS
from healthcode.web.auth import Caller
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint

router = APIRouter(prefix="/api/v1", tags=["officials"])

ChangeId = Annotated[str, Path(pattern=RECORD_ID_PATTERN)]


class JurisdictionChangeOut(BaseModel):
    """``jurisdiction``: the authority's whole jurisdiction once co-signed; ``previous``: the
    one it replaces. A registry load proposed it (the operator); ``decided_by``: the
    co-signing supervisor, or who withdrew it (null: the operator)."""

    id: str
    authority_id: str
    jurisdiction: list[str]
    previous: list[str]
    proposed_at: datetime
    expires_at: datetime
    state: Literal["pending", "cosigned", "withdrawn", "expired"]
    decided_by: str | None
    decided_at: datetime | None


def jurisdiction_change_out(change: JurisdictionChange, now: datetime) -> JurisdictionChangeOut:
    return JurisdictionChangeOut(
        id=change.id, authority_id=change.authority_id,
        jurisdiction=sorted(change.jurisdiction), previous=sorted(change.previous),
        proposed_at=change.proposed_at, expires_at=change.expires_at, state=change.state(now),
        decided_by=change.decided_by, decided_at=change.decided_at,
    )  # fmt: skip


@router.get("/jurisdiction-changes", response_model=list[JurisdictionChangeOut], responses=ERRORS)
def list_jurisdiction_changes(
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(OFFICIAL)],
    state: State | None = None,
) -> list[JurisdictionChangeOut]:
    """The caller's authority's jurisdiction changes, newest first; ``state`` keeps those in
    that state now (``pending``: the co-sign queue)."""
    services = request.app.state.services
    carry_checkpoint(response, latest_checkpoint(services))
    now = services.clock.now()
    found = services.jurisdiction_changes.of_authority(
        str(caller.authority_id), now=now, state=state
    )
    return [jurisdiction_change_out(change, now) for change in found]


@router.post(
    "/jurisdiction-changes/{change_id}/cosign",
    response_model=JurisdictionChangeOut,
    responses=ERRORS,
)
def cosign_jurisdiction_change(
    request: Request, change_id: ChangeId, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> JurisdictionChangeOut:
    """Put a pending wider jurisdiction in effect now."""
    services = request.app.state.services
    now = services.clock.now()
    change = services.jurisdiction_changes.cosign(actor(caller), change_id, now=now)
    return jurisdiction_change_out(change, now)


@router.post(
    "/jurisdiction-changes/{change_id}/withdraw",
    response_model=JurisdictionChangeOut,
    responses=ERRORS,
)
def withdraw_jurisdiction_change(
    request: Request, change_id: ChangeId, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> JurisdictionChangeOut:
    """Withdraw a pending wider jurisdiction: it never takes effect."""
    services = request.app.state.services
    now = services.clock.now()
    change = services.jurisdiction_changes.withdraw(actor(caller), change_id, now=now)
    return jurisdiction_change_out(change, now)
