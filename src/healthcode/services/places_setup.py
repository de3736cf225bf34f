"""Wiring the place, pass and trust-list services from one places secret (for bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass

from healthcode.services.derivation import Derivation
from healthcode.services.escrow import PersonSecrets
from healthcode.services.log_reader import LogReader
from healthcode.services.passes import Passes
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.places import Places
from healthcode.services.places_policy import PlacesPolicy, places_policy
from healthcode.services.rulebooks import Rulebooks
from healthcode.services.trust_lists import TrustLists
from healthcode.store.database import Database


@dataclass(frozen=True)
class PlaceServices:
    trust_lists: TrustLists
    places: Places
    passes: Passes


def build_place_services(
    db: Database,
    derivation: Derivation,
    rulebooks: Rulebooks,
    log: LogReader,
    secrets: PersonSecrets,
    places_master: bytes,
    policy: PlacesPolicy | None = None,
) -> PlaceServices:
    policy = policy or places_policy()
    keys = DerivedKeys(places_master)
    trust_lists = TrustLists(db, keys, policy)
    return PlaceServices(
        trust_lists=trust_lists,
        places=Places(db, derivation, rulebooks, log, keys, policy),
        passes=Passes(db, derivation, trust_lists, secrets, policy),
    )
