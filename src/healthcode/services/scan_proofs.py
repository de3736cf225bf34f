"""A person's proof that their scan is in the log: its leaf in the batch root, the batch's
log entry and that entry's tlog-proof receipt (once the batch is sealed and in a checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass

from healthcode.errors import InputRejected, NotFound
from healthcode.services.log_reader import LogReader
from healthcode.store import evidence as evidence_repo
from healthcode.store import log_bundles
from healthcode.store import places as repo
from healthcode.store.database import Database
from healthcode.tlog import inclusion_proof, leaf_hashes, merkle_root


@dataclass(frozen=True)
class ScanProof:
    """A scan record's inclusion in its batch root, the batch's log entry and its receipt."""

    source_id: str
    record_id: str
    batch_id: str
    record: bytes  # the canonical record: leaf_hash(record) is the leaf
    leaf_index: int
    batch_size: int
    inclusion: list[bytes]  # RFC 9162 inclusion proof of the leaf in the batch root
    batch_root: bytes
    log_index: int
    entry: bytes  # the evidence_batch log entry holding batch_root
    receipt: str  # tlog-proof of the entry under the latest checkpoint


def scan_proof(db: Database, log: LogReader, person_key: str, record_id: str) -> ScanProof:
    """The proof that one of the person's scans is in the log (once its batch is sealed
    and the batch entry is in a signed checkpoint)."""
    with db.read() as conn:
        found = repo.scan_record(conn, person_key, record_id)
        if found is None:
            raise NotFound("scan.not_found")
        if found.sealed_at is None:
            raise InputRejected("scan.not_sealed", "the batch is still open")
        batch = evidence_repo.batch(conn, found.source_id, found.batch_id)
        leaves = repo.batch_leaves(conn, found.source_id, found.batch_id)
        if batch is None:  # pragma: no cover - sealed batches always have their row
            raise InputRejected("scan.not_sealed")
        log_index = int(batch.log_index)
        entry = log_bundles.entries(conn, log_index, log_index + 1)[0]
    hashes = leaf_hashes([bytes(row.canonical) for row in leaves])

    def node(level: int, index: int) -> bytes:
        return merkle_root(hashes[index << level : (index + 1) << level])

    receipt = log.receipt(log_index)
    if receipt is None:
        raise InputRejected("scan.not_sealed", "the batch entry is not in a checkpoint yet")
    return ScanProof(
        source_id=found.source_id,
        record_id=record_id,
        batch_id=found.batch_id,
        record=bytes(found.canonical),
        leaf_index=int(found.position),
        batch_size=len(hashes),
        inclusion=inclusion_proof(int(found.position), len(hashes), node),
        batch_root=bytes(batch.merkle_root),
        log_index=log_index,
        entry=entry,
        receipt=receipt,
    )
