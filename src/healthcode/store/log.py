"""Rows of the transparency log: its hash tiles, signed checkpoints, halts and escrowed
secrets (its entries: ``store/log_bundles.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from healthcode.store import tables as t
from healthcode.store.copy import driver_mark, insert_plain
from healthcode.store.driver_rows import fetch_rows
from healthcode.store.instants import to_micros
from healthcode.tlog import HASH_SIZE, TILE_HEIGHT

# A stored tile as (tile level, index, hashes, the nodes inside it or None while partial).
TileRow = tuple[int, int, bytes, bytes | None]
# What a sequencer run adds to a tile: (tile level, index, how many hashes it has stored,
# the hashes added after them, the nodes inside it if it is now full, else None).
TileGrowth = tuple[int, int, int, bytes, bytes | None]


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    signed_at: datetime


class TileMismatch(Exception):
    """A stored tile's row does not hold the hashes the tree has in it (`TileMismatch.length`),
    or is there for a tile the tree has no hash of yet (`TileMismatch.ahead`): it was changed
    or written outside the sequencer. Growing the tree over it would store a tile that is not
    the tree's, so the log halts with this as the reason."""

    @classmethod
    def length(cls, level: int, index: int, found: int | None, hashes: int) -> TileMismatch:
        """The row of a tile of ``hashes`` hashes in the tree holds ``found`` bytes (None: no
        row)."""
        held = "is missing" if found is None else f"holds {found} bytes"
        return cls(
            f"{_tile(level, index)} {held} where the tree has {hashes} hashes"
            f" ({hashes * HASH_SIZE} bytes)"
        )

    @classmethod
    def ahead(cls, level: int, index: int, found: int, size: int) -> TileMismatch:
        """A row of ``found`` bytes for a tile the tree of ``size`` entries has no hash of."""
        return cls(
            f"{_tile(level, index)} holds {found} bytes where the tree of size {size} has no"
            " tile yet"
        )


def _tile(level: int, index: int) -> str:
    return f"the stored tile {index} at tree level {level * TILE_HEIGHT}"


def put_tiles(conn: Connection, size: int, growths: Sequence[TileGrowth]) -> None:
    """Store what a run adds to the hash tiles of the signed tree of ``size``: a new tile's
    row, or a partial tile's hashes appended to its row. A stored hash is never written again,
    so one tampered with stays for the self-check to find, whatever the runs after it write. A
    row is appended to only if it holds exactly the hashes the tree had (else `TileMismatch`,
    for the caller to roll back): appended to a row with a hash more or less, the hashes would
    land at the wrong indices. A new tile's row is made only if there is none (else
    `TileMismatch` too), checked before anything is written: a row the tree has no hash of yet
    was written by no run, and the insert would fail on its key, naming nothing."""
    mark = driver_mark(conn)
    new = [(level, index, added, nodes) for level, index, had, added, nodes in growths if not had]
    if new:
        _refuse_rows_ahead(conn, size, [(level, index) for level, index, _, _ in new])
        conn.exec_driver_sql(
            f"INSERT INTO {t.log_tiles.name} (level, idx, hashes, nodes)"
            f" VALUES ({mark}, {mark}, {mark}, {mark})",
            new,
        )
    # SQLite's || makes text of two blobs (byte for byte): the cast makes it a blob again.
    appended = (
        f"hashes || {mark}"
        if conn.dialect.name == "postgresql"
        else f"CAST(hashes || {mark} AS BLOB)"
    )
    # One statement a grown tile (a run grows one a level, a few in all), for its row count;
    # length() counts the bytes of a blob on SQLite and of a bytea on PostgreSQL.
    append = (
        f"UPDATE {t.log_tiles.name} SET hashes = {appended}, nodes = {mark}"
        f" WHERE level = {mark} AND idx = {mark} AND length(hashes) = {mark}"
    )
    for level, index, had, added, nodes in growths:
        if not had:
            continue
        updated = conn.exec_driver_sql(append, (added, nodes, level, index, had * HASH_SIZE))
        if updated.rowcount != 1:
            found = conn.scalar(
                select(func.length(t.log_tiles.c.hashes)).where(
                    t.log_tiles.c.level == level, t.log_tiles.c.idx == index
                )
            )
            raise TileMismatch.length(level, index, found, had)


def _refuse_rows_ahead(conn: Connection, size: int, new: Sequence[tuple[int, int]]) -> None:
    """`TileMismatch` for a stored row of one of the ``new`` (level, index) tiles, which the
    tree of ``size`` has no hash of. Those a run makes at a level are consecutive: one read of
    their range a level, which finds no row (a run makes a tile at level 0 once in 256
    entries, at level 1 once in 65,536)."""
    spans: dict[int, tuple[int, int]] = {}
    for level, index in new:
        low, high = spans.get(level, (index, index))
        spans[level] = (min(low, index), max(high, index))
    for level, (low, high) in sorted(spans.items()):
        found = tiles(conn, level, low, high + 1)
        if found:
            raise TileMismatch.ahead(level, found[0][1], len(found[0][2]), size)


def tiles_ahead(conn: Connection, kept: Sequence[int], limit: int) -> list[tuple[int, int, int]]:
    """(tile level, index, bytes of hashes) of the first ``limit`` stored rows, by level and
    index, of tiles a tree with ``kept[level]`` tiles at each tile level and none above lacks.
    One range of the key a level (in one statement, ORed, SQLite scans the whole key); the
    hashes are not read."""
    ranges: list[tuple[str, tuple[int, ...]]] = [
        ("level = ? AND idx >= ?", (level, first)) for level, first in enumerate(kept)
    ]
    ranges.append(("level >= ?", (len(kept),)))
    found: list[tuple[int, int, int]] = []
    for where, params in ranges:
        if len(found) < limit:
            rows = fetch_rows(
                conn,
                f"SELECT level, idx, length(hashes) FROM {t.log_tiles.name} WHERE {where}"
                " ORDER BY level, idx LIMIT ?",
                (*params, limit - len(found)),
            )
            found.extend((int(level), int(index), int(held)) for level, index, held in rows)
    return found


def tiles(conn: Connection, level: int, start: int, end: int) -> list[TileRow]:
    """The stored hash tiles [start, end) of tile level ``level`` in order; a missing one is
    absent from the list."""
    return fetch_rows(
        conn,
        f"SELECT level, idx, hashes, nodes FROM {t.log_tiles.name}"
        " WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
        (level, start, end),
    )


# Every answer that reports state carries the latest checkpoint: built once.
_LATEST = select(t.log_checkpoints).order_by(t.log_checkpoints.c.size.desc()).limit(1)


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(_LATEST).first()
    return (
        None
        if row is None
        else StoredCheckpoint(row.size, bytes(row.root), row.note, row.signed_at)
    )


def checkpoint(conn: Connection, size: int) -> StoredCheckpoint | None:
    row = conn.execute(select(t.log_checkpoints).where(t.log_checkpoints.c.size == size)).first()
    return (
        None
        if row is None
        else StoredCheckpoint(row.size, bytes(row.root), row.note, row.signed_at)
    )


def insert_checkpoint(conn: Connection, cp: StoredCheckpoint) -> None:
    conn.execute(
        t.log_checkpoints.insert().values(
            size=cp.size, root=cp.root, note=cp.note, signed_at=cp.signed_at
        )
    )


def replace_note(conn: Connection, size: int, note: str) -> None:
    conn.execute(
        t.log_checkpoints.update().where(t.log_checkpoints.c.size == size).values(note=note)
    )


def halts(conn: Connection) -> list[tuple[datetime, str]]:
    return [
        (row.at, row.reason) for row in conn.execute(select(t.log_halts).order_by(t.log_halts.c.id))
    ]


def halt(conn: Connection, at: datetime, reason: str) -> None:
    conn.execute(t.log_halts.insert().values(at=at, reason=reason))


def escrowed(conn: Connection, person_keys: Sequence[str]) -> set[str]:
    keys = sorted(set(person_keys))
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        query = select(t.person_secrets.c.person_key).where(
            t.person_secrets.c.person_key.in_(keys[start : start + 500])
        )
        found.update(conn.scalars(query))
    return found


def insert_escrows(
    conn: Connection, rows: Sequence[tuple[str, bytes, datetime]], *, keep_existing: bool = False
) -> None:
    """Insert escrows as (person key, sealed secret, created at) tuples (``keep_existing``: a
    person already escrowed keeps theirs)."""
    insert_plain(
        conn,
        t.person_secrets.name,
        ("person_key", "escrow", "created_at"),
        [(key, sealed, to_micros(at)) for key, sealed, at in rows],
        keep_existing=keep_existing,
    )


def escrow(conn: Connection, person_key: str) -> bytes | None:
    row = conn.execute(
        select(t.person_secrets.c.escrow).where(t.person_secrets.c.person_key == person_key)
    ).first()
    return None if row is None else bytes(row.escrow)


# Escrows are keyed by a person key, "staff:<id>" (staff and venue devices) or "finding:<id>".
STAFF_ESCROW, FINDING_ESCROW = "staff:", "finding:"


def escrows_of_staff(conn: Connection) -> list[tuple[str, bytes]]:
    """Every staff member's and venue device's escrow, as (escrow key, sealed)."""
    key = t.person_secrets.c.person_key
    query = select(key, t.person_secrets.c.escrow).where(key.like(STAFF_ESCROW + "%"))
    return [(row[0], bytes(row[1])) for row in conn.execute(query)]


def escrows_of_persons(
    conn: Connection, person_keys: Sequence[str] | None = None
) -> list[tuple[str, bytes]]:
    """Every person's escrow (or only those of ``person_keys``), as (person key, sealed)."""
    key, sealed = t.person_secrets.c.person_key, t.person_secrets.c.escrow
    if person_keys is None:
        query = select(key, sealed).where(
            key.not_like(STAFF_ESCROW + "%"), key.not_like(FINDING_ESCROW + "%")
        )
        return [(row[0], bytes(row[1])) for row in conn.execute(query)]
    keys = sorted(set(person_keys))
    found: list[tuple[str, bytes]] = []
    for start in range(0, len(keys), 500):
        query = select(key, sealed).where(key.in_(keys[start : start + 500]))
        found += [(row[0], bytes(row[1])) for row in conn.execute(query)]
    return found


def any_escrow(conn: Connection) -> bytes | None:
    """One escrow, whichever: enough to tell whether a key is oversight's."""
    return conn.scalar(select(t.person_secrets.c.escrow).limit(1))
