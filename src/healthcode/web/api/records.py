"""Staff reading a person's record: hotline (district), officials (jurisdiction), oversight
(everything). Each read needs a purpose from the closed list and is shown to the person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from healthcode.services.access import PURPOSES, UNCHOSEN_PURPOSES, Reader
from healthcode.web.api.person import status_out
from healthcode.web.api.schemas import ERRORS, StatusOut, closed_list
from healthcode.web.auth import Caller, access
from healthcode.web.checkpoints import carry_checkpoint

router = APIRouter(prefix="/api/v1/persons", tags=["hotline, officials, oversight"])
READER = access("hotline", "official", "supervisor", "auditor", scope="district")


@router.get("/{person_key}/status", response_model=StatusOut, responses=ERRORS)
def person_status(
    request: Request,
    response: Response,
    person_key: str,
    caller: Annotated[Caller, Depends(READER)],
    purpose: Annotated[
        str | None, Query(json_schema_extra=closed_list(set(PURPOSES) - UNCHOSEN_PURPOSES))
    ] = None,
) -> StatusOut:
    """The status exactly as the person sees it, with who is accountable and how to appeal."""
    services = request.app.state.services
    reader = Reader(
        str(caller.subject), caller.role, caller.authority_id, caller.jurisdiction,
        caller.operator_token,
    )  # fmt: skip
    view = services.access.read(reader, person_key, purpose, now=services.clock.now())
    carry_checkpoint(response, view.checkpoint)
    return status_out(view)
