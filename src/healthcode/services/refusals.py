"""Recording refused input: what was refused and why, in a table of its own."""

from __future__ import annotations

from datetime import datetime

from healthcode.errors import HealthcodeError
from healthcode.store import refusals as repo
from healthcode.store.database import Database
from healthcode.store.refusals import RefusedStaff

__all__ = ["Refusals", "RefusedStaff"]


class Refusals:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self, error: HealthcodeError, *, route: str, source_id: str | None, now: datetime,
        by: RefusedStaff | None,
    ) -> int:  # fmt: skip
        """The refusal's row id. ``by``: the staff member whose act this was (never a person: their refusals stay
        anonymous), so oversight can see who keeps trying what the checks refuse. It has no
        default: two console forms written beside it left it out, and their refusals named
        nobody (`refused_acts` never saw them)."""
        # Its own transaction: the refused write has already rolled back, whole.
        with self._db.write() as conn:
            return repo.record(
                conn, at=now, code=error.code, route=route[:128], source_id=source_id, by=by
            )
