"""The refusal table: one row per refused input, with no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from healthcode.store import tables as t


@dataclass(frozen=True)
class RefusedStaff:
    """The authenticated staff member whose act was refused: accountable, so named
    (invariant 4); never a person, whose refusals name nobody."""

    id: str
    role: str
    authority_id: str | None


def record(
    conn: Connection, *, at: datetime, code: str, route: str, source_id: str | None,
    by: RefusedStaff | None = None,
) -> int:  # fmt: skip
    """Insert one refusal; its row id (a finding names it as ``refusal:<id>``)."""
    actor = {}
    if by is not None:
        actor = {"actor_id": by.id, "actor_role": by.role, "actor_authority": by.authority_id}
    inserted = conn.execute(
        t.refusals.insert().values(at=at, code=code, route=route, source_id=source_id, **actor)
    )
    key = inserted.inserted_primary_key
    assert key is not None  # an insert of one row, its key generated
    return int(key[0])


def count(conn: Connection, code: str | None = None) -> int:
    query = select(func.count()).select_from(t.refusals)
    if code is not None:
        query = query.where(t.refusals.c.code == code)
    return int(conn.scalar(query) or 0)
