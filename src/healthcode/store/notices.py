"""Rows of the notices outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from healthcode.store import tables as t


def insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(t.notices.insert(), list(rows))


def of_person(conn: Connection, person_key: str, limit: int) -> list[Row[Any]]:
    query = (
        select(t.notices)
        .where(t.notices.c.person_key == person_key)
        .order_by(t.notices.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query))
