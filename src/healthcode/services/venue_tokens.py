"""Venue device tokens the operator issues, each logged when made.

A venue's device signs in with a token the operator mints (``healthcode venue token``, the
demo's venue link); with it, its holder shows the venue's place codes and checks identity
cards, reads recorded as the venue's. So each is a ``venue_token`` entry naming the venue,
with its row, in one transaction before the token exists, and its claims say ``issued_by:
operator`` and carry the row's id (``jti``). The venue's page lists them, so no device signs
in as a venue without the venue's people being able to see it was issued
(domain/venue_tokens.py).
"""

from __future__ import annotations

import secrets as token_secrets
from datetime import datetime, timedelta

from healthcode.domain.venue_tokens import validity, venue_token_entry
from healthcode.errors import NotFound
from healthcode.services import transparency
from healthcode.services.tokens import VENUE_AUDIENCE, Tokens
from healthcode.store import places as places_repo
from healthcode.store import venue_tokens as repo
from healthcode.store.database import Database
from healthcode.store.schema import ID
from healthcode.store.venue_tokens import IssuedVenueToken, VenueTokenView


class VenueTokens:
    def __init__(self, db: Database, tokens: Tokens) -> None:
        self._db = db
        self._tokens = tokens

    def issue(self, venue_id: str, *, now: datetime, ttl: timedelta) -> str:
        """A device token for a registered venue, lasting ``ttl``: logged with its row in one
        transaction, or refused with nothing written (an unknown venue, a lifetime out of
        bounds)."""
        valid_from, valid_until = validity(now, ttl)
        token_id = token_secrets.token_hex(16)
        with self._db.write() as conn:
            # An id no venue can have is not looked up: PostgreSQL refuses text with a NUL.
            possible = "\x00" not in venue_id and len(venue_id) <= (ID.length or 64)
            if not possible or not places_repo.venues(conn, [venue_id]):
                raise NotFound("venue_token.venue_unknown", venue_id[:64])
            entry = venue_token_entry(
                venue_id=venue_id, valid_from=valid_from, valid_until=valid_until
            )
            index = transparency.append_one(conn, "venue_token", entry, now)
            repo.insert(conn, IssuedVenueToken(token_id, venue_id, valid_from, valid_until, index))
        return self._tokens.mint(
            venue_id, role="venue", audience=VENUE_AUDIENCE, now=valid_from,
            ttl=valid_until - valid_from, token_id=token_id, operator=True,
        )  # fmt: skip

    def of_venue(self, venue_id: str) -> list[VenueTokenView]:
        """Every device token the operator issued for the venue, the newest first."""
        with self._db.read() as conn:
            return repo.of_venue(conn, venue_id)
