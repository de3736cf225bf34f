"""Scan records in per-second batches: writing them into the open batch, sealing batches.

A batch is one second of one scan source and shard. A scan lands at once as an evidence row
of its open batch; the sealer (the server's sequencer loop, and any scan arriving for a later
second) seals every batch of an earlier second: it computes the Merkle root over the
batch's records in position order, appends the `evidence_batch` entry and writes the
`evidence_batches` row, exactly as intake does for a submitted batch, and the batch never
changes again. Callers hold the store's write lock (every function takes its connection).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import rfc8785
from sqlalchemy import Connection

from healthcode.domain.evidence import EvidenceKind, Presence, VenueVisit
from healthcode.domain.log_entries import evidence_batch_entry
from healthcode.services import transparency
from healthcode.services.batch_leaves import LeafWrites
from healthcode.services.trust_lists import whole_second
from healthcode.store import places as repo
from healthcode.store import tables as t
from healthcode.store.instants import to_micros
from healthcode.tlog import leaf_hashes, merkle_root


class NewScan(NamedTuple):
    """A checked scan, ready to be written (a tuple: a thousand are made per batch, and a
    frozen dataclass cost several times as much to build)."""

    source_id: str
    shard: int
    record_id: str
    person_key: str
    area: str
    venue_id: str
    presence: Presence
    at: datetime | None = None  # the scan's own instant, if not the transaction's `now`


def instant_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def canonical_visit(visit: VenueVisit, occurred_at: str | None = None) -> bytes:
    """The visit as a source submits it, RFC 8785-canonical: the batch's Merkle leaf.

    Every value is a registered id, an area code, a checked person key, an enum member or an
    instant: ASCII letters, digits and ``._:-`` only (the registry and intake patterns), so
    the members in sorted order with no escaping are already the RFC 8785 form (a test
    compares it with `rfc8785.dumps`). A format string is several times cheaper than a JSON
    encoder, and this runs once per scan (`occurred_at`: the instant already formatted).
    """
    when = occurred_at if occurred_at is not None else instant_text(visit.occurred_at)
    return _canonical(
        visit.area, when, visit.person, visit.presence, visit.record_id, visit.venue_id
    )


def _canonical(
    area: str, when: str, person: str, presence: Presence, record_id: str, venue_id: str
) -> bytes:
    return (
        f'{{"area":"{area}","kind":"venue_visit",'
        f'"occurred_at":"{when}","person":"{person}",'
        f'"presence":"{presence}","record_id":"{record_id}",'
        f'"venue_id":"{venue_id}"}}'
    ).encode("ascii")


def batch_digest(source_id: str, batch_id: str, canonicals: Sequence[bytes]) -> bytes:
    """SHA-256 of the batch as a source would sign it (`domain.batches.signing_input`)."""
    body = b"".join(
        (
            b'{"batch_id":',
            rfc8785.dumps(batch_id),
            b',"records":[',
            b",".join(canonicals),
            b'],"source":',
            rfc8785.dumps(source_id),
            b"}",
        )
    )
    return hashlib.sha256(body).digest()


def write_scans(
    conn: Connection, scans: Sequence[NewScan], now: datetime, leaves: LeafWrites | None = None
) -> list[VenueVisit]:
    """Write scans into the open batch of their source and shard for `now`'s second (sealing
    any batch of theirs from an earlier second first); their visits, in the order given, each
    received at its own instant if it has one (of `now`'s second, not after it), else `now`.
    ``leaves``: the transaction's writes, told what was written once it is (for sealing).

    Raises `store.evidence.DuplicateRecord` if a record id is taken; the caller writes under a
    savepoint and rolls back.
    """
    groups: dict[tuple[str, int], list[int]] = {}
    for n, scan in enumerate(scans):
        groups.setdefault((scan.source_id, scan.shard), []).append(n)
    batches = _open_batches(conn, list(groups), now, leaves)
    visits: list[VenueVisit] = [None] * len(scans)  # type: ignore[list-item]  # all set below
    rows: list[tuple[Any, ...]] = []
    counts: list[tuple[str, str, int]] = []  # of batches already open
    opened: list[dict[str, Any]] = []  # new batches, with their records (one statement fewer)
    written: list[tuple[tuple[str, str], int, int]] = []  # batch, first position, first row
    now_micros, now_text = to_micros(now), instant_text(now)
    kind, kind_value = EvidenceKind.VENUE_VISIT, EvidenceKind.VENUE_VISIT.value
    # One pass per scan building its visit and its row (this runs a thousand times a batch).
    for group, members in groups.items():
        batch_id, position, new = batches[group]
        written.append(((group[0], batch_id), position, len(rows)))
        for n in members:
            source_id, _shard, record_id, person, area, venue_id, presence, at = scans[n]
            if at is None:
                at = now
            if at == now:
                micros, when = now_micros, now_text
            else:
                micros, when = to_micros(at), instant_text(at)
            visits[n] = _visit(
                {"source_id": source_id, "record_id": record_id, "person": person,
                 "area": area, "occurred_at": at, "received_at": at, "kind": kind,
                 "venue_id": venue_id, "presence": presence}
            )  # fmt: skip
            # In `store.places.insert_visits`'s column order.
            rows.append(
                (source_id, record_id, batch_id, position, person, kind_value, area, micros,
                 micros, str(presence), venue_id,
                 _canonical(area, when, person, presence, record_id, venue_id))
            )  # fmt: skip
            position += 1
        if new:
            opened.append(
                {"source_id": group[0], "batch_id": batch_id, "shard": group[1],
                 "opened_at": now, "records": position, "sealed_at": None}
            )  # fmt: skip
        else:
            counts.append((group[0], batch_id, position))
    repo.open_batches_with(conn, opened)
    repo.set_batches_records(conn, counts)
    repo.insert_visits(conn, rows)
    if leaves is not None:  # written: the canonical record is each row's last column
        ends = [first for _key, _position, first in written[1:]] + [len(rows)]
        for (key, position, first), end in zip(written, ends, strict=True):
            leaves.add(key, position, [row[-1] for row in rows[first:end]])
    return visits


def _open_batches(
    conn: Connection, groups: list[tuple[str, int]], now: datetime, leaves: LeafWrites | None
) -> dict[tuple[str, int], tuple[str, int, bool]]:
    """The open batch (id, next position, whether it is new) of each (source, shard) for
    `now`'s second. A new batch is not written yet: `write_scans` writes it with its records.

    A batch still open from an earlier second is sealed first, in this transaction.
    """
    second = whole_second(now)
    found = repo.open_batches(conn, groups)
    result: dict[tuple[str, int], tuple[str, int, bool]] = {}
    for group in groups:
        row = found.get(group)
        if row is not None and whole_second(row.opened_at) < second:
            seal(conn, row, now, leaves)
            row = None
        if row is not None:
            result[group] = (row.batch_id, row.records, False)
            continue
        source_id, shard = group
        stem = f"{second.strftime('%Y%m%dT%H%M%SZ')}-s{shard}"
        taken = repo.batch_ids(conn, source_id, stem)
        batch_id = stem
        n = 0
        while batch_id in taken:
            n += 1
            batch_id = f"{stem}-{n}"
        result[group] = (batch_id, 0, True)
    return result


def seal_due(
    conn: Connection, now: datetime, leaves: LeafWrites | None = None, *, everything: bool = False
) -> int:
    """Seal every open batch of a second before `now`'s (all of them with `everything`)."""
    second = whole_second(now)
    due = [
        row
        for row in repo.open_batches(conn).values()
        if everything or whole_second(row.opened_at) < second
    ]
    for row in sorted(due, key=lambda r: (r.opened_at, r.source_id, r.shard)):
        seal(conn, row, now, leaves)
    return len(due)


def seal(conn: Connection, batch: Any, now: datetime, leaves: LeafWrites | None = None) -> None:
    key = (batch.source_id, batch.batch_id)
    canonicals = leaves.records(key, batch.records) if leaves is not None else None
    if canonicals is None:
        stored = repo.batch_leaves(conn, batch.source_id, batch.batch_id)
        if [row.position for row in stored] != list(range(batch.records)):
            raise RuntimeError(f"scan batch {batch.source_id}/{batch.batch_id} has a gap")
        canonicals = [bytes(row.canonical) for row in stored]
    if leaves is not None:
        leaves.sealed.add(key)
    root = merkle_root(leaf_hashes(canonicals))
    index = transparency.append_one(
        conn,
        "evidence_batch",
        evidence_batch_entry(
            source_id=batch.source_id,
            batch_id=batch.batch_id,
            records=len(canonicals),
            merkle_root=root,
            received_at=batch.opened_at,
        ),
        now,
    )
    conn.execute(
        t.evidence_batches.insert().values(
            source_id=batch.source_id,
            batch_id=batch.batch_id,
            received_at=batch.opened_at,
            record_count=len(canonicals),
            signed_digest=batch_digest(batch.source_id, batch.batch_id, canonicals),
            merkle_root=root,
            log_index=index,
        )
    )
    repo.mark_sealed(conn, batch.source_id, batch.batch_id, now)


_VISIT_FIELDS = frozenset(VenueVisit.model_fields)


def _visit(values: dict[str, Any]) -> VenueVisit:
    """A visit built from values the server made itself, without pydantic's per-call
    validation (what `model_construct` does, several times cheaper; every value here is a
    registered id, a checked person key, the server's instant or an enum member)."""
    visit: VenueVisit = VenueVisit.__new__(VenueVisit)
    object.__setattr__(visit, "__dict__", values)
    object.__setattr__(visit, "__pydantic_fields_set__", _VISIT_FIELDS)
    object.__setattr__(visit, "__pydantic_extra__", None)
    object.__setattr__(visit, "__pydantic_private__", None)
    return visit
