"""Telling people when something about them moves: their colour, an appeal, an order, a token
the operator issued for them, a guardianship of theirs.

Services hand notices to a `Notifier` inside the write transaction of the event itself, so a
notice exists exactly when its event committed. The default notifier is the outbox: a row per
notice, which the person page shows and which an SMS or push adapter (another `Notifier`, or a
worker reading undelivered rows) delivers. A notice carries no free text: its kind, the
appeal's or order's id (or the log index of the token's or guardianship's entry) and a step
from a closed list, rendered in the reader's language.

A token or a guardianship is told at once, not only when the person next opens their page:
a token they did not ask for is someone else holding their record, and a guardian reads it.
The guardianship notice names no guardian: its subject is the entry's log index, and the
page looks the guardian's name up from the dependant's own guardianships
(`Guardianships.names_by_entry`), as it lists their guardians; another person's key is
never the dependant's to hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import Connection

from healthcode.store import notices as repo
from healthcode.store.database import Database

NoticeKind = Literal["status", "appeal", "order", "token", "guardianship"]


@dataclass(frozen=True)
class Notice:
    person_key: str
    kind: NoticeKind
    # status: the new colour; appeal: filed, upheld, overturned, corrected, lapsed, escalated;
    # order: pending, issued, activated, refused (its request, by a supervisor), ended;
    # token: bearer_issued, login_link_issued; guardianship: added, ended
    step: str
    at: datetime
    # The appeal's or the order's id; for a token or a guardianship, its entry's log index
    # (a guardianship's end: the end's entry).
    subject: str | None = None


class Notifier(Protocol):
    def notify(self, conn: Connection, notices: Sequence[Notice]) -> None:
        """Record or send the notices, inside the caller's write transaction."""


class Outbox:
    """The notifier that keeps notices in the store (the demo's, and any adapter's source)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def notify(self, conn: Connection, notices: Sequence[Notice]) -> None:
        repo.insert(conn, [(n.person_key, n.kind, n.subject, n.step, n.at) for n in notices])

    def of_person(self, person_key: str, limit: int = 20) -> list[Notice]:
        """The person's latest notices, newest first."""
        with self._db.read() as conn:
            rows = repo.of_person(conn, person_key, limit)
        return [Notice(r.person_key, r.kind, r.step, r.at, r.subject) for r in rows]
