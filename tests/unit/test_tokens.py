"""Tokens: expiry against the injected clock, audience, key rotation and revocation, and the
claim of a token the operator issued."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from healthcode.errors import Unauthorized
from healthcode.services.tokens import STAFF_AUDIENCE, Tokens

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_a_token_of_a_retired_key_verifies_until_it_expires() -> None:
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old = Tokens(old_key)
    token = old.mint("zz-off-1", role="official", now=NOW, ttl=timedelta(minutes=15))
    rotated = Tokens(new_key, retired_keys=[old_key.public_key()])
    assert (
        rotated.verify(token, audience=STAFF_AUDIENCE, now=NOW + timedelta(minutes=5)).subject
        == "zz-off-1"
    )
    with pytest.raises(Unauthorized):
        rotated.verify(token, audience=STAFF_AUDIENCE, now=NOW + timedelta(minutes=15))
    with pytest.raises(Unauthorized):  # a key neither current nor retired
        Tokens(new_key).verify(token, audience=STAFF_AUDIENCE, now=NOW)


def test_an_operator_issued_token_says_so_and_a_sign_in_token_does_not() -> None:
    tokens = Tokens(Ed25519PrivateKey.generate())
    issued = tokens.mint(
        "zz-sup-1", role="supervisor", now=NOW, ttl=timedelta(minutes=15), token_id="ab" * 16,
        operator=True,
    )  # fmt: skip
    claims = tokens.verify(issued, audience=STAFF_AUDIENCE, now=NOW)
    assert (claims.operator_issued, claims.token_id) == (True, "ab" * 16)
    assert jwt.decode(issued, options={"verify_signature": False})["issued_by"] == "operator"
    signed_in = tokens.mint("zz-sup-1", role="supervisor", now=NOW, ttl=timedelta(minutes=15))
    assert not tokens.verify(signed_in, audience=STAFF_AUDIENCE, now=NOW).operator_issued


def test_a_revoked_token_is_refused() -> None:
    revoked: set[str] = set()
    tokens = Tokens(Ed25519PrivateKey.generate(), is_revoked=revoked.__contains__)
    token = tokens.mint("hl-erqi", role="hotline", now=NOW, ttl=timedelta(minutes=15))
    claims = tokens.verify(token, audience=STAFF_AUDIENCE, now=NOW)
    revoked.add(claims.token_id)
    with pytest.raises(Unauthorized) as refused:
        tokens.verify(token, audience=STAFF_AUDIENCE, now=NOW)
    assert refused.value.detail == "revoked"


def test_a_checked_token_is_checked_again_for_each_audience_and_instant() -> None:
    """What is remembered of a token is only what its bytes decide: another audience is
    refused, and expiry is checked against each call's instant."""
    tokens = Tokens(Ed25519PrivateKey.generate())
    token = tokens.mint("hl-erqi", role="hotline", now=NOW, ttl=timedelta(minutes=15))
    assert tokens.verify(token, audience=STAFF_AUDIENCE, now=NOW).subject == "hl-erqi"
    with pytest.raises(Unauthorized):
        tokens.verify(token, audience="healthcode:person", now=NOW)
    with pytest.raises(Unauthorized) as expired:
        tokens.verify(token, audience=STAFF_AUDIENCE, now=NOW + timedelta(minutes=15))
    assert expired.value.detail == "expired"
    assert tokens.check(token, audience=[STAFF_AUDIENCE], now=NOW).token_id


def test_revocation_looked_up_later_is_read_after_the_call() -> None:
    """`revoked_later` answers from the store as it is once asked (several at once)."""
    revoked: set[str] = set()
    asked: list[list[str]] = []

    def among(jtis: Sequence[str]) -> set[str]:
        asked.append(list(jtis))
        return revoked & set(jtis)

    tokens = Tokens(Ed25519PrivateKey.generate(), revoked_among=among)
    token = tokens.mint("p", role="person", now=NOW, ttl=timedelta(minutes=15))
    claims = tokens.check(token, audience=["healthcode:person"], now=NOW)
    assert tokens.revoked_later(claims.token_id).result(10) is False
    revoked.add(claims.token_id)
    assert tokens.revoked_later(claims.token_id).result(10) is True
    assert tokens.revoked_later("another").result(10) is False
    assert all(len(group) >= 1 for group in asked)
