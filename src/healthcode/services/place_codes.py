"""Venues, their place-code keys, their rotating and printed codes, and checking a scanned code.

A venue device shows a code that rotates every few seconds (policy), signed with the venue's
own key, derived from the places secret (services/place_keys.py) and registered in the log
on first use. Checking a scanned code (its signature and freshness) is what proves presence
(services/places.py records the scan).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from healthcode.credentials.passes import (
    PassError,
    PlaceCodeCheck,
    PlaceCodeChecker,
    UnknownVenueError,
    VenueKey,
    VenueKeyring,
    key_id_for,
    peek_place_code,
    place_code,
    raw_public_key,
    static_place_code,
    window_of,
    window_start,
)
from healthcode.domain.log_entries import registry_entry
from healthcode.errors import NotFound
from healthcode.services import transparency
from healthcode.services.pass_refusals import refused
from healthcode.services.place_keys import DerivedKeys
from healthcode.services.places_policy import PlacesPolicy
from healthcode.services.trust_lists import b64url, whole_second
from healthcode.store import places as repo
from healthcode.store import tables as t
from healthcode.store.database import Database

_VENUE_TTL = timedelta(minutes=5)  # venue names and areas are re-read at least this often


@dataclass(frozen=True)
class VenueInfo:
    id: str
    name_zh: str
    name_en: str
    area: str
    authority_id: str


@dataclass(frozen=True)
class PlaceCodeView:
    venue: VenueInfo
    text: str
    window: int | None  # None: a printed static code
    valid_from: datetime | None
    valid_until: datetime | None


@dataclass
class _Caches:
    ring: VenueKeyring = field(default_factory=lambda: VenueKeyring(()))
    ring_loaded: bool = False
    venues: dict[str, tuple[VenueInfo, datetime]] = field(default_factory=dict)


class PlaceCodes:
    """Venues and their codes for the places service (which shares its write lock)."""

    def __init__(
        self, db: Database, keys: DerivedKeys, policy: PlacesPolicy, lock: threading.Lock
    ) -> None:
        self._db = db
        self._keys = keys
        self.policy = policy
        self._lock = lock  # the places' write lock, held around every write of places
        self._caches = _Caches()

    def venue(self, venue_id: str, now: datetime) -> VenueInfo:
        found = self.venue_infos([venue_id], now).get(venue_id)
        if found is None:
            raise NotFound("evidence.venue_unknown")
        return found

    def venue_infos(self, venue_ids: Sequence[str], now: datetime) -> dict[str, VenueInfo]:
        cache = self._caches.venues
        found: dict[str, VenueInfo] = {}
        missing = []
        for venue_id in set(venue_ids):
            cached = cache.get(venue_id)
            if cached is not None and now - cached[1] < _VENUE_TTL:
                found[venue_id] = cached[0]
            else:
                missing.append(venue_id)
        if missing:
            with self._db.read() as conn:
                rows = repo.venues(conn, missing)
            for row in rows.values():
                info = VenueInfo(row.id, row.name_zh, row.name_en, row.area_code, row.authority_id)
                cache[row.id] = (info, now)
                found[row.id] = info
        return found

    def venue_key(self, conn: Connection, venue_id: str, now: datetime) -> tuple[int, bytes]:
        """(generation, key id) of the venue's key valid now; registers one if it has none."""
        row = repo.venue_key_of(conn, venue_id)
        if row is not None and row.not_before <= now < row.not_after - self.policy.code_interval:
            return row.generation, bytes.fromhex(row.key_id)
        generation = (row.generation if row else 0) + 1
        public = self._keys.venue(venue_id, generation).public_key()
        key_id = key_id_for(public)
        start = whole_second(now)
        record = {
            "key_id": key_id.hex(),
            "venue": venue_id,
            "public_key": b64url(raw_public_key(public)),
            "not_before": start.isoformat(),
            "not_after": (start + self.policy.key_lifetime).isoformat(),
            "generation": generation,
        }
        index = transparency.append_one(
            conn, "registry", registry_entry("venue_key", record, now), now
        )
        repo.insert_venue_key(
            conn,
            {
                "key_id": key_id.hex(),
                "venue_id": venue_id,
                "generation": generation,
                "public_key": raw_public_key(public),
                "not_before": start,
                "not_after": start + self.policy.key_lifetime,
                "registered_at": now,
                "log_index": index,
            },
        )
        self._caches.ring_loaded = False
        return generation, key_id

    def _signing(self, venue_id: str, now: datetime) -> tuple[VenueInfo, Any, bytes]:
        venue = self.venue(venue_id, now)
        with self._db.read() as conn:
            row = repo.venue_key_of(conn, venue_id)
        if row is not None and row.not_before <= now < row.not_after - self.policy.code_interval:
            generation, key_id = row.generation, bytes.fromhex(row.key_id)
        else:
            with self._lock, self._db.write() as conn:
                generation, key_id = self.venue_key(conn, venue_id, now)
        return venue, self._keys.venue(venue_id, generation), key_id

    def current_code(self, venue_id: str, now: datetime) -> PlaceCodeView:
        """The venue's rotating code for the window `now` falls in."""
        venue, key, key_id = self._signing(venue_id, now)
        window = window_of(now, self.policy.code_interval)
        return PlaceCodeView(
            venue=venue,
            text=place_code(venue_id, window, key, key_id),
            window=window,
            valid_from=window_start(window, self.policy.code_interval),
            valid_until=window_start(window + 1, self.policy.code_interval),
        )

    def static_code(self, venue_id: str, now: datetime) -> PlaceCodeView:
        """A printable code for places without a device: every scan of it is unverified."""
        venue, key, key_id = self._signing(venue_id, now)
        return PlaceCodeView(venue, static_place_code(venue_id, key, key_id), None, None, None)

    def keyring(self) -> VenueKeyring:
        caches = self._caches
        if not caches.ring_loaded:
            with self._db.read() as conn:
                rows = repo.venue_keys(conn)
            caches.ring = VenueKeyring.of(
                VenueKey(row.venue_id, bytes.fromhex(row.key_id), bytes(row.public_key),
                         row.not_before, row.not_after)
                for row in rows
            )  # fmt: skip
            caches.ring_loaded = True
        return caches.ring

    def check_code(self, text: str, now: datetime) -> PlaceCodeCheck:
        """Check a scanned code's signature and freshness; refusals carry the codec's code."""
        return self.check_with(self.checker(now), text, now)

    def checker(self, now: datetime, reuse: PlaceCodeChecker | None = None) -> PlaceCodeChecker:
        """A checker of codes scanned at `now` with the current keyring (``reuse``, if it has
        that keyring: a gateway's batch checks all its codes with one)."""
        caches = self._caches
        if reuse is not None and caches.ring_loaded and reuse.keys is caches.ring:
            return reuse
        policy = self.policy
        return PlaceCodeChecker(self.keyring(), now, policy.code_interval, policy.freshness)

    def check_with(self, checker: PlaceCodeChecker, text: str, now: datetime) -> PlaceCodeCheck:
        """`check_code` with a checker made for `now` (`checker`)."""
        try:
            try:
                return checker.check(text)
            except UnknownVenueError:
                # Perhaps a key another process registered since the ring was loaded.
                _venue, _window, key_id = peek_place_code(text)
                with self._db.read() as conn:
                    known = conn.scalar(
                        select(t.venue_keys.c.key_id).where(t.venue_keys.c.key_id == key_id.hex())
                    )
                if known is None:
                    raise
                self._caches.ring_loaded = False
                return self.checker(now).check(text)
        except PassError as error:
            raise refused(error) from None
