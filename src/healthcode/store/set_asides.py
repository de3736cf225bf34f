"""Rows of set-asides: evidence that no longer counts, from an instant on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select

from healthcode.domain.evidence import evidence_ref
from healthcode.domain.status import SetAside
from healthcode.store import tables as t


def insert(
    conn: Connection, *, person_key: str | None, source_id: str, record_id: str | None,
    effective_at: datetime, recorded_at: datetime, reason: str, log_index: int,
) -> None:  # fmt: skip
    conn.execute(
        t.set_asides.insert().values(
            person_key=person_key,
            source_id=source_id,
            record_id=record_id,
            effective_at=effective_at,
            recorded_at=recorded_at,
            reason=reason,
            log_index=log_index,
        )
    )


_ALL = select(t.set_asides).order_by(t.set_asides.c.id)
_FOR_PERSON = (
    select(t.set_asides)
    .where(or_(t.set_asides.c.person_key.is_(None), t.set_asides.c.person_key == bindparam("key")))
    .order_by(t.set_asides.c.id)
)


def _set_aside(row: Row[Any]) -> SetAside:
    return SetAside(
        effective_at=row.effective_at,
        evidence_ref=evidence_ref(row.source_id, row.record_id) if row.record_id else None,
        source_id=row.source_id,
        person=row.person_key,
        recorded_at=row.recorded_at,
    )


def all_set_asides(conn: Connection) -> list[SetAside]:
    """All of them: there are few (revoked sources, appeal outcomes), and each is small."""
    return [_set_aside(row) for row in conn.execute(_ALL)]


def set_asides_for(conn: Connection, person_key: str) -> list[SetAside]:
    """Those that can concern one person: theirs and everyone's (a revoked source's), in the
    order of `all_set_asides`."""
    return [_set_aside(row) for row in conn.execute(_FOR_PERSON, {"key": person_key})]
