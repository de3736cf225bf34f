"""Rows of the notices outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from healthcode.store import tables as t
from healthcode.store.copy import insert_plain
from healthcode.store.instants import to_micros


def insert(conn: Connection, rows: Sequence[tuple[str, str, str | None, str, datetime]]) -> None:
    """Insert notices as (person key, kind, subject, step, at) tuples."""
    insert_plain(
        conn,
        t.notices.name,
        ("person_key", "kind", "subject", "step", "at"),
        [(*row[:4], to_micros(row[4])) for row in rows],
    )


def of_person(conn: Connection, person_key: str, limit: int) -> list[Row[Any]]:
    query = (
        select(t.notices)
        .where(t.notices.c.person_key == person_key)
        .order_by(t.notices.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query))
