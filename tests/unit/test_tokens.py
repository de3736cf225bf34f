"""Tokens: expiry against the injected clock, audience, key rotation and revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def test_a_revoked_token_is_refused() -> None:
    revoked: set[str] = set()
    tokens = Tokens(Ed25519PrivateKey.generate(), is_revoked=revoked.__contains__)
    token = tokens.mint("hl-erqi", role="hotline", now=NOW, ttl=timedelta(minutes=15))
    claims = tokens.verify(token, audience=STAFF_AUDIENCE, now=NOW)
    revoked.add(claims.token_id)
    with pytest.raises(Unauthorized) as refused:
        tokens.verify(token, audience=STAFF_AUDIENCE, now=NOW)
    assert refused.value.detail == "revoked"
