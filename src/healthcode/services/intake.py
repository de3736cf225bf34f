"""Evidence intake: signed batches from registered sources, all or nothing, idempotent.

A batch is checked whole before anything is written (``domain.batches``); its records, the
batch row with the Merkle root of its records and the status changes they cause commit in one
transaction. Resubmitting a batch or a record changes nothing; resubmitting an id with other
content is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection

from healthcode.domain.batches import BatchPolicy, check_batch
from healthcode.domain.dcc import DCC_AUTHORITY
from healthcode.domain.evidence import Evidence
from healthcode.domain.log_entries import evidence_batch_entry
from healthcode.errors import InputRejected
from healthcode.services import crashpoints, transparency
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.reference import Reference, ReferenceCache
from healthcode.store import batch_writes
from healthcode.store import evidence as evidence_repo
from healthcode.store import registry as registry_repo
from healthcode.store.cycles import collection_paused
from healthcode.store.database import Database
from healthcode.tlog.hashing import leaf_hashes, merkle_root

_PERSON = attrgetter("person")


@dataclass(frozen=True)
class IntakeReceipt:
    source_id: str
    batch_id: str
    accepted: int
    already_present: int
    merkle_root: str
    status_changes: int


class Intake:
    def __init__(
        self,
        db: Database,
        derivation: Derivation,
        policy: BatchPolicy,
        reference: ReferenceCache,
    ) -> None:
        self._db = db
        self._derivation = derivation
        self._policy = policy
        self._reference = reference

    def submit(self, body: object, *, now: datetime) -> IntakeReceipt:
        with collection_paused():
            return self._submit(body, now)

    def _submit(self, body: object, now: datetime) -> IntakeReceipt:
        # Written at first as if the batch and every record were new, without a savepoint (two
        # statements fewer, on PostgreSQL two round trips); if a key is taken, that write is
        # rolled back whole and the batch written again with the lookups (`commit_records`).
        try:
            return self._attempt(body, now, careful=False)
        except _KeyTaken:
            return self._attempt(body, now, careful=True)

    def _attempt(self, body: object, now: datetime, *, careful: bool) -> IntakeReceipt:
        with self._db.write() as conn:
            reference = self._reference.current(conn)
            source_id = body.get("source") if isinstance(body, dict) else None
            source = reference.sources.get(source_id) if isinstance(source_id, str) else None
            if source is not None and source.authority_id == DCC_AUTHORITY:
                source = None  # a DCC issuer's evidence comes only through the DCC path
            checked = check_batch(
                body,
                source=source,
                known_areas=reference.areas,
                venue_areas=_VenueAreas(conn),
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
                reference=reference,
                careful=careful,
                side_reads=None if careful else self._db.side_read,
            )
            crashpoints.reach("intake.before_commit")
        crashpoints.reach("intake.after_commit")
        return receipt


class _KeyTaken(Exception):
    """The batch's or a record's key is taken: what was written must be rolled back whole."""


class _VenueAreas(Mapping[str, str]):
    """Every venue's area, read when first looked up: a batch without visits reads none."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._areas: dict[str, str] | None = None

    def _read(self) -> dict[str, str]:
        if self._areas is None:
            self._areas = registry_repo.venue_areas(self._conn)
        return self._areas

    def __getitem__(self, venue_id: str) -> str:
        return self._read()[venue_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def commit_records(
    conn: Connection,
    derivation: Derivation,
    *,
    source_id: str,
    batch_id: str,
    signed_digest: bytes,
    records: Sequence[tuple[Evidence, bytes, dict[str, Any]]],
    now: datetime,
    reference: Reference | None = None,
    careful: bool = True,
    side_reads: Callable[[], AbstractContextManager[Connection]] | None = None,
) -> IntakeReceipt:
    """Write checked records as one batch inside the caller's write transaction: the batch row
    with the Merkle root of the records it stores, their rows, its ``evidence_batch`` log entry
    and the status changes they cause. Records already stored are skipped; a batch or record id
    already used with other content is refused (``batch.conflict``). ``reference``: the small
    tables as this transaction sees them, if already read (else the recompute reads them).
    Not ``careful``: a taken key raises `_KeyTaken`, and the caller rolls its transaction back
    (the batch is then written again, carefully); with ``side_reads``, written by
    `_write_alongside`."""
    # Looking the batch and every record up before writing cost more than the write; batches
    # and records sent twice are rare. So the batch is written as if it and every record were
    # new (carefully: under a savepoint); only if a primary key refuses it is the stored batch,
    # or are the stored records, looked up (and the rest written again).
    try:
        if careful:
            with conn.begin_nested():
                root = _write(conn, source_id, batch_id, signed_digest, records, now)
        else:
            try:
                if side_reads is not None and batch_writes.partition_ready(conn, now):
                    return _write_alongside(
                        conn,
                        derivation,
                        side_reads,
                        source_id=source_id,
                        batch_id=batch_id,
                        signed_digest=signed_digest,
                        records=records,
                        now=now,
                        reference=reference,
                    )
                root = _write(conn, source_id, batch_id, signed_digest, records, now)
            except (evidence_repo.DuplicateBatch, evidence_repo.DuplicateRecord):
                raise _KeyTaken from None
        fresh = records
    except evidence_repo.DuplicateBatch as taken:
        receipt = _as_stored(conn, source_id, batch_id, signed_digest, len(records))
        if receipt is None:
            raise taken.error from None
        return receipt
    except evidence_repo.DuplicateRecord:
        # On PostgreSQL a record's key is claimed before the batch row is written, so a batch
        # sent again is refused by its records first.
        receipt = _as_stored(conn, source_id, batch_id, signed_digest, len(records))
        if receipt is not None:
            return receipt
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
    items = [item for item, _, _ in fresh]
    changes = derivation.recompute(
        conn,
        set(map(_PERSON, items)),
        now=now,
        cause=Cause.INPUT,
        new_evidence=items,
        reference=reference,
    )
    return IntakeReceipt(
        source_id=source_id,
        batch_id=batch_id,
        accepted=len(fresh),
        already_present=len(records) - len(fresh),
        merkle_root=root.hex(),
        status_changes=len(changes),
    )


def _as_stored(
    conn: Connection, source_id: str, batch_id: str, signed_digest: bytes, count: int
) -> IntakeReceipt | None:
    """The receipt of a batch already stored under this id, if it is; ``batch.conflict`` if
    it was signed over other content."""
    previous = evidence_repo.batch(conn, source_id, batch_id)
    if previous is None:
        return None
    if bytes(previous.signed_digest) != signed_digest:
        raise InputRejected("batch.conflict", "batch_id already used") from None  # not the key's
    return IntakeReceipt(source_id, batch_id, 0, count, bytes(previous.merkle_root).hex(), 0)


def _write(
    conn: Connection,
    source_id: str,
    batch_id: str,
    signed_digest: bytes,
    fresh: Sequence[tuple[Evidence, bytes, dict[str, Any]]],
    now: datetime,
) -> bytes:
    """The batch row, its records' rows and its ``evidence_batch`` log entry; the batch's
    Merkle root."""
    root, rows = _write_batch(conn, source_id, batch_id, signed_digest, fresh, now)
    batch_writes.insert_records(conn, rows)
    return root


def _write_batch(
    conn: Connection,
    source_id: str,
    batch_id: str,
    signed_digest: bytes,
    fresh: Sequence[tuple[Evidence, bytes, dict[str, Any]]],
    now: datetime,
) -> tuple[bytes, list[tuple[Any, ...]]]:
    """The batch row and its ``evidence_batch`` log entry, and on PostgreSQL its records'
    keys; the batch's Merkle root and its records' rows, for `batch_writes.insert_records`.
    The rows and the root are computed while PostgreSQL claims the records' keys
    (`batch_writes.claiming`)."""
    with batch_writes.claiming(
        conn, source_id, [item.record_id for item, _, _ in fresh]
    ) as claimed:
        rows = evidence_repo.evidence_rows(fresh, batch_id)
        root = _root(fresh)
        claimed()
        _log_batch(conn, source_id, batch_id, signed_digest, len(rows), root, now)
    return root, rows


def _root(fresh: Sequence[tuple[Evidence, bytes, dict[str, Any]]]) -> bytes:
    """The batch's Merkle root: the tree covers exactly the records the batch stores, in
    order, so every stored record is covered by exactly one log entry."""
    return merkle_root(leaf_hashes([canonical for _, canonical, _ in fresh]))


def _log_batch(
    conn: Connection,
    source_id: str,
    batch_id: str,
    signed_digest: bytes,
    count: int,
    root: bytes,
    now: datetime,
) -> None:
    """The batch's ``evidence_batch`` log entry and its row."""
    entry = evidence_batch_entry(
        source_id=source_id, batch_id=batch_id, records=count, merkle_root=root, received_at=now
    )
    index = transparency.append_one(conn, "evidence_batch", entry, now)
    batch_writes.insert_batch_row(
        conn,
        source_id=source_id,
        batch_id=batch_id,
        received_at=now,
        record_count=count,
        signed_digest=signed_digest,
        merkle_root=root,
        log_index=index,
    )


def _write_alongside(
    conn: Connection,
    derivation: Derivation,
    side_reads: Callable[[], AbstractContextManager[Connection]],
    *,
    source_id: str,
    batch_id: str,
    signed_digest: bytes,
    records: Sequence[tuple[Evidence, bytes, dict[str, Any]]],
    now: datetime,
    reference: Reference | None,
) -> IntakeReceipt:
    """`commit_records` of a batch taken to be all new (a taken key raises): the recompute
    reads and decides, and the batch's Merkle root is computed, beside the write transaction
    (``side_reads``: `Database.side_read`) while the records' rows are written
    (`batch_writes.records_written_aside`); then the batch's log entry and row, and the
    recompute's writes. On two cores the two go on at once: the rows cost the database about
    as long as the rest costs Python."""
    items = [item for item, _, _ in records]
    with batch_writes.claiming(conn, source_id, [item.record_id for item in items]) as claimed:
        rows = evidence_repo.evidence_rows(records, batch_id)
        claimed()
    with batch_writes.records_written_aside(conn, rows), side_reads() as reader:
        root = _root(records)
        decided = derivation.prepare(
            reader,
            set(map(_PERSON, items)),
            now=now,
            cause=Cause.INPUT,
            new_evidence=items,
            reference=reference,
        )
    with batch_writes.batch_row_sent(conn):
        _log_batch(conn, source_id, batch_id, signed_digest, len(rows), root, now)
    changes = derivation.commit(conn, decided)
    return IntakeReceipt(source_id, batch_id, len(records), 0, root.hex(), len(changes))
