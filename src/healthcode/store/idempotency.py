"""Idempotency keys of orders and appeals: the table and its queries.

One row per (caller, key): which operation it was used on, a hash of the request and the id of
what the request made (an order request's id, an appeal's id). The row is written in the write
transaction of the order or appeal itself, so the two commit together or not at all. Nothing
here goes into the transparency log; rows older than the retention period are purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Index, LargeBinary, String, Table, delete, select

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

KEY_MAX = 128

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("actor_id", ID, primary_key=True),  # the caller: a staff id, or a person key
    Column("key", String(KEY_MAX), primary_key=True),  # the `Idempotency-Key` header
    Column("operation", String(16), nullable=False),  # orders | appeals
    Column("request_hash", LargeBinary(32), nullable=False),  # SHA-256 of the canonical request
    Column("result_id", ID, nullable=False),  # the order request's id, or the appeal's id
    Column("created_at", Instant, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)


@dataclass(frozen=True)
class StoredKey:
    operation: str
    request_hash: bytes
    result_id: str


def find(conn: Connection, actor_id: str, key: str) -> StoredKey | None:
    c = idempotency_keys.c
    row = conn.execute(
        select(c.operation, c.request_hash, c.result_id).where(c.actor_id == actor_id, c.key == key)
    ).first()
    if row is None:
        return None
    return StoredKey(row.operation, bytes(row.request_hash), row.result_id)


def insert(
    conn: Connection, *, actor_id: str, key: str, operation: str, request_hash: bytes,
    result_id: str, now: datetime,
) -> None:  # fmt: skip
    conn.execute(
        idempotency_keys.insert().values(
            actor_id=actor_id,
            key=key,
            operation=operation,
            request_hash=request_hash,
            result_id=result_id,
            created_at=now,
        )
    )


def purge(conn: Connection, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` keys used before ``cutoff``, oldest first."""
    c = idempotency_keys.c
    old = conn.execute(
        select(c.actor_id, c.key).where(c.created_at < cutoff).order_by(c.created_at).limit(limit)
    ).all()
    for actor_id, key in old:
        conn.execute(delete(idempotency_keys).where(c.actor_id == actor_id, c.key == key))
    return len(old)
