"""Appending to the transparency log inside the caller's write transaction.

Every write of healthcode calls ``append`` before its transaction commits, so the rows and
their log entries commit together or not at all. Indices are gap-free: the caller holds the
store's single write lock, and each append reads the last index inside that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from healthcode.store import log as log_repo

EntryBuilder = Callable[[int], bytes]  # given its index, the entry's bytes


def append(
    conn: Connection, entries: Sequence[tuple[str, EntryBuilder]], now: datetime
) -> list[int]:
    """Append entries (kind, builder) and return their indices, in order."""
    if not entries:
        return []
    first = log_repo.next_index(conn)
    rows = [
        {"idx": first + offset, "kind": kind, "body": build(first + offset), "recorded_at": now}
        for offset, (kind, build) in enumerate(entries)
    ]
    log_repo.insert_entries(conn, rows)
    return [first + offset for offset in range(len(rows))]


def append_one(conn: Connection, kind: str, body: bytes, now: datetime) -> int:
    return append(conn, [(kind, lambda _index: body)], now)[0]
