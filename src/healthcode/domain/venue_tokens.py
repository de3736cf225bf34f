"""Venue device tokens the operator issues, and their log entries (docs/transparency-log.md).

A venue's device signs in with a token the operator mints (``healthcode venue token``, the
demo's venue link). Whoever holds one shows the venue's place codes and checks identity cards
in the venue's name, and each card check is a read of a person's record recorded as the
venue's access: an operator minting one quietly could read cards as the venue. So each is a
``venue_token`` entry when it is made, naming the venue in the clear (venues are registered
and public, no person's data), the token's validity and that the operator issued it; each
card check made with it is a ``venue_token_use`` entry naming the check's ``access`` entry, so
the reads are the token's, not taken for the venue's own; and the venue's own page lists every
token with the checks made with it (web/pages/places.py). No I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from healthcode.domain.log_entries import encode_entry, instant_text
from healthcode.domain.token_validity import stated_validity

OPERATOR = "operator"  # who issued it: a venue's device has no sign-in of its own here
# A device is left signed in at its venue (a tablet by the door): a month by default, so it
# is not re-linked every day, and at most a season (90 days), so a token lost with a device
# stops working within one. Under a minute it could not even be opened.
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(days=90)
# The acts recorded as made with such a token, by their entry's kind: a card check, the only
# read of a person's record a venue's device makes (services/passes.py). Showing the place code
# reads no one's record and writes nothing.
ACTS = frozenset({"access"})


def validity(now: datetime, ttl: timedelta) -> tuple[datetime, datetime]:
    """The token's validity as it states it, refused outside `SHORTEST`..`LONGEST`."""
    return stated_validity(
        now, ttl, shortest=SHORTEST, longest=LONGEST, refusal="venue_token.ttl_invalid"
    )


def venue_token_entry(*, venue_id: str, valid_from: datetime, valid_until: datetime) -> bytes:
    """The operator issued a device token for venue ``venue_id``, valid from ``valid_from``
    until ``valid_until``."""
    return encode_entry(
        "venue_token",
        {
            "venue": venue_id,
            "issued_by": OPERATOR,
            "valid_from": instant_text(valid_from),
            "valid_until": instant_text(valid_until),
        },
    )


def venue_token_use_entry(*, token_index: int, act_index: int, act: str, at: datetime) -> bytes:
    """The act logged as entry ``act_index`` (of kind ``act``: a card check's ``access``) was
    made with the device token the operator issued in entry ``token_index``. No tag: the
    act's entry names the venue, and this one only says which token made it."""
    return encode_entry(
        "venue_token_use",
        {"token": token_index, "entry": act_index, "act": act, "at": instant_text(at)},
    )
