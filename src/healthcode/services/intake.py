"""Evidence intake: signed batches from registered sources, all or nothing, idempotent.

A batch is checked whole before anything is written (``domain.batches``); its records, the
batch row with the Merkle root of its records and the status changes they cause commit in one
transaction. Resubmitting a batch or a record changes nothing; resubmitting an id with other
content is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from healthcode.domain.batches import BatchPolicy, check_batch
from healthcode.domain.dcc import DCC_AUTHORITY
from healthcode.domain.evidence import Evidence
from healthcode.domain.log_entries import evidence_batch_entry
from healthcode.errors import InputRejected
from healthcode.services import crashpoints, transparency
from healthcode.services.derivation import Cause, Derivation
from healthcode.store import evidence as evidence_repo
from healthcode.store import registry as registry_repo
from healthcode.store.database import Database
from healthcode.tlog.hashing import leaf_hash, merkle_root


@dataclass(frozen=True)
class IntakeReceipt:
    source_id: str
    batch_id: str
    accepted: int
    already_present: int
    merkle_root: str
    status_changes: int


class Intake:
    def __init__(self, db: Database, derivation: Derivation, policy: BatchPolicy) -> None:
        self._db = db
        self._derivation = derivation
        self._policy = policy

    def submit(self, body: object, *, now: datetime) -> IntakeReceipt:
        with self._db.write() as conn:
            source_id = body.get("source") if isinstance(body, dict) else None
            source = registry_repo.source(conn, source_id) if isinstance(source_id, str) else None
            if source is not None and source.authority_id == DCC_AUTHORITY:
                source = None  # a DCC issuer's evidence comes only through the DCC path
            checked = check_batch(
                body,
                source=source,
                known_areas=registry_repo.area_codes(conn),
                venue_areas=registry_repo.venue_areas(conn),
                policy=self._policy,
                at=now,
            )
            receipt = commit_records(
                conn,
                self._derivation,
                source_id=checked.source_id,
                batch_id=checked.batch_id,
                signed_digest=hashlib.sha256(checked.digest_input).digest(),
                records=list(
                    zip(checked.records, checked.canonical_records, checked.submitted, strict=True)
                ),
                now=now,
            )
            crashpoints.reach("intake.before_commit")
        crashpoints.reach("intake.after_commit")
        return receipt


def commit_records(
    conn: Connection,
    derivation: Derivation,
    *,
    source_id: str,
    batch_id: str,
    signed_digest: bytes,
    records: Sequence[tuple[Evidence, bytes, dict[str, Any]]],
    now: datetime,
) -> IntakeReceipt:
    """Write checked records as one batch inside the caller's write transaction: the batch row
    with the Merkle root of the records it stores, their rows, its ``evidence_batch`` log entry
    and the status changes they cause. Records already stored are skipped; a batch or record id
    already used with other content is refused (``batch.conflict``)."""
    previous = evidence_repo.batch(conn, source_id, batch_id)
    if previous is not None:
        if bytes(previous.signed_digest) != signed_digest:
            raise InputRejected("batch.conflict", "batch_id already used")
        return IntakeReceipt(
            source_id, batch_id, 0, len(records), bytes(previous.merkle_root).hex(), 0
        )
    # Looking every record up before writing cost more than the write; records sent twice are
    # rare. So the batch is written under a savepoint as if every record were new, and only if
    # the primary key refuses one are the stored ones looked up and the rest written again.
    try:
        with conn.begin_nested():
            root = _write(conn, source_id, batch_id, signed_digest, records, now)
        fresh = records
    except evidence_repo.DuplicateRecord:
        stored = evidence_repo.existing_records(
            conn, source_id, [item.record_id for item, _, _ in records]
        )
        fresh = []
        for item, canonical, submitted in records:
            if item.record_id not in stored:
                fresh.append((item, canonical, submitted))
            elif stored[item.record_id] != canonical:
                raise InputRejected("batch.conflict", "record_id already used") from None
        if not fresh:
            empty = merkle_root([])
            return IntakeReceipt(source_id, batch_id, 0, len(records), empty.hex(), 0)
        root = _write(conn, source_id, batch_id, signed_digest, fresh, now)
    changes = derivation.recompute(
        conn,
        {item.person for item, _, _ in fresh},
        now=now,
        cause=Cause.INPUT,
        new_evidence=[item for item, _, _ in fresh],
    )
    return IntakeReceipt(
        source_id=source_id,
        batch_id=batch_id,
        accepted=len(fresh),
        already_present=len(records) - len(fresh),
        merkle_root=root.hex(),
        status_changes=len(changes),
    )


def _write(
    conn: Connection,
    source_id: str,
    batch_id: str,
    signed_digest: bytes,
    fresh: Sequence[tuple[Evidence, bytes, dict[str, Any]]],
    now: datetime,
) -> bytes:
    """The batch row, its records' rows and its ``evidence_batch`` log entry; the batch's
    Merkle root. The tree covers exactly the records the batch stores, in order, so every
    stored record is covered by exactly one log entry."""
    root = merkle_root([leaf_hash(canonical) for _, canonical, _ in fresh])
    index = transparency.append_one(
        conn,
        "evidence_batch",
        evidence_batch_entry(
            source_id=source_id,
            batch_id=batch_id,
            records=len(fresh),
            merkle_root=root,
            received_at=now,
        ),
        now,
    )
    evidence_repo.insert_batch(
        conn,
        source_id=source_id,
        batch_id=batch_id,
        received_at=now,
        signed_digest=signed_digest,
        merkle_root=root,
        log_index=index,
        rows=[
            evidence_repo.evidence_row(item, batch_id, canonical, position, submitted)
            for position, (item, canonical, submitted) in enumerate(fresh)
        ],
    )
    return root
