"""Time-driven status changes: everyone whose ``valid_until`` has passed is recomputed.

The server runs this on an interval; ``healthcode tick`` runs it once, for cron.
"""

from __future__ import annotations

from datetime import datetime

from healthcode.services.derivation import Cause, Derivation
from healthcode.store import status as status_repo
from healthcode.store.database import Database

_BATCH = 1000


class Ticker:
    def __init__(self, db: Database, derivation: Derivation) -> None:
        self._db = db
        self._derivation = derivation

    def tick(self, *, now: datetime) -> int:
        """Recompute every due status; returns the number of status changes recorded."""
        total = 0
        while True:
            with self._db.write() as conn:
                due = status_repo.due(conn, now, _BATCH)
                if not due:
                    return total
                total += len(self._derivation.recompute(conn, due, now=now, cause=Cause.EXPIRY))
