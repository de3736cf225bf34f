"""Row counts of every counted table, to show a refused input changed nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from healthcode.store.database import Database
from healthcode.store.tables import COUNTED_TABLES, refusals


def counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in COUNTED_TABLES
        }


def refusal_codes(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.scalars(select(refusals.c.code).order_by(refusals.c.id)))
