"""Person tokens the operator issues, and their log entries (docs/transparency-log.md).

Persons have no identity provider of their own here: the operator mints their bearer tokens
and sign-in links (``healthcode admin token``, the demo's links). Whoever holds one sees the
person's code, pass, records and dependants and can appeal as them, so each is a
``person_token`` entry when it is made, naming the person only by a person tag (keyed by their
secret, as their status changes are: they can find it, oversight can open it, no one else can
link it to them), the token's kind and validity and that the operator issued it; and the
person's page lists every one (web/pages/person.py). A session a sign-in link opens is that
link spent, not a new issuance, and acts with the link. Each act made with such a token (`ACTS`)
is a ``person_token_use`` entry naming the token's entry and the act's, so oversight and the
person can tell an appeal the person filed from one filed by whoever held the operator's
token; a use names no person (the token's entry does, by a tag). No I/O, no clock.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Literal

from healthcode.domain.log_entries import encode_entry, instant_text, person_tag
from healthcode.domain.token_validity import stated_validity

OPERATOR = "operator"  # who issued it: persons sign in with nothing of their own here
TokenKind = Literal["bearer", "login_link"]
BEARER: TokenKind = "bearer"  # for the API: a person's app
LOGIN_LINK: TokenKind = "login_link"  # signs in at /login, once (no bearer token)
KINDS: tuple[TokenKind, ...] = (BEARER, LOGIN_LINK)
# A person's app renews its token daily; the demo's links last a week. Longer would be a
# standing second key to the person's record in the operator's hands.
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(days=7)
# The acts recorded as made with such a token, by their entry's kind: every entry a person
# (or a guardian, for a dependant) writes over the API or the pages. An appeal filed, one taken
# to oversight, an EU DCC submitted (its own batch), and a guardian's read of a dependant's
# record. What an act causes (status changes, notices) is no act of its own, and the person's
# reads of their own record write no entry, so none is recorded (there would be one for every
# request). A scan is written into a batch whose entry is sealed later, with other people's
# scans: not an act with an entry of its own (docs/transparency-log.md).
ACTS = frozenset({"appeal_filed", "appeal_escalated", "evidence_batch", "access"})


def validity(now: datetime, ttl: timedelta) -> tuple[datetime, datetime]:
    """The token's validity as it states it, refused outside `SHORTEST`..`LONGEST`."""
    return stated_validity(
        now, ttl, shortest=SHORTEST, longest=LONGEST, refusal="person_token.ttl_invalid"
    )


def person_token_entry(
    *, index: int, person_secret: bytes, kind: str, valid_from: datetime, valid_until: datetime
) -> bytes:
    """The operator issued a token of ``kind`` for the person whose secret is
    ``person_secret``, valid from ``valid_from`` until ``valid_until``."""
    return encode_entry(
        "person_token",
        {
            "person": person_tag(person_secret, index),
            "token": kind,
            "issued_by": OPERATOR,
            "valid_from": instant_text(valid_from),
            "valid_until": instant_text(valid_until),
        },
    )


def token_commitment(token_id: str, index: int) -> str:
    """The token a use was made with, as entry ``index`` states it: an HMAC keyed by the
    token's id (its ``jti``, which only its holder and the store know). Naming the token's own
    entry instead would tie every act made with one token together in the public log, where a
    person is unlinkable across entries (DESIGN, invariant 5); this differs in every entry, and
    the holder, the self-check and oversight (from the token's row) can each recompute it."""
    return hmac.new(
        token_id.encode(), f"person-token-use:{index}".encode(), hashlib.sha256
    ).hexdigest()


def person_token_use_entry(
    *, index: int, token_id: str, act_index: int, act: str, at: datetime
) -> bytes:
    """The act logged as entry ``act_index`` (of kind ``act``) was made at ``at`` with the
    person token the operator issued whose id is ``token_id`` (`token_commitment`)."""
    return encode_entry(
        "person_token_use",
        {
            "token": token_commitment(token_id, index),
            "entry": act_index,
            "act": act,
            "at": instant_text(at),
        },
    )
