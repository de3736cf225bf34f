"""The validity an operator-issued token states (staff, person and venue device tokens:
domain/staff_tokens.py, person_tokens.py, venue_tokens.py), one rule for the three. No I/O,
no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from healthcode.errors import InputRejected


def stated_validity(
    now: datetime, ttl: timedelta, *, shortest: timedelta, longest: timedelta, refusal: str
) -> tuple[datetime, datetime]:
    """The token's validity as it states it (whole seconds, UTC: its ``iat`` and ``exp``), for
    a lifetime ``ttl``; refused with code ``refusal`` outside ``shortest``..``longest``."""
    if not shortest <= ttl <= longest:
        raise InputRejected(refusal, f"{ttl.total_seconds():g} s")
    start = datetime.fromtimestamp(int(now.timestamp()), UTC)
    return start, datetime.fromtimestamp(int((now + ttl).timestamp()), UTC)
