"""Appending to the transparency log inside the caller's write transaction.

Every write of healthcode calls ``append`` before its transaction commits, so the rows and
their log entries commit together or not at all. Indices are gap-free: the caller holds the
store's single write lock, and each append takes the next index from inside that transaction
(read, or remembered from the transaction's own previous append: `store/log_bundles.next_index`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from healthcode.errors import StoreFault
from healthcode.store import log_bundles
from healthcode.store.instants import to_micros

EntryBuilder = Callable[[int], bytes]  # given its index, the entry's bytes
# An entry's bytes, or its builder where they hold its own index (a person's pseudonym is
# keyed by it): bytes are taken as they are, with no call an entry.
EntryBody = bytes | EntryBuilder


def append(conn: Connection, entries: Sequence[tuple[str, EntryBody]], now: datetime) -> list[int]:
    """Append entries (kind, bytes or builder) and return their indices, in order."""
    if not entries:
        return []
    try:
        first = log_bundles.next_index(conn)
        indices = range(first, first + len(entries))
        log_bundles.insert_entries(
            conn,
            first,
            [kind for kind, _ in entries],
            [
                body if isinstance(body, bytes) else body(index)
                for index, (_, body) in zip(indices, entries, strict=True)
            ],
            to_micros(now),
        )
    except log_bundles.BundleFault as fault:  # stored entries changed outside the log
        raise StoreFault("log.entries_missing", str(fault)) from None
    return list(indices)


def append_one(conn: Connection, kind: str, body: bytes, now: datetime) -> int:
    return append(conn, [(kind, body)], now)[0]
