"""The local identity provider: registers people and tells who a person key belongs to.

It stands in for a real provider (an OIDC issuer, a national identity app): it derives the
pseudonymous person key from the provider's id, so a clear ID never reaches the rest of the
system. See docs/architecture.md for how another provider plugs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from healthcode.domain.people import person_key_for
from healthcode.store import registry as repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database


@dataclass(frozen=True)
class PersonRecord:
    person_key: str
    display_name: str
    home_area: str


class LocalIdentityProvider:
    def __init__(self, db: Database, pseudonym_secret: bytes) -> None:
        self._db = db
        self._secret = pseudonym_secret

    def person_key(self, identity_id: str) -> str:
        return person_key_for(identity_id, self._secret)

    def register(
        self, identity_id: str, display_name: str, home_area: str, *, now: datetime
    ) -> str:
        key = self.person_key(identity_id)
        with self._db.write() as conn:
            repo.save_person(conn, key, display_name, home_area, now)
        return key

    def register_many(self, people: list[tuple[str, str, str]], *, now: datetime) -> list[str]:
        """Register (identity id, display name, home area) triples in one transaction."""
        keys = [self.person_key(identity_id) for identity_id, _, _ in people]
        with self._db.write() as conn:
            repo.save_people(
                conn,
                [(key, name, home) for key, (_, name, home) in zip(keys, people, strict=True)],
                now,
            )
        return keys

    def add_guardian(self, guardian: str, dependant: str, *, now: datetime) -> None:
        with self._db.write() as conn:
            staff_repo.add_guardian(conn, dependant, guardian, now)

    def dependants(self, guardian: str) -> list[str]:
        with self._db.read() as conn:
            return staff_repo.dependants(conn, guardian)

    def lookup(self, person_key: str) -> PersonRecord | None:
        with self._db.read() as conn:
            found = repo.person(conn, person_key)
        return None if found is None else PersonRecord(person_key, *found)
