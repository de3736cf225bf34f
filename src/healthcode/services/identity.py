"""The local identity provider: registers people and tells who a person key belongs to.

It stands in for a real provider (an OIDC issuer, a national identity app): it derives the
pseudonymous person key from the provider's id, so a clear ID never reaches the rest of the
system. See docs/architecture.md for how another provider plugs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from healthcode.domain.dcc import HolderIdentity, icao_standardise
from healthcode.domain.people import person_key_for
from healthcode.services.guardianships import Guardianships
from healthcode.store import dcc as dcc_repo
from healthcode.store import registry as repo
from healthcode.store import staff as staff_repo
from healthcode.store.database import Database


@dataclass(frozen=True)
class PersonRecord:
    person_key: str
    display_name: str
    home_area: str


class LocalIdentityProvider:
    def __init__(self, db: Database, pseudonym_secret: bytes, guardianships: Guardianships) -> None:
        self._db = db
        self._secret = pseudonym_secret
        self._guardianships = guardianships

    def person_key(self, identity_id: str) -> str:
        return person_key_for(identity_id, self._secret)

    def register(
        self,
        identity_id: str,
        display_name: str,
        home_area: str,
        *,
        now: datetime,
        latin_name: tuple[str, str | None] | None = None,
        birth_date: date | None = None,
    ) -> str:
        """Register a person; ``latin_name`` (family, given) as in their passport and the date
        of birth are what a DCC they submit is matched on."""
        key = self.person_key(identity_id)
        with self._db.write() as conn:
            repo.save_person(conn, key, display_name, home_area, now)
            if latin_name is not None or birth_date is not None:
                dcc_repo.save_identity(conn, key, matching_attributes(latin_name, birth_date))
        return key

    def register_many(
        self,
        people: list[tuple[str, str, str]],
        *,
        now: datetime,
        identities: list[HolderIdentity] | None = None,
        households: list[str] | None = None,
    ) -> list[str]:
        """Register (identity id, display name, home area) triples in one transaction, with
        each one's Latin-script name and date of birth, and household (hukou), if given."""
        keys = [self.person_key(identity_id) for identity_id, _, _ in people]
        with self._db.write() as conn:
            repo.save_people(
                conn,
                [(key, name, home) for key, (_, name, home) in zip(keys, people, strict=True)],
                now,
            )
            if identities is not None:
                dcc_repo.save_identities(conn, list(zip(keys, identities, strict=True)))
            if households is not None:
                repo.save_households(conn, list(zip(keys, households, strict=True)))
        return keys

    def holder_identity(self, person_key: str) -> HolderIdentity | None:
        """The attributes a DCC is matched on, if the person has any registered."""
        with self._db.read() as conn:
            return dcc_repo.identity(conn, person_key)

    def add_guardian(self, guardian: str, dependant: str, *, now: datetime) -> bool:
        """Record a guardianship, logged (`Guardianships.record`); False if it was already."""
        return self._guardianships.record(guardian, dependant, now=now)

    def dependants(self, guardian: str) -> list[str]:
        with self._db.read() as conn:
            return staff_repo.dependants(conn, guardian)

    def lookup(self, person_key: str) -> PersonRecord | None:
        with self._db.read() as conn:
            found = repo.person(conn, person_key)
        return None if found is None else PersonRecord(person_key, *found)


def matching_attributes(
    latin_name: tuple[str, str | None] | None, birth_date: date | None
) -> HolderIdentity:
    """A person's matching attributes, the Latin-script name standardised as ICAO 9303 does."""
    family, given = latin_name if latin_name is not None else (None, None)
    return HolderIdentity(
        family_name=icao_standardise(family) or None if family else None,
        given_name=icao_standardise(given) or None if given else None,
        birth_date=birth_date,
    )
