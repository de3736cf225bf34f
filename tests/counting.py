"""Row counts of every counted table, to show a refused input changed nothing.

Also ``"log entries"``: how many entries the log holds, in full bundles (a row each, 256
entries) and as rows of the bundle being filled; an append changes one or the other's rows."""

from __future__ import annotations

from sqlalchemy import func, select

from healthcode.store.database import Database
from healthcode.store.tables import COUNTED_TABLES, refusals
from healthcode.tlog import TILE_WIDTH


def counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        found = {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in COUNTED_TABLES
        }
    found["log entries"] = found["log_entries"] + TILE_WIDTH * found["log_bundles"]
    return found


def refusal_codes(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.scalars(select(refusals.c.code).order_by(refusals.c.id)))
