"""Evidence sources submit signed batches here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from healthcode.errors import InputRejected
from healthcode.web.api.schemas import ERRORS, IntakeReceiptOut
from healthcode.web.auth import SOURCE

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence sources"])

MAX_BODY_BYTES = 8 * 1024 * 1024


@router.post(
    "/batches", response_model=IntakeReceiptOut, responses=ERRORS, dependencies=[Depends(SOURCE)]
)
def submit_batch(
    request: Request,
    body: Annotated[dict[str, Any], Body(description="A signed evidence batch; see docs/api.md.")],
) -> IntakeReceiptOut:
    services = request.app.state.services
    if isinstance(body.get("source"), str):
        request.state.source_id = body["source"][:64]
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise InputRejected("request.too_large")
    receipt = services.intake.submit(body, now=services.clock.now())
    return IntakeReceiptOut(**receipt.__dict__)
