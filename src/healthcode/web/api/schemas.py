"""Response bodies of the API, as pydantic models so /openapi.json describes them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, model_validator

from healthcode.store.orders import StoredOrder

# A rulebook version is a 32-bit column on PostgreSQL: a larger one is refused as malformed
# before it reaches the store (SQLite and psycopg would fail on it with a server error).
Version = Annotated[int, Path(ge=0, le=2**31 - 1)]
# Log indexes and sizes are 64-bit columns.
LogIndex = Annotated[int, Path(ge=0, le=2**63 - 1)]


def closed_list(values: Iterable[str]) -> dict[str, Any]:
    """A closed list (reasons, purposes) for /openapi.json, so a client and the fuzzer know the
    accepted values; the service still checks it and refuses with its own code."""
    return {"enum": sorted(values)}


def has_nul(value: object) -> bool:
    """Whether a NUL character is anywhere in ``value`` (a text, or texts nested in lists and
    objects, names included): no id, name or note here holds one, and PostgreSQL cannot.
    A loop, not a recursion: a body nested as deep as the JSON parser goes must not make this
    check overflow the stack (a server error) before the schema refuses it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


class Closed(BaseModel):
    """A request body: unknown fields are refused (no mass assignment, no conditions), and so
    is a NUL in any text, on both stores alike (`request.malformed`)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if has_nul(data):
            raise ValueError("a NUL character")
        return data


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
    """A designation as designated (``valid_to`` as stated) and as it stands: ``status``
    (``scheduled``, ``in_force``, ``ended``; ``pending`` or ``withdrawn`` before a
    co-signature) and the end in effect, if one was recorded (``ended_at``, ``end_reason``)."""

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
    status: str
    ended_at: datetime | None
    end_reason: str | None


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
    # The orders behind the colour that cite this record (empty: the rule that fired cites it).
    cited_by_orders: list[str] = []
    venue_name: Bilingual | None = None  # a visit's venue


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
    cited_evidence: list[EvidenceOut] = []  # `evidence` with each record's kind, time, authority


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


# The server's faults are answered as every refusal is, an ErrorBody with its code: a store
# that lost part of its log (`errors.StoreFault`) answers 500, `log.tile_missing` to a read of
# it and `log.entries_missing` to a write, and every write appends to the log (invariant 5).
STORE_FAULT: dict[int | str, dict[str, Any]] = {
    500: {"model": ErrorBody, "description": "The store lacks part of the log (a server fault)"}
}
ERRORS: dict[int | str, dict[str, Any]] = {
    **{status: {"model": ErrorBody} for status in (401, 403, 404, 409, 413, 422)},
    **STORE_FAULT,
}
# A receipt or proof that only a checkpoint would give, once the log has halted (`log.halted`).
HALTED: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "The log has halted: it signs no more checkpoints"}
}

# A QR code, a card or a log tile as bytes, besides (or instead of) the JSON answer.
BINARY = {"schema": {"type": "string", "format": "binary"}}
PICTURES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": BINARY, "image/svg+xml": BINARY}}
}
PNG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/png": BINARY}}}


def text_or_image_body(field: str, json_schema: dict[str, Any], max_text: int) -> dict[str, Any]:
    """The documented body of a check that reads it by hand (``places.text_or_image``): the
    JSON object, or a form with the text or a picture of its QR code."""
    form = {
        "type": "object",
        "properties": {
            # The form's text is stripped: one that is only spaces is no text at all.
            field: {"type": "string", "minLength": 1, "maxLength": max_text, "pattern": r"\S"},
            "image": {"type": "string", "format": "binary", "description": "a photo of the QR code"},
        },
        "anyOf": [{"required": [field]}, {"required": ["image"]}],
        "additionalProperties": False,  # the form is read for at most four fields
    }  # fmt: skip
    content = {"application/json": {"schema": json_schema}, "multipart/form-data": {"schema": form}}
    return {"requestBody": {"required": True, "content": content}}


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


def order_out(order: StoredOrder, now: datetime) -> OrderOut:
    """The order as an official reads it; its ``status`` is what it is at ``now``."""
    return OrderOut(
        **{
            name: getattr(order, name)
            for name in OrderOut.model_fields
            if name not in ("evidence", "status")
        },
        status=order.state(now),
        evidence=list(order.evidence),
    )


class AccessOut(BaseModel):
    # Null for a guardian: their id is their person key, not the dependant's to hold.
    accessor_id: str | None
    accessor_role: str
    authority_id: str | None
    purpose: str
    purpose_name: Bilingual
    at: datetime
    log_index: int
    accessor_name: Bilingual | None = None  # a venue's or guardian's name (staff: their id)
    authority_name: Bilingual | None = None


class PersonTokenUseOut(BaseModel):
    """An act made with a token the operator issued (services/person_token_uses.py)."""

    act: str  # the act's entry kind: appeal_filed, appeal_escalated, evidence_batch, access
    act_index: int  # the act's own entry
    at: datetime
    log_index: int  # its person_token_use entry


class PersonTokenOut(BaseModel):
    """A token the operator issued for the caller (services/person_tokens.py)."""

    kind: str  # bearer | login_link
    kind_name: Bilingual
    valid_from: datetime  # when it was issued
    valid_until: datetime
    revoked_at: datetime | None  # a link spent, a token revoked
    log_index: int  # its person_token entry
    # The acts made with it (a link's: in its session): how many, and the newest 20.
    use_count: int = 0
    uses: list[PersonTokenUseOut] = []
