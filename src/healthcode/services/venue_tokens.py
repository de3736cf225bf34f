"""Venue device tokens the operator issues, each logged when made, and the card checks made
with them, each logged as made with its token.

A venue's device signs in with a token the operator mints (``healthcode venue token``, the
demo's venue link); with it, its holder shows the venue's place codes and checks identity
cards, reads recorded as the venue's. So each is a ``venue_token`` entry naming the venue,
with its row, in one transaction before the token exists, and its claims say ``issued_by:
operator`` and carry the row's id (``jti``). Whoever signs in with one carries that id
(``Caller.operator_token``, web/auth.py, handed to the card check as the ``Reader``'s), and
each card check made with it is a ``venue_token_use`` entry naming the check's ``access``
entry, in the check's transaction (`record_uses`, called by services/access.py), as the acts
made with an operator's staff token are (services/staff_tokens.py). The venue's page lists
the tokens with the checks made with each, so no device signs in as a venue, nor reads a
card in its name, without the venue's people being able to see it (domain/venue_tokens.py).
"""

from __future__ import annotations

import secrets as token_secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from healthcode.domain.venue_tokens import (
    ACTS,
    validity,
    venue_token_entry,
    venue_token_use_entry,
)
from healthcode.errors import NotFound, Unauthorized
from healthcode.services import transparency
from healthcode.services.tokens import VENUE_AUDIENCE, Tokens
from healthcode.store import places as places_repo
from healthcode.store import venue_tokens as repo
from healthcode.store.database import Database
from healthcode.store.schema import ID
from healthcode.store.venue_tokens import IssuedVenueToken, VenueTokenUse, VenueTokenView


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


def record_uses(
    conn: Connection, token_id: str | None, *, venue_id: str, act_indices: Sequence[int],
    act: str, now: datetime,
) -> None:  # fmt: skip
    """Log that each act of the entries ``act_indices`` (of kind ``act``: the ``access``
    entries of one card check) was made by venue ``venue_id``'s device with the operator's
    token ``token_id``, a ``venue_token_use`` entry and its row for each, in the act's
    transaction (nothing for a token that carries no operator's id, ``None``). A token that
    says the operator issued it but was never logged, or was issued for another venue, checks
    nothing, nor does one at an instant outside the validity its entry states: the act is
    refused with the rest of its transaction, as a staff token's is."""
    if token_id is None:
        return
    if act not in ACTS:
        raise ValueError(f"{act!r} is not an act recorded with a venue device token")
    issued = repo.find(conn, token_id)
    if issued is None or issued.venue_id != venue_id:
        raise Unauthorized("auth.invalid_token", "a venue device token that was never logged")
    # Checked against the request's instant when it came in; the check is dated `now`, and one
    # dated outside its entry's validity would be a use the self-check reports (and halts for).
    if not issued.valid_from <= now < issued.valid_until:
        raise Unauthorized("auth.invalid_token", "outside the venue device token's validity")
    if not act_indices:
        return
    indices = transparency.append(conn, [("venue_token_use", venue_token_use_entry(
        token_index=issued.log_index, act_index=act_index, act=act, at=now,
    )) for act_index in act_indices], now)  # fmt: skip
    repo.insert_uses(conn, [
        VenueTokenUse(index, token_id, act_index, act, now)
        for index, act_index in zip(indices, act_indices, strict=True)
    ])  # fmt: skip
