"""Regional checkpoints the national log recorded: the table and its queries.

One row per ``regional_checkpoint`` entry: the region's origin, the size and root its signed
note states, the note itself and the key that verified it. A region's latest row is what its
next checkpoint must be proven consistent with; the self-check rebuilds each entry from its
row. The row is written in the transaction that appends its entry, so both commit or neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    LargeBinary,
    Row,
    Table,
    Text,
    UniqueConstraint,
    select,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import metadata

regional_checkpoints = Table(
    "regional_checkpoints",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),  # its entry
    Column("origin", Text, nullable=False),  # the region's log origin (its checkpoints' first line)
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("key", Text, nullable=False),  # the vkey that verified the note
    Column("note", Text, nullable=False),  # the signed note as the region served it
    Column("previous_size", BigInteger, nullable=False),  # the size recorded before, 0 if none
    Column("recorded_at", Instant, nullable=False),
    # A region's sizes only grow, so one size is recorded once; also the index for `latest`.
    UniqueConstraint("origin", "size"),
)


@dataclass(frozen=True)
class RegionalCheckpoint:
    log_index: int
    origin: str
    size: int
    root: bytes
    key: str
    note: str
    previous_size: int
    recorded_at: datetime


def _stored(row: Row[Any]) -> RegionalCheckpoint:
    return RegionalCheckpoint(
        log_index=int(row.log_index),
        origin=row.origin,
        size=int(row.size),
        root=bytes(row.root),
        key=row.key,
        note=row.note,
        previous_size=int(row.previous_size),
        recorded_at=row.recorded_at,
    )


def latest(conn: Connection, origin: str) -> RegionalCheckpoint | None:
    """The largest checkpoint recorded for ``origin``, if any."""
    c = regional_checkpoints.c
    row = conn.execute(
        select(regional_checkpoints).where(c.origin == origin).order_by(c.size.desc()).limit(1)
    ).first()
    return None if row is None else _stored(row)


def insert(conn: Connection, recorded: RegionalCheckpoint) -> None:
    conn.execute(
        regional_checkpoints.insert().values(
            log_index=recorded.log_index,
            origin=recorded.origin,
            size=recorded.size,
            root=recorded.root,
            key=recorded.key,
            note=recorded.note,
            previous_size=recorded.previous_size,
            recorded_at=recorded.recorded_at,
        )
    )


def all_recorded(conn: Connection) -> list[RegionalCheckpoint]:
    """Every recorded checkpoint, by origin, then size."""
    c = regional_checkpoints.c
    query = select(regional_checkpoints).order_by(c.origin, c.size)
    return [_stored(row) for row in conn.execute(query)]
