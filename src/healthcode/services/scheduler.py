"""Time-driven status changes: everyone whose ``valid_until`` has passed is recomputed, and
everyone is recomputed once a new rulebook edition comes into force; then personal data past
the retention period is purged (``services/retention.py``). On PostgreSQL each tick first
makes the evidence table's day partitions for today and the next days (``store.partitions``).

The server runs this on an interval; ``healthcode tick`` runs it once, for cron.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from healthcode.services.bulk_recompute import recompute_bulk
from healthcode.services.derivation import Cause, Derivation
from healthcode.services.retention import PurgeSummary
from healthcode.services.rulebooks import Rulebooks
from healthcode.store import partitions
from healthcode.store import rulebooks as rulebook_repo
from healthcode.store import status as status_repo
from healthcode.store.database import Database

_BATCH = 1000


class Ticker:
    def __init__(
        self,
        db: Database,
        derivation: Derivation,
        rulebooks: Rulebooks,
        lapse_appeals: Callable[[datetime], int] | None = None,
        purge: Callable[[datetime], PurgeSummary | None] | None = None,
    ) -> None:
        self._db = db
        self._derivation = derivation
        self._rulebooks = rulebooks
        # Appeals unanswered by their deadline lapse here (services/appeals.py, invariant 8).
        self._lapse_appeals = lapse_appeals
        # Retention runs last, once every due change is recorded (services/retention.py).
        self._purge = purge
        self.last_purge: PurgeSummary | None = None

    def tick(self, *, now: datetime) -> int:
        """Recompute every due status, then purge what retention allows; returns the number
        of status changes recorded (the purge's summary is ``last_purge``)."""
        if not self._db.is_sqlite:
            with self._db.write() as conn:
                partitions.ensure_ahead(conn, now)
        total = self._apply_editions(now)
        if self._lapse_appeals is not None:
            self._lapse_appeals(now)  # each lapse recomputes its person in its own transaction
        while True:
            with self._db.write() as conn:
                due = status_repo.due(conn, now, _BATCH)
                if not due:
                    break
                total += len(self._derivation.recompute(conn, due, now=now, cause=Cause.EXPIRY))
        if self._purge is not None:
            self.last_purge = self._purge(now)
        return total

    def _apply_editions(self, now: datetime) -> int:
        """Once an edition is in force, the bulk path finds whom it changes, in one pass."""
        with self._db.read() as conn:
            if not rulebook_repo.unapplied(conn, now):
                return 0
        with self._db.write() as conn:
            pending = rulebook_repo.unapplied(conn, now)
            changes = recompute_bulk(
                conn, self._derivation, self._rulebooks, None, now=now, cause=Cause.RULEBOOK
            )
            for version in pending:
                rulebook_repo.mark_applied(conn, version, now)
        return len(changes)
