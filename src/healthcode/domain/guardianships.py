"""Guardianships and their log entries (docs/transparency-log.md): who may read a dependant's
code, pass and card and appeal for them.

A guardian reads another person's record, so making someone a guardian is itself an act the
dependant is owed: each guardianship the operator records is a ``guardianship`` entry, and each
it ends a ``guardianship_end`` entry, both naming the two people as person tags, each under
their own secret (`log_entries.person_tag`), so either of them (and oversight, with the
escrows) can find it and no one else can tell who it concerns. No I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime

from healthcode.domain.log_entries import encode_entry, instant_text, person_tag
from healthcode.errors import InputRejected

OPERATOR = "operator"  # who records and ends guardianships: `healthcode admin guardian`


def check_pair(guardian: str, dependant: str) -> None:
    """Refuse a person as their own guardian: it would add no reader, only a record of one."""
    if guardian == dependant:
        raise InputRejected("guardianship.self")


def guardianship_entry(
    *, index: int, guardian_secret: bytes, dependant_secret: bytes, since: datetime
) -> bytes:
    """The operator recorded the person of ``guardian_secret`` as guardian of the person of
    ``dependant_secret``, from ``since``."""
    return encode_entry(
        "guardianship",
        {
            "guardian": person_tag(guardian_secret, index),
            "dependant": person_tag(dependant_secret, index),
            "since": instant_text(since),
            "recorded_by": OPERATOR,
        },
    )


def guardianship_end_entry(
    *, index: int, guardian_secret: bytes, dependant_secret: bytes, start: int | None,
    until: datetime,
) -> bytes:  # fmt: skip
    """The operator ended the guardianship recorded in entry ``start`` (``None``: one recorded
    before guardianships were logged) at ``until``: the guardian reads nothing more."""
    return encode_entry(
        "guardianship_end",
        {
            "guardian": person_tag(guardian_secret, index),
            "dependant": person_tag(dependant_secret, index),
            "start": start,
            "until": instant_text(until),
            "recorded_by": OPERATOR,
        },
    )
