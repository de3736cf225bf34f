"""Time-driven status changes: everyone whose ``valid_until`` has passed is recomputed, and
everyone is recomputed once a new rulebook edition comes into force.

The server runs this on an interval; ``healthcode tick`` runs it once, for cron.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from healthcode.services.derivation import Cause, Derivation
from healthcode.store import rulebooks as rulebook_repo
from healthcode.store import status as status_repo
from healthcode.store import tables as t
from healthcode.store.database import Database

_BATCH = 1000


class Ticker:
    def __init__(self, db: Database, derivation: Derivation) -> None:
        self._db = db
        self._derivation = derivation

    def tick(self, *, now: datetime) -> int:
        """Recompute every due status; returns the number of status changes recorded."""
        total = self._apply_editions(now)
        while True:
            with self._db.write() as conn:
                due = status_repo.due(conn, now, _BATCH)
                if not due:
                    return total
                total += len(self._derivation.recompute(conn, due, now=now, cause=Cause.EXPIRY))

    def _apply_editions(self, now: datetime) -> int:
        total = 0
        with self._db.read() as conn:
            pending = rulebook_repo.unapplied(conn, now)
            people = (
                sorted(set(conn.scalars(select(t.evidence.c.person_key).distinct())))
                if pending
                else []
            )
        for start in range(0, len(people), _BATCH):
            with self._db.write() as conn:
                chunk = people[start : start + _BATCH]
                total += len(self._derivation.recompute(conn, chunk, now=now, cause=Cause.RULEBOOK))
        with self._db.write() as conn:
            for version in pending:
                rulebook_repo.mark_applied(conn, version, now)
        return total
