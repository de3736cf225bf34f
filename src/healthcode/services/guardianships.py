"""Guardianships: recorded and ended by the operator, each one a log entry in the row's own
transaction, and shown to the dependant (docs/transparency-log.md, ``guardianship``).

A guardian reads a dependant's code, pass and card and appeals for them (services/access.py,
passes.py, appeals.py), each check against the guardianships in force (``guardianships``;
those ended are kept apart, in ``guardianship_ends``). Making someone a guardian was a silent
upsert: the operator could make any person key they hold the guardian of anyone and read
their record, with nothing in the log and nothing shown to them. Now both people must be
registered, no one is their own guardian, and the dependant's page names their guardians.
The dependant is notified of each one recorded or ended, in its own transaction (a
``guardianship`` notice: step ``added`` or ``ended``, the entry's log index as subject, which
``names_by_entry`` turns into the guardian's name for the dependant's page alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.domain.guardianships import (
    check_pair,
    guardianship_end_entry,
    guardianship_entry,
)
from healthcode.errors import NotFound
from healthcode.services import transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.notifications import Notice, Notifier
from healthcode.store import guardianships as repo
from healthcode.store import registry as registry_repo
from healthcode.store.database import Database
from healthcode.store.guardianships import Guardianship


@dataclass(frozen=True)
class GuardianOf:
    """A guardian as their dependant is shown them: by name (their person key is another
    person's pseudonym, not the dependant's to hold), since when, and the entry that logs it."""

    name: str
    since: datetime
    log_index: int | None


class Guardianships:
    def __init__(self, db: Database, secrets: PersonSecrets, notifier: Notifier) -> None:
        self._db = db
        self._secrets = secrets
        self._notifier = notifier

    def record(self, guardian: str, dependant: str, *, now: datetime) -> bool:
        """Record ``guardian`` as guardian of ``dependant`` from ``now``, with its entry; False
        if it is recorded already, when nothing is written (one recorded before guardianships
        were logged is logged now, keeping its date, and the dependant told of it: they were
        not before)."""
        check_pair(guardian, dependant)
        with self._db.write() as conn:
            _check_people(conn, guardian, dependant)
            found = repo.find(conn, guardian, dependant)
            if found is not None and found.log_index is not None:
                return False
            since = now if found is None else found.since
            index = self._append(conn, "guardianship", guardian, dependant, now, lambda i, g, d: (
                guardianship_entry(index=i, guardian_secret=g, dependant_secret=d, since=since)
            ))  # fmt: skip
            if found is None:
                repo.insert(conn, Guardianship(dependant, guardian, since, index))
            else:
                repo.set_logged(conn, guardian, dependant, index)
            self._tell(conn, dependant, "added", index, now)
        return True

    def end(self, guardian: str, dependant: str, *, now: datetime) -> None:
        """End the guardianship at ``now``, with its entry: the guardian reads nothing more."""
        check_pair(guardian, dependant)
        with self._db.write() as conn:
            found = repo.find(conn, guardian, dependant)
            if found is None:  # an unknown person's too: they can be no one's guardian
                raise NotFound("guardianship.not_found")
            start = found.log_index
            index = self._append(conn, "guardianship_end", guardian, dependant, now, (
                lambda i, g, d: guardianship_end_entry(
                    index=i, guardian_secret=g, dependant_secret=d, start=start, until=now
                )
            ))  # fmt: skip
            repo.end(conn, found, index, now)
            self._tell(conn, dependant, "ended", index, now)

    def guardians_of(self, dependant: str) -> list[GuardianOf]:
        """The dependant's guardians in force, by name."""
        with self._db.read() as conn:
            found = repo.guardians_of(conn, dependant)
            names = {g.guardian: registry_repo.person(conn, g.guardian) for g in found}
        return [
            GuardianOf(named[0] if (named := names[g.guardian]) else "", g.since, g.log_index)
            for g in found
        ]

    def names_by_entry(self, dependant: str, indices: Iterable[int]) -> dict[int, str]:
        """The guardian's name by the log index of a guardianship's entry or its end's, for
        the dependant's guardianships only: their notices name the guardian this way."""
        with self._db.read() as conn:
            keys = repo.guardians_by_entry(conn, dependant, set(indices))
            names = {key: registry_repo.person(conn, key) for key in set(keys.values())}
        return {i: named[0] for i, key in keys.items() if (named := names[key])}

    def _tell(self, conn: Connection, dependant: str, step: str, index: int, now: datetime) -> None:
        """Notify the dependant only: the guardian made no change to their own record."""
        notice = Notice(dependant, "guardianship", step, now, subject=str(index))
        self._notifier.notify(conn, [notice])

    def _append(
        self, conn: Connection, kind: str, guardian: str, dependant: str, now: datetime,
        body: Callable[[int, bytes, bytes], bytes],
    ) -> int:  # fmt: skip
        """The entry of ``kind`` naming both people, each by their own secret, escrowed."""
        self._secrets.escrow_missing(conn, [guardian, dependant], now)
        g, d = self._secrets.secret(guardian), self._secrets.secret(dependant)
        return transparency.append(conn, [(kind, lambda index: body(index, g, d))], now)[0]


def _check_people(conn: Connection, guardian: str, dependant: str) -> None:
    """Both are registered people (`store/registry.person`, as every reader checks)."""
    if registry_repo.person(conn, guardian) is None:
        raise NotFound("guardianship.guardian_unknown")
    if registry_repo.person(conn, dependant) is None:
        raise NotFound("guardianship.dependant_unknown")
