"""Rows for retention: batches with records due, the records, legal holds, the deletes, and
the purge ledger (``retention_purges``, ``retention_purge_batches``)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, or_, select, tuple_, update

from healthcode.domain.retention import Record
from healthcode.store import partitions
from healthcode.store import tables as t
from healthcode.store.keysets import one_of
from healthcode.store.orders import in_state

_CHUNK = 500  # bound the size of IN lists of pairs
_ATTRIBUTES = ("method", "result", "presence", "venue_id", "quarantine_required", "vaccine",
               "dose", "port", "case_ref")  # fmt: skip
_E = t.evidence.c
_B = t.evidence_batches.c
# A case or an appeal holds evidence until it reaches one of these.
CLOSED_CASE = "closed"
OPEN_APPEAL = "open"
IN_FORCE_ORDER = ("pending", "active")


@dataclass(frozen=True)
class DueBatch:
    source_id: str
    batch_id: str
    received_at: datetime
    record_count: int
    purged_records: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_id, self.batch_id)

    @property
    def left(self) -> int:
        return self.record_count - self.purged_records


BatchKey = tuple[datetime, str, str]  # (received_at, source, batch): the scan order


def due_batches(
    conn: Connection,
    cutoff: datetime,
    after: BatchKey | None,
    limit: int,
    since: datetime | None = None,
    skip: Sequence[tuple[datetime, datetime]] = (),
) -> list[DueBatch]:
    """Batches received before ``cutoff`` (not before ``since``, nor within a ``skip`` range)
    with records not yet purged, oldest first, after ``after`` (the partial index
    ``ix_evidence_batches_unpurged`` holds exactly these)."""
    query = select(_B.source_id, _B.batch_id, _B.received_at, _B.record_count, _B.purged_records)
    query = query.where(_B.received_at < cutoff, _B.purged_records < _B.record_count)
    if since is not None:
        query = query.where(_B.received_at >= since)
    for lower, upper in skip:
        query = query.where(or_(_B.received_at < lower, _B.received_at >= upper))
    if after is not None:
        at, source, batch = after
        query = query.where(
            or_(
                _B.received_at > at,
                and_(
                    _B.received_at == at,
                    or_(_B.source_id > source, and_(_B.source_id == source, _B.batch_id > batch)),
                ),
            )
        )
    query = query.order_by(_B.received_at, _B.source_id, _B.batch_id).limit(limit)
    return [DueBatch(*row) for row in conn.execute(query)]


@dataclass(frozen=True)
class StoredLeaf:
    record: Record
    batch_id: str
    position: int
    received_at: datetime
    canonical: bytes


def _record(row: Row[Any]) -> Record:
    attributes = {
        name: getattr(row, name) for name in _ATTRIBUTES if getattr(row, name) is not None
    }
    return Record(
        row.source_id, row.record_id, row.person_key, row.kind, row.occurred_at, attributes
    )


def leaves_of(conn: Connection, keys: Sequence[tuple[str, str]]) -> list[StoredLeaf]:
    """Every stored record of these batches, with its canonical bytes and position."""
    found: list[StoredLeaf] = []
    columns = [_E.source_id, _E.record_id, _E.person_key, _E.kind, _E.occurred_at,
               _E.received_at, _E.batch_id, _E.position, _E.canonical,
               *(_E[name] for name in _ATTRIBUTES)]  # fmt: skip
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        query = select(*columns).where(tuple_(_E.source_id, _E.batch_id).in_(chunk))
        for row in conn.execute(query):
            found.append(
                StoredLeaf(
                    _record(row),
                    row.batch_id,
                    int(row.position),
                    row.received_at,
                    bytes(row.canonical),
                )
            )
    return found


def records_of_people(
    conn: Connection, persons: Sequence[str], kinds: Iterable[str]
) -> dict[str, list[Record]]:
    """Every stored record of these people of these kinds (any age)."""
    found: dict[str, list[Record]] = defaultdict(list)
    wanted = sorted(kinds)
    if not wanted:
        return found
    columns = [_E.source_id, _E.record_id, _E.person_key, _E.kind, _E.occurred_at,
               *(_E[name] for name in _ATTRIBUTES)]  # fmt: skip
    for condition in one_of(conn, _E.person_key, sorted(set(persons))):
        query = select(*columns).where(condition, _E.kind.in_(wanted))
        for row in conn.execute(query):
            found[row.person_key].append(_record(row))
    return found


def disputed(conn: Connection) -> list[tuple[str | None, str, str | None]]:
    """(person, source, record) of every set-aside: a record it names may stop counting."""
    query = select(t.set_asides.c.person_key, t.set_asides.c.source_id, t.set_asides.c.record_id)
    return [(row.person_key, row.source_id, row.record_id) for row in conn.execute(query)]


# --- legal holds ------------------------------------------------------------------------------


def _split(ref: str) -> tuple[str, str]:
    source, _, record = ref.partition("/")
    return (source, record)


def _order_evidence(conn: Connection, order_ids: Iterable[str]) -> set[tuple[str, str]]:
    oe = t.order_evidence.c
    found: set[tuple[str, str]] = set()
    for condition in one_of(conn, oe.order_id, sorted(set(order_ids))):
        found.update(
            (r.source_id, r.record_id)
            for r in conn.execute(select(oe.source_id, oe.record_id).where(condition))
        )
    return found


def _appeal_evidence(
    conn: Connection, appeal_ids: Iterable[str]
) -> tuple[set[tuple[str, str]], set[str]]:
    """The records these appeals contest or their answers cite, and the orders they contest
    (or that replaced a contested order)."""
    a, c = t.appeals.c, t.appeal_citations.c
    refs: set[tuple[str, str]] = set()
    orders: set[str] = set()
    ids = sorted(set(appeal_ids))
    for condition in one_of(conn, a.id, ids):
        query = select(a.source_id, a.record_id, a.order_id, a.replacement_order_id).where(
            condition
        )
        for row in conn.execute(query):
            if row.record_id is not None:
                refs.add((row.source_id, row.record_id))
            orders.update(o for o in (row.order_id, row.replacement_order_id) if o is not None)
    for condition in one_of(conn, c.appeal_id, ids):
        refs.update(
            (r.source_id, r.record_id)
            for r in conn.execute(select(c.source_id, c.record_id).where(condition))
        )
    return refs, orders


@dataclass(frozen=True)
class Holds:
    """Records kept whatever their age, and why (counted separately in a purge's summary)."""

    appeals: set[tuple[str, str]]  # contested or cited by an open appeal, or an escalated
    # appeal whose oversight case is not closed (its order's evidence too)
    cases: set[tuple[str, str]]  # named by a finding whose case is not closed
    orders: set[tuple[str, str]]  # cited by an order in force

    def __contains__(self, ref: tuple[str, str]) -> bool:
        return ref in self.appeals or ref in self.cases or ref in self.orders


def legal_holds(conn: Connection, now: datetime, persons: Sequence[str]) -> Holds:
    """What holds records now: open appeals and cases not closed (few: read whole), and the
    orders in force of ``persons`` (the people whose records are due, by ``ix_orders_person``)."""
    a, oc, f, o = t.appeals.c, t.oversight_cases.c, t.oversight_findings.c, t.orders.c
    open_cases = oc.status != CLOSED_CASE
    appeal_ids = set(conn.scalars(select(a.id).where(a.status == OPEN_APPEAL)))
    appeal_ids.update(
        conn.scalars(select(oc.appeal_id).where(open_cases, oc.appeal_id.is_not(None)))
    )
    appeal_refs, appeal_orders = _appeal_evidence(conn, appeal_ids)
    appeal_refs |= _order_evidence(conn, appeal_orders)
    # A finding names records as "evidence:<source>/<record>", "order:<id>", "appeal:<id>".
    case_refs: set[tuple[str, str]] = set()
    case_orders: set[str] = set()
    case_appeals: set[str] = set()
    query = select(f.records).join(t.oversight_cases, oc.finding_id == f.id).where(open_cases)
    for records in conn.scalars(query):
        for ref in json.loads(records):
            kind, _, rest = str(ref).partition(":")
            if kind == "evidence":
                case_refs.add(_split(rest))
            elif kind == "order":
                case_orders.add(rest)
            elif kind == "appeal":
                case_appeals.add(rest)
    more_refs, more_orders = _appeal_evidence(conn, case_appeals)
    case_refs |= more_refs | _order_evidence(conn, case_orders | more_orders)
    in_force: set[str] = set()
    for condition in one_of(conn, o.person_key, sorted(set(persons))):
        query = select(o.id).where(
            condition,
            or_(*(in_state(state, now) for state in IN_FORCE_ORDER)),
        )
        in_force.update(conn.scalars(query))
    return Holds(appeal_refs, case_refs, _order_evidence(conn, in_force))


# --- the purge's writes ---------------------------------------------------------------------


def delete_records(conn: Connection, refs: Sequence[tuple[str, str]]) -> None:
    """Delete records row by row (SQLite, and PostgreSQL's default partition), with their
    claimed keys on PostgreSQL."""
    if partitions.is_partitioned(conn):
        partitions.delete_ids(conn, refs)
    for start in range(0, len(refs), _CHUNK):
        chunk = list(refs[start : start + _CHUNK])
        conn.execute(delete(t.evidence).where(tuple_(_E.source_id, _E.record_id).in_(chunk)))


def mark_batches(conn: Connection, removed: dict[tuple[str, str], int], now: datetime) -> None:
    for (source, batch), count in sorted(removed.items()):
        conn.execute(
            update(t.evidence_batches)
            .where(_B.source_id == source, _B.batch_id == batch)
            .values(purged_records=_B.purged_records + count, purged_at=now)
        )


def purge_notices(conn: Connection, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` notices dated before ``cutoff``, oldest first."""
    n = t.notices.c
    ids = list(conn.scalars(select(n.id).where(n.at < cutoff).order_by(n.id).limit(limit)))
    for condition in one_of(conn, n.id, ids):
        conn.execute(delete(t.notices).where(condition))
    return len(ids)


def purge_identity_cards(conn: Connection, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` identity cards that expired before ``cutoff``."""
    c = t.identity_cards.c
    keys = list(conn.scalars(select(c.person_key).where(c.valid_until < cutoff).limit(limit)))
    for condition in one_of(conn, c.person_key, keys):
        conn.execute(delete(t.identity_cards).where(condition))
    return len(keys)


def insert_purge(
    conn: Connection, row: dict[str, Any], batches: dict[tuple[str, str], list[int]]
) -> None:
    conn.execute(t.retention_purges.insert().values(**row))
    rows = [
        {"purge_log_index": row["log_index"], "source_id": source, "batch_id": batch,
         "positions": json.dumps(sorted(positions))}
        for (source, batch), positions in sorted(batches.items())
    ]  # fmt: skip
    if rows:
        conn.execute(t.retention_purge_batches.insert(), rows)


# --- the ledger, for the self-check -------------------------------------------------------------


@dataclass(frozen=True)
class StoredPurge:
    log_index: int
    purged_at: datetime
    cutoff: datetime
    days: int
    evidence: int
    notices: int
    identity_cards: int
    removed: bytes
    batches: dict[tuple[str, str], tuple[int, ...]]  # the positions it removed, per batch


def purges(conn: Connection) -> list[StoredPurge]:
    batches: dict[int, dict[tuple[str, str], tuple[int, ...]]] = defaultdict(dict)
    for row in conn.execute(select(t.retention_purge_batches)):
        positions = tuple(int(p) for p in json.loads(row.positions))
        batches[int(row.purge_log_index)][(row.source_id, row.batch_id)] = positions
    query = select(t.retention_purges).order_by(t.retention_purges.c.log_index)
    return [
        StoredPurge(
            int(row.log_index),
            row.purged_at,
            row.cutoff,
            int(row.days),
            int(row.evidence),
            int(row.notices),
            int(row.identity_cards),
            bytes(row.removed),
            batches.get(int(row.log_index), {}),
        )
        for row in conn.execute(query)
    ]
