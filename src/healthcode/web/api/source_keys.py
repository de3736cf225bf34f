"""A source's key changes: proposed by an official of its authority, co-signed by a different
supervisor of it, or withdrawn (docs/api.md, "Source keys"). Every body is closed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from healthcode.domain.evidence import RECORD_ID_PATTERN, EvidenceKind
from healthcode.domain.source_keys import KeyChange, State, b64
from healthcode.web.api.officials import OFFICIAL, SUPERVISOR, actor
from healthcode.web.api.schemas import ERRORS, Closed
from healthcode.web.auth import Caller
from healthcode.web.checkpoints import carry_checkpoint, latest_checkpoint

router = APIRouter(prefix="/api/v1", tags=["officials"])

# The base64 of 32 bytes: 43 characters and one "=" (services/registry.py decodes it).
PUBLIC_KEY_PATTERN = r"^[A-Za-z0-9+/]{43}=$"
SourceId = Annotated[str, Path(pattern=RECORD_ID_PATTERN)]
ChangeId = Annotated[str, Path(pattern=RECORD_ID_PATTERN)]


class KeyChangeIn(Closed):
    """``kinds``: what the source may submit once the change is in effect; left out, its own."""

    public_key: Annotated[str, Field(pattern=PUBLIC_KEY_PATTERN)]
    kinds: Annotated[list[EvidenceKind], Field(min_length=1, max_length=7)] | None = None


class KeyChangeOut(BaseModel):
    """``proposed_by`` is null when the operator proposed it (``healthcode admin propose-key``,
    or a registry load proposing a new source); ``decided_by``: the co-signing supervisor, or
    who withdrew it. A new source, which the co-signature registers, has no ``previous_key``
    and no ``previous_kinds``, and has the ``name`` and ``area`` it will be registered with
    (null for a key change)."""

    id: str
    source_id: str
    authority_id: str
    public_key: str
    kinds: list[str]
    previous_key: str | None
    previous_kinds: list[str]
    name: str | None
    area: str | None
    proposed_by: str | None
    proposed_at: datetime
    expires_at: datetime
    state: Literal["pending", "cosigned", "withdrawn", "expired"]
    decided_by: str | None
    decided_at: datetime | None


def key_change_out(change: KeyChange, now: datetime) -> KeyChangeOut:
    return KeyChangeOut(
        id=change.id, source_id=change.source_id, authority_id=change.authority_id,
        public_key=b64(change.public_key), kinds=sorted(change.kinds),
        previous_key=None if change.previous_key is None else b64(change.previous_key),
        previous_kinds=sorted(change.previous_kinds),
        name=None if change.new_source is None else change.new_source.name,
        area=None if change.new_source is None else change.new_source.area,
        proposed_by=change.proposed_by, proposed_at=change.proposed_at,
        expires_at=change.expires_at, state=change.state(now), decided_by=change.decided_by,
        decided_at=change.decided_at,
    )  # fmt: skip


@router.post("/sources/{source_id}/key-changes", response_model=KeyChangeOut, responses=ERRORS)
def propose_key_change(
    request: Request, source_id: SourceId, body: KeyChangeIn,
    caller: Annotated[Caller, Depends(OFFICIAL)],
) -> KeyChangeOut:  # fmt: skip
    """Propose a new key (and kinds) for a source of the caller's authority; it counts only
    once a different supervisor of the authority co-signs it, before it expires."""
    services = request.app.state.services
    now = services.clock.now()
    change = services.source_keys.propose(
        actor(caller), source_id, body.public_key,
        None if body.kinds is None else [str(kind) for kind in body.kinds], now=now,
    )  # fmt: skip
    return key_change_out(change, now)


@router.get("/key-changes", response_model=list[KeyChangeOut], responses=ERRORS)
def list_key_changes(
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(OFFICIAL)],
    state: State | None = None,
) -> list[KeyChangeOut]:
    """The key changes of the caller's authority's sources, newest first; ``state`` keeps those
    in that state now (``pending``: the co-sign queue)."""
    services = request.app.state.services
    carry_checkpoint(response, latest_checkpoint(services))
    now = services.clock.now()
    found = services.source_keys.of_authority(str(caller.authority_id), now=now, state=state)
    return [key_change_out(change, now) for change in found]


@router.post("/key-changes/{change_id}/cosign", response_model=KeyChangeOut, responses=ERRORS)
def cosign_key_change(
    request: Request, change_id: ChangeId, caller: Annotated[Caller, Depends(SUPERVISOR)]
) -> KeyChangeOut:
    """Put a pending key change in effect now: from now on only the new key signs (a new
    source is registered, with its key)."""
    services = request.app.state.services
    now = services.clock.now()
    return key_change_out(services.source_keys.cosign(actor(caller), change_id, now=now), now)


@router.post("/key-changes/{change_id}/withdraw", response_model=KeyChangeOut, responses=ERRORS)
def withdraw_key_change(
    request: Request, change_id: ChangeId, caller: Annotated[Caller, Depends(OFFICIAL)]
) -> KeyChangeOut:
    """Withdraw a pending key change: its proposer, or a supervisor of the authority."""
    services = request.app.state.services
    now = services.clock.now()
    return key_change_out(services.source_keys.withdraw(actor(caller), change_id, now=now), now)
