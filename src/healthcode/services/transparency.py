"""Appending to the transparency log inside the caller's write transaction.

Every write of healthcode calls ``append`` before its transaction commits, so the rows and
their log entries commit together or not at all. Indices are gap-free: the caller holds the
store's single write lock, and each append takes the next index from inside that transaction
(read, or remembered from the transaction's own previous append: `store/log.next_index`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from healthcode.store import log as log_repo
from healthcode.store.instants import to_micros

EntryBuilder = Callable[[int], bytes]  # given its index, the entry's bytes


def append(
    conn: Connection, entries: Sequence[tuple[str, EntryBuilder]], now: datetime
) -> list[int]:
    """Append entries (kind, builder) and return their indices, in order."""
    if not entries:
        return []
    first = log_repo.next_index(conn)
    recorded_at = to_micros(now)
    indices = range(first, first + len(entries))
    log_repo.insert_entries(
        conn,
        [
            (index, kind, build(index), recorded_at)
            for index, (kind, build) in zip(indices, entries, strict=True)
        ],
    )
    return list(indices)


def append_one(conn: Connection, kind: str, body: bytes, now: datetime) -> int:
    return append(conn, [(kind, lambda _index: body)], now)[0]
