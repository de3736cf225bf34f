"""Evidence intake: signed batches from registered sources, all or nothing, idempotent.

A batch is checked whole before anything is written (``domain.batches``); its records, the
batch row with the Merkle root of its records and the status changes they cause commit in one
transaction. Resubmitting a batch or a record changes nothing; resubmitting an id with other
content is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from healthcode.domain.batches import BatchPolicy, check_batch
from healthcode.errors import InputRejected
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
            checked = check_batch(
                body,
                source=source,
                known_areas=registry_repo.area_codes(conn),
                venue_areas=registry_repo.venue_areas(conn),
                policy=self._policy,
                at=now,
            )
            signed_digest = hashlib.sha256(checked.digest_input).digest()
            root = merkle_root([leaf_hash(record) for record in checked.canonical_records])
            previous = evidence_repo.batch(conn, checked.source_id, checked.batch_id)
            if previous is not None:
                if bytes(previous.signed_digest) != signed_digest:
                    raise InputRejected("batch.conflict", "batch_id already used")
                return IntakeReceipt(
                    checked.source_id, checked.batch_id, 0, len(checked.records), root.hex(), 0
                )
            stored = evidence_repo.existing_records(
                conn, checked.source_id, [item.record_id for item in checked.records]
            )
            rows = []
            for item, canonical in zip(checked.records, checked.canonical_records, strict=True):
                if item.record_id in stored:
                    if stored[item.record_id] != canonical:
                        raise InputRejected("batch.conflict", "record_id already used")
                    continue
                rows.append(evidence_repo.evidence_row(item, checked.batch_id, canonical))
            evidence_repo.insert_batch(
                conn,
                source_id=checked.source_id,
                batch_id=checked.batch_id,
                received_at=now,
                signed_digest=signed_digest,
                merkle_root=root,
                rows=rows,
            )
            fresh = {row["record_id"] for row in rows}
            changes = self._derivation.recompute(
                conn,
                {row["person_key"] for row in rows},
                now=now,
                cause=Cause.INPUT,
                new_evidence=[item for item in checked.records if item.record_id in fresh],
            )
            return IntakeReceipt(
                source_id=checked.source_id,
                batch_id=checked.batch_id,
                accepted=len(rows),
                already_present=len(checked.records) - len(rows),
                merkle_root=root.hex(),
                status_changes=len(changes),
            )
