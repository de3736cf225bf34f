"""The refusal table: one row per refused input, with no personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from healthcode.store import tables as t


def record(conn: Connection, *, at: datetime, code: str, route: str, source_id: str | None) -> None:
    conn.execute(t.refusals.insert().values(at=at, code=code, route=route, source_id=source_id))


def count(conn: Connection, code: str | None = None) -> int:
    query = select(func.count()).select_from(t.refusals)
    if code is not None:
        query = query.where(t.refusals.c.code == code)
    return int(conn.scalar(query) or 0)
