"""Response bodies of the API, as pydantic models so /openapi.json describes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Closed(BaseModel):
    """A request body: unknown fields are refused (no mass assignment, no conditions)."""

    model_config = ConfigDict(extra="forbid")


class Bilingual(BaseModel):
    zh: str
    en: str


class ErrorBody(BaseModel):
    code: str
    message: Bilingual
    detail: str | None = None


class IntakeReceiptOut(BaseModel):
    source_id: str
    batch_id: str
    accepted: int
    already_present: int
    merkle_root: str
    status_changes: int


class RulebookOut(BaseModel):
    version: int
    published_at: datetime
    effective_from: datetime
    digest: str
    source: dict[str, Any]


class DesignationOut(BaseModel):
    id: str
    area: str
    venue_id: str | None
    level: str
    valid_from: datetime
    valid_to: datetime | None
    authority_id: str
    case_count: int
    basis: str
    recorded_at: datetime


class EvidenceOut(BaseModel):
    ref: str
    kind: str
    occurred_at: datetime
    received_at: datetime
    area: str
    area_name: Bilingual
    source_id: str
    authority_id: str
    authority_name: Bilingual
    details: dict[str, Any]


class StatusChangeOut(BaseModel):
    effective_at: datetime
    recorded_at: datetime
    colour: str
    rule_id: str
    previous_colour: str
    previous_rule_id: str
    valid_until: datetime | None
    rulebook_version: int
    cause: str
    log_index: int
    receipt_url: str


class PersonOrderOut(BaseModel):
    """An order as the person sees it: who issued it, for which authority, on what basis."""

    id: str
    kind: str
    status: str
    valid_from: datetime
    valid_until: datetime
    ended_at: datetime | None
    official_id: str
    authority_id: str
    authority_name: Bilingual
    legal_basis: str
    legal_basis_title: Bilingual
    evidence: list[str]


class StatusOut(BaseModel):
    person_key: str
    colour: str
    rule_id: str
    reason: Bilingual
    inputs: list[str]
    valid_until: datetime | None
    rulebook_version: int
    computed_at: datetime
    evidence: list[EvidenceOut]
    designations: list[DesignationOut]
    history: list[StatusChangeOut]
    orders: list[PersonOrderOut]


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 413, 422)
}


class OrderOut(BaseModel):
    id: str
    request_id: str
    kind: str
    legal_basis: str
    authority_id: str
    official_id: str
    person_key: str
    evidence: list[str]
    valid_from: datetime
    valid_until: datetime
    status: str
    recorded_at: datetime
    activated_at: datetime | None
    cosigned_by: str | None
    ended_at: datetime | None
    end_reason: str | None
    log_index: int


def order_out(order: Any) -> OrderOut:
    return OrderOut(
        **{name: getattr(order, name) for name in OrderOut.model_fields if name != "evidence"},
        evidence=list(order.evidence),
    )


class AccessOut(BaseModel):
    accessor_id: str
    accessor_role: str
    authority_id: str | None
    purpose: str
    purpose_name: Bilingual
    at: datetime
    log_index: int
