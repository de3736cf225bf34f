"""The entries of healthcode's transparency log: versioned, RFC 8785-canonical, no personal data.

Every write appends one entry. A person never appears in the clear: a status change names them
as ``HMAC(person secret, "entry:" + index)``, which only the person (shown their secret) and
oversight (holding the escrowed secrets) can link to them, and which differs in every entry.
The format is documented in docs/transparency-log.md.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from healthcode.domain.canonical import canonical
from healthcode.domain.designations import RiskDesignation

ENTRY_VERSION = 1


def instant_text(value: datetime | None) -> str | None:
    """An instant as every entry writes it: in UTC, ``Z``. The self-check rebuilds entries
    from stored rows, which hold UTC; a time typed with its zone (a console's +08:00) written
    as typed would no longer match its row, and halt the log at the next self-check."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def encode_entry(kind: str, data: dict[str, Any]) -> bytes:
    """The bytes of one entry: the leaf of the log's Merkle tree."""
    return canonical({"v": ENTRY_VERSION, "kind": kind, "data": data})


def person_tag(secret: bytes, index: int) -> str:
    """How a person appears in entry ``index``: unlinkable across entries without the secret."""
    return hmac.new(secret, f"entry:{index}".encode(), hashlib.sha256).hexdigest()


def inputs_commitment(secret: bytes, index: int, inputs: Sequence[str]) -> str:
    """A commitment to the inputs behind a decision, checkable by the person and oversight."""
    message = f"inputs:{index}:".encode() + canonical(list(inputs))
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def status_change_entry(
    *,
    index: int,
    secret: bytes,
    colour: str,
    rule_id: str,
    previous_colour: str,
    previous_rule_id: str,
    effective_at: datetime,
    recorded_at: datetime,
    valid_until: datetime | None,
    rulebook_version: int,
    cause: str,
    inputs: Sequence[str],
) -> bytes:
    return encode_entry(
        "status_change",
        {
            "person": person_tag(secret, index),
            "colour": colour,
            "rule": rule_id,
            "previous": {"colour": previous_colour, "rule": previous_rule_id},
            "effective_at": instant_text(effective_at),
            "recorded_at": instant_text(recorded_at),
            "valid_until": instant_text(valid_until),
            "rulebook": rulebook_version,
            "cause": cause,
            "inputs": inputs_commitment(secret, index, inputs),
        },
    )


def evidence_batch_entry(
    *, source_id: str, batch_id: str, records: int, merkle_root: bytes, received_at: datetime
) -> bytes:
    return encode_entry(
        "evidence_batch",
        {
            "source": source_id,
            "batch": batch_id,
            "records": records,
            "root": merkle_root.hex(),
            "received_at": instant_text(received_at),
        },
    )


def designation_entry(designation: RiskDesignation) -> bytes:
    return encode_entry(
        "designation",
        {
            "id": designation.id,
            "area": designation.area,
            "venue": designation.venue_id,
            "level": str(designation.level),
            "valid_from": instant_text(designation.valid_from),
            "valid_to": instant_text(designation.valid_to),
            "authority": designation.authority_id,
            "cases": designation.case_count,
            "basis": designation.basis,
            "recorded_at": instant_text(designation.recorded_at),
        },
    )


def designation_cosign_entry(
    *, index: int, supervisor_secret: bytes, designation_id: str, at: datetime
) -> bytes:
    """A supervisor's co-signature making a pending designation count."""
    return encode_entry(
        "designation_cosign",
        {
            "id": designation_id,
            "supervisor": actor_tag(supervisor_secret, index),
            "at": instant_text(at),
        },
    )


def designation_end_entry(
    *, index: int, official_secret: bytes, designation_id: str, authority_id: str,
    ended_at: datetime, reason: str, recorded_at: datetime,
) -> bytes:  # fmt: skip
    """A designation ended early by an official: cut short to ``ended_at``, withdrawn as made
    in error (it counts for no one from ``recorded_at``), or, pending, withdrawn."""
    return encode_entry(
        "designation_end",
        {
            "id": designation_id,
            "authority": authority_id,
            "official": actor_tag(official_secret, index),
            "ended_at": instant_text(ended_at),
            "reason": reason,
            "recorded_at": instant_text(recorded_at),
        },
    )


def rulebook_entry(
    *, version: int, digest: str, published_at: datetime, effective_from: datetime
) -> bytes:
    return encode_entry(
        "rulebook",
        {
            "version": version,
            "digest": digest,
            "published_at": instant_text(published_at),
            "effective_from": instant_text(effective_from),
        },
    )


def registry_entry(what: str, record: dict[str, Any], recorded_at: datetime) -> bytes:
    """A registration or change of an area, authority, source (with its key) or venue."""
    return encode_entry(
        "registry", {"what": what, "record": record, "recorded_at": instant_text(recorded_at)}
    )


def actor_tag(secret: bytes, index: int) -> str:
    """How an official appears in entry ``index``: pseudonymous, openable by oversight."""
    return hmac.new(secret, f"actor:{index}".encode(), hashlib.sha256).hexdigest()


def order_entry(
    *,
    index: int,
    person_secret: bytes,
    official_secret: bytes,
    order_id: str,
    request_id: str,
    kind: str,
    legal_basis: str,
    authority_id: str,
    evidence: Sequence[str],
    valid_from: datetime,
    valid_until: datetime,
    status: str,
    recorded_at: datetime,
    extends: str | None,
) -> bytes:
    return encode_entry(
        "order",
        {
            "order": order_id,
            "request": request_id,
            "kind": kind,
            "basis": legal_basis,
            "authority": authority_id,
            "official": actor_tag(official_secret, index),
            "person": person_tag(person_secret, index),
            "evidence": inputs_commitment(person_secret, index, evidence),
            "valid_from": instant_text(valid_from),
            "valid_until": instant_text(valid_until),
            "status": status,
            "extends": extends,
            "recorded_at": instant_text(recorded_at),
        },
    )


def order_cosign_entry(
    *, index: int, supervisor_secret: bytes, request_id: str, authority_id: str,
    orders: Sequence[str], at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "order_cosign",
        {
            "request": request_id,
            "authority": authority_id,
            "supervisor": actor_tag(supervisor_secret, index),
            "orders": sorted(orders),
            "at": instant_text(at),
        },
    )


def order_refusal_entry(
    *, index: int, supervisor_secret: bytes, request_id: str, authority_id: str, reason: str,
    orders: Sequence[str], at: datetime,
) -> bytes:  # fmt: skip
    """A supervisor's refusal of a pending request: the orders named end at ``at``, never
    having counted, by this one entry (not an ``order_end`` each)."""
    return encode_entry(
        "order_refusal",
        {
            "request": request_id,
            "authority": authority_id,
            "supervisor": actor_tag(supervisor_secret, index),
            "reason": reason,
            "orders": sorted(orders),
            "at": instant_text(at),
        },
    )


def order_end_entry(
    *, index: int, official_secret: bytes, order_id: str, authority_id: str,
    ended_at: datetime, reason: str, recorded_at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "order_end",
        {
            "order": order_id,
            "authority": authority_id,
            "official": actor_tag(official_secret, index),
            "ended_at": instant_text(ended_at),
            "reason": reason,
            "recorded_at": instant_text(recorded_at),
        },
    )


def access_entry(
    *, index: int, person_secret: bytes, accessor_secret: bytes, accessor_role: str,
    authority_id: str | None, purpose: str, at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "access",
        {
            "person": person_tag(person_secret, index),
            "accessor": actor_tag(accessor_secret, index),
            "role": accessor_role,
            "authority": authority_id,
            "purpose": purpose,
            "at": instant_text(at),
        },
    )


def rulebook_proposal_entry(
    *, index: int, official_secret: bytes, version: int, digest: str, authority_id: str,
    effective_from: datetime, proposed_at: datetime,
) -> bytes:  # fmt: skip
    return encode_entry(
        "rulebook_proposal",
        {
            "version": version,
            "digest": digest,
            "authority": authority_id,
            "official": actor_tag(official_secret, index),
            "effective_from": instant_text(effective_from),
            "proposed_at": instant_text(proposed_at),
        },
    )


def regional_checkpoint_entry(
    *, origin: str, size: int, root: bytes, key: str, note: str, previous_size: int,
    recorded_at: datetime,
) -> bytes:  # fmt: skip
    """A regional log's checkpoint, recorded by the national log once proven consistent with
    the one recorded before (of ``previous_size``, 0 for the first). The signed note is kept
    whole, with the key that verified it, so the entry alone proves what the region signed."""
    return encode_entry(
        "regional_checkpoint",
        {
            "origin": origin,
            "size": size,
            "root": root.hex(),
            "key": key,
            "note": note,
            "previous_size": previous_size,
            "recorded_at": instant_text(recorded_at),
        },
    )
