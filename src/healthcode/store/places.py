"""Rows of venue keys, issuer keys, trust list versions, scan batches and identity cards."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select

from healthcode.store import tables as t
from healthcode.store.evidence import insert_rows
from healthcode.store.keysets import one_of

_CHUNK = 500


# --- venue place-code keys -------------------------------------------------------------------


def venue_keys(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(t.venue_keys).order_by(t.venue_keys.c.venue_id)))


def venue_key_of(conn: Connection, venue_id: str) -> Row[Any] | None:
    """The venue's newest key."""
    query = (
        select(t.venue_keys)
        .where(t.venue_keys.c.venue_id == venue_id)
        .order_by(t.venue_keys.c.generation.desc())
        .limit(1)
    )
    return conn.execute(query).first()


def insert_venue_key(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.venue_keys.insert().values(**row))


def venues(conn: Connection, venue_ids: Iterable[str] | None = None) -> dict[str, Row[Any]]:
    query = select(t.venues)
    if venue_ids is not None:
        query = query.where(t.venues.c.id.in_(sorted(set(venue_ids))))
    return {row.id: row for row in conn.execute(query)}


# --- issuer keys and trust list versions ------------------------------------------------------


def trust_keys(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(t.trust_keys).order_by(t.trust_keys.c.registered_at)))


def trust_key(conn: Connection, key_id: str) -> Row[Any] | None:
    return conn.execute(select(t.trust_keys).where(t.trust_keys.c.key_id == key_id)).first()


def insert_trust_key(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.trust_keys.insert().values(**row))


def revoke_trust_key(
    conn: Connection, key_id: str, *, at: datetime, reason: str, by: str, log_index: int
) -> None:
    conn.execute(
        t.trust_keys.update()
        .where(t.trust_keys.c.key_id == key_id)
        .values(
            revoked_at=at, revocation_reason=reason, revoked_by=by, revocation_log_index=log_index
        )
    )


def latest_trust_list(conn: Connection) -> Row[Any] | None:
    query = select(t.trust_lists).order_by(t.trust_lists.c.version.desc()).limit(1)
    return conn.execute(query).first()


def insert_trust_list(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.trust_lists.insert().values(**row))


# --- scan batches --------------------------------------------------------------------------


_OPEN_BATCH = select(t.scan_batches).where(
    t.scan_batches.c.source_id == bindparam("source_id"),
    t.scan_batches.c.shard == bindparam("shard"),
    t.scan_batches.c.sealed_at.is_(None),
)
_ALL_OPEN = select(t.scan_batches).where(t.scan_batches.c.sealed_at.is_(None))


def open_batches(
    conn: Connection, keys: Iterable[tuple[str, int]] | None = None
) -> dict[tuple[str, int], Row[Any]]:
    """The open batch of each (source, shard), all of them or those asked for.

    The statements are built once (a scan runs these every time): building a SQLAlchemy
    expression costs more than running it.
    """
    if keys is None:
        return {(row.source_id, row.shard): row for row in conn.execute(_ALL_OPEN)}
    wanted = sorted(set(keys))
    if len(wanted) > 1:
        # There are few open batches (a second's, per source and shard): one statement.
        every = {(row.source_id, row.shard): row for row in conn.execute(_ALL_OPEN)}
        return {key: every[key] for key in wanted if key in every}
    found: dict[tuple[str, int], Row[Any]] = {}
    for source_id, shard in wanted:
        row = conn.execute(_OPEN_BATCH, {"source_id": source_id, "shard": shard}).first()
        if row is not None:
            found[(source_id, shard)] = row
    return found


def batch_ids(conn: Connection, source_id: str, prefix: str) -> set[str]:
    query = select(t.scan_batches.c.batch_id).where(
        t.scan_batches.c.source_id == source_id, t.scan_batches.c.batch_id.startswith(prefix)
    )
    return set(conn.scalars(query))


def open_batches_with(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Open new batches (rows of `scan_batches`), in one call."""
    if rows:
        conn.execute(t.scan_batches.insert(), list(rows))


_SET_RECORDS = (
    t.scan_batches.update()
    .where(
        t.scan_batches.c.source_id == bindparam("source"),
        t.scan_batches.c.batch_id == bindparam("batch"),
    )
    .values(records=bindparam("records"))
)


def set_batches_records(conn: Connection, counts: Sequence[tuple[str, str, int]]) -> None:
    """The records so far of these batches (source, batch, records), in one call."""
    if counts:
        conn.execute(
            _SET_RECORDS,
            [{"source": source, "batch": batch, "records": n} for source, batch, n in counts],
        )


def mark_sealed(conn: Connection, source_id: str, batch_id: str, at: datetime) -> None:
    conn.execute(
        t.scan_batches.update()
        .where(t.scan_batches.c.source_id == source_id, t.scan_batches.c.batch_id == batch_id)
        .values(sealed_at=at)
    )


def batch_leaves(conn: Connection, source_id: str, batch_id: str) -> list[Row[Any]]:
    """The records of a batch in leaf order: (record_id, position, canonical)."""
    query = (
        select(t.evidence.c.record_id, t.evidence.c.position, t.evidence.c.canonical)
        .where(t.evidence.c.source_id == source_id, t.evidence.c.batch_id == batch_id)
        .order_by(t.evidence.c.position)
    )
    return list(conn.execute(query))


def existing_record_ids(conn: Connection, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (source, record id) pairs are already stored."""
    by_source: dict[str, list[str]] = {}
    for source_id, record_id in sorted(set(pairs)):
        by_source.setdefault(source_id, []).append(record_id)
    found: set[tuple[str, str]] = set()
    for source_id, record_ids in by_source.items():
        for condition in one_of(conn, t.evidence.c.record_id, record_ids):
            query = select(t.evidence.c.record_id).where(
                t.evidence.c.source_id == source_id, condition
            )
            found.update((source_id, record_id) for record_id in conn.scalars(query))
    return found


def scan_record(conn: Connection, person_key: str, record_id: str) -> Any:
    """One of the person's scan records with its batch (sealed or not)."""
    query = (
        select(
            t.evidence.c.source_id,
            t.evidence.c.record_id,
            t.evidence.c.batch_id,
            t.evidence.c.position,
            t.evidence.c.canonical,
            t.scan_batches.c.sealed_at,
        )
        .join(
            t.scan_batches,
            (t.scan_batches.c.source_id == t.evidence.c.source_id)
            & (t.scan_batches.c.batch_id == t.evidence.c.batch_id),
        )
        .where(t.evidence.c.person_key == person_key, t.evidence.c.record_id == record_id)
    )
    return conn.execute(query).first()


def open_batch_count(conn: Connection) -> int:
    query = (
        select(func.count()).select_from(t.scan_batches).where(t.scan_batches.c.sealed_at.is_(None))
    )
    return int(conn.scalar(query) or 0)


_VISIT_COLUMNS = (
    "source_id", "record_id", "batch_id", "position", "person_key", "kind", "area_code",
    "occurred_at", "received_at", "presence", "venue_id", "canonical",
)  # fmt: skip


def insert_visits(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert scan records (tuples in `_VISIT_COLUMNS` order, instants as `to_micros`); the
    other evidence columns (other kinds' attributes) stay NULL, as for any visit.

    Raises `DuplicateRecord` if a row's key is taken (see `store.evidence.insert_rows`).
    """
    insert_rows(conn, _VISIT_COLUMNS, rows)


# --- identity cards ------------------------------------------------------------------------


def identity_card(conn: Connection, person_key: str) -> Row[Any] | None:
    query = select(t.identity_cards).where(t.identity_cards.c.person_key == person_key)
    return conn.execute(query).first()


def card_holder(conn: Connection, commitment: str) -> Row[Any] | None:
    query = select(t.identity_cards).where(t.identity_cards.c.commitment == commitment)
    return conn.execute(query).first()


def save_identity_card(conn: Connection, row: dict[str, Any], *, new: bool) -> None:
    if new:
        conn.execute(t.identity_cards.insert().values(**row))
    else:
        conn.execute(
            t.identity_cards.update()
            .where(t.identity_cards.c.person_key == row["person_key"])
            .values(**{k: v for k, v in row.items() if k != "person_key"})
        )
