"""Row counts of every counted table, to show a refused input changed nothing.

The log's entries are counted as entries (``log_entries``), not as the bundle rows holding
them: an entry appended to the bundle being filled adds no row."""

from __future__ import annotations

from sqlalchemy import func, select

from healthcode.store.database import Database
from healthcode.store.tables import COUNTED_TABLES, log_bundles, refusals


def counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        found = {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in COUNTED_TABLES
            if t is not log_bundles
        }
        stamps = func.coalesce(func.sum(func.length(log_bundles.c.recorded)), 0)
        found["log_entries"] = int(conn.scalar(select(stamps))) // 8
        return found


def refusal_codes(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.scalars(select(refusals.c.code).order_by(refusals.c.id)))
