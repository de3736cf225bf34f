"""The checks a signed evidence batch passes before anything of it is written.

A batch is ``{"source", "batch_id", "records", "signature"}``; the signature is Ed25519 over
the RFC 8785 canonical encoding of the batch without its ``signature`` member. A batch is all
or nothing: the first failing check refuses the whole batch.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from healthcode.domain import areas
from healthcode.domain.canonical import canonical, canonical_each
from healthcode.domain.evidence import (
    Evidence,
    EvidenceFormatError,
    EvidenceKind,
    VenueVisit,
    parse_evidence,
    parse_evidence_all,
)
from healthcode.errors import InputRejected

_BATCH_FIELDS = frozenset({"source", "batch_id", "records", "signature"})
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


@dataclass(frozen=True)
class SourceRegistration:
    id: str
    authority_id: str
    public_key: bytes
    kinds: frozenset[EvidenceKind]
    area: str
    active: bool = True


@dataclass(frozen=True)
class BatchPolicy:
    max_records: int = 1000
    future_skew: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class CheckedBatch:
    source_id: str
    batch_id: str
    records: tuple[Evidence, ...]
    # The canonical bytes of each record as submitted: the leaves of the batch's Merkle tree.
    canonical_records: tuple[bytes, ...]
    submitted: tuple[dict[str, Any], ...]  # the records as submitted (validated)
    digest_input: bytes


def signing_input(batch: Mapping[str, Any]) -> bytes:
    """The bytes a source signs: the batch without its signature, RFC 8785-canonical."""
    unsigned = {key: value for key, value in batch.items() if key != "signature"}
    records = unsigned.get("records")
    if set(unsigned) == {"source", "batch_id", "records"} and isinstance(records, list):
        return _assembled(unsigned["source"], unsigned["batch_id"], [canonical(r) for r in records])
    return canonical(unsigned)


def _assembled(source: object, batch_id: object, records: list[bytes]) -> bytes:
    """The canonical batch from its records' canonical bytes: the same bytes as encoding the
    whole batch (its three keys already in RFC 8785 order), without encoding records twice."""
    return b"".join(
        (b'{"batch_id":', canonical(batch_id), b',"records":[', b",".join(records),
         b'],"source":', canonical(source), b"}")
    )  # fmt: skip


def sign_batch(batch: dict[str, Any], sign: Any) -> dict[str, Any]:
    """Return ``batch`` with its signature, made by ``sign(bytes) -> bytes`` (an Ed25519 key)."""
    signature = sign(signing_input(batch))
    return {**batch, "signature": base64.b64encode(signature).decode()}


def _shape(body: object, policy: BatchPolicy) -> tuple[str, str, list[Any], bytes]:
    if not isinstance(body, dict) or set(body) != _BATCH_FIELDS:
        raise InputRejected(
            "batch.malformed", f"a batch has exactly the fields {sorted(_BATCH_FIELDS)}"
        )
    source, batch_id, records, signature = (
        body["source"], body["batch_id"], body["records"], body["signature"]
    )  # fmt: skip
    if not isinstance(source, str) or not _ID.match(source):
        raise InputRejected("batch.malformed", "source: not an id")
    if not isinstance(batch_id, str) or not _ID.match(batch_id):
        raise InputRejected("batch.malformed", "batch_id: not an id")
    if not isinstance(records, list) or not records:
        raise InputRejected("batch.malformed", "records: a non-empty list is required")
    if len(records) > policy.max_records:
        raise InputRejected("batch.too_large", f"at most {policy.max_records} records per batch")
    if not isinstance(signature, str):
        raise InputRejected("batch.malformed", "signature: base64 text is required")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise InputRejected("batch.malformed", "signature: not base64") from None
    return source, batch_id, records, raw_signature


def check_batch(
    body: object,
    *,
    source: SourceRegistration | None,
    known_areas: frozenset[str] | set[str],
    venue_areas: Mapping[str, str],
    policy: BatchPolicy,
    at: datetime,
) -> CheckedBatch:
    """Check a submitted batch against its source's registration; raise InputRejected."""
    source_id, batch_id, records, signature = _shape(body, policy)
    if source is None or source.id != source_id:
        raise InputRejected("source.unknown", "the batch names an unregistered source")
    if not source.active:
        raise InputRejected("source.inactive")
    assert isinstance(body, dict)
    records_canonical = canonical_each(records)
    signed = _assembled(source_id, batch_id, records_canonical)
    try:
        Ed25519PublicKey.from_public_bytes(source.public_key).verify(signature, signed)
    except (InvalidSignature, ValueError):
        raise InputRejected("batch.signature_invalid") from None

    # A batch that passes is checked whole, at once; one that does not is checked again
    # record by record, so that the refusal names its first failing record and check.
    parsed = _checked_at_once(records, source, known_areas, venue_areas, policy, at)
    if parsed is None:
        parsed = _checked_in_turn(records, source, known_areas, venue_areas, policy, at)
    return CheckedBatch(
        source_id=source_id,
        batch_id=batch_id,
        records=tuple(parsed),
        canonical_records=tuple(records_canonical),
        submitted=tuple(records),
        digest_input=signed,
    )


def _checked_in_turn(
    records: list[Any],
    source: SourceRegistration,
    known_areas: frozenset[str] | set[str],
    venue_areas: Mapping[str, str],
    policy: BatchPolicy,
    at: datetime,
) -> list[Evidence]:
    """Each record parsed and checked in turn; raises InputRejected at the first that fails."""
    parsed: list[Evidence] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        try:
            item = parse_evidence(record, source_id=source.id, received_at=at)
        except EvidenceFormatError as exc:
            raise InputRejected("batch.malformed", f"records[{index}].{exc}") from None
        if item.record_id in seen:
            raise InputRejected("batch.malformed", f"records[{index}]: record_id repeated")
        seen.add(item.record_id)
        _check_record(index, item, source, known_areas, venue_areas, policy, at)
        parsed.append(item)
    return parsed


_KIND, _AREA, _RECORD_ID, _OCCURRED_AT = (
    attrgetter(name) for name in ("kind", "area", "record_id", "occurred_at")
)


def _checked_at_once(
    records: list[Any],
    source: SourceRegistration,
    known_areas: frozenset[str] | set[str],
    venue_areas: Mapping[str, str],
    policy: BatchPolicy,
    at: datetime,
) -> list[Evidence] | None:
    """The records parsed, if every one passes every check of `_checked_in_turn` (each check
    made once over the batch: on its distinct kinds, its distinct areas, its latest time);
    ``None`` if any fails."""
    parsed = parse_evidence_all(records, source_id=source.id, received_at=at)
    if parsed is None or len(set(map(_RECORD_ID, parsed))) != len(parsed):
        return None
    if not source.kinds.issuperset(map(_KIND, parsed)):
        return None
    for area in set(map(_AREA, parsed)):
        if area not in known_areas or not areas.contains(source.area, area):
            return None
    if max(map(_OCCURRED_AT, parsed)) > at + policy.future_skew:
        return None
    for item in parsed:
        if isinstance(item, VenueVisit) and venue_areas.get(item.venue_id) != item.area:
            return None
    return parsed


def _check_record(
    index: int,
    item: Evidence,
    source: SourceRegistration,
    known_areas: frozenset[str] | set[str],
    venue_areas: Mapping[str, str],
    policy: BatchPolicy,
    at: datetime,
) -> None:
    where = f"records[{index}]"
    if item.kind not in source.kinds:
        raise InputRejected("evidence.kind_not_allowed", f"{where}: {item.kind}")
    if item.area not in known_areas:
        raise InputRejected("evidence.area_unknown", f"{where}: area")
    if not areas.contains(source.area, item.area):
        raise InputRejected("evidence.area_outside_source", f"{where}: area")
    if item.occurred_at > at + policy.future_skew:
        raise InputRejected("evidence.time_in_future", f"{where}: occurred_at")
    if isinstance(item, VenueVisit):
        venue_area = venue_areas.get(item.venue_id)
        if venue_area is None:
            raise InputRejected("evidence.venue_unknown", f"{where}: venue_id")
        if venue_area != item.area:
            raise InputRejected("batch.malformed", f"{where}: area is not the venue's area")
