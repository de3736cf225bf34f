"""Identity cards for people without phones: signed identity, no colour."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from healthcode.credentials import passes

from .conftest import COMMITMENT, ISSUER_A, ISSUER_B, T0, Issuer

VALID = timedelta(days=5 * 365)
CLAIMS = passes.IdentityClaims(ISSUER_A.region, "王*明", COMMITMENT, T0, T0 + VALID)


def _card(claims: passes.IdentityClaims = CLAIMS, issuer: Issuer = ISSUER_A) -> str:
    return passes.issue_identity_card(claims, issuer.key, issuer.kid)


def test_round_trip(trust: passes.TrustList) -> None:
    text = _card()
    assert text.startswith("HCI1:")
    verified = passes.verify_identity_card(text, trust, T0 + timedelta(days=100))
    assert verified == passes.VerifiedIdentityCard(
        "王*明", COMMITMENT, ISSUER_A.region, ISSUER_A.kid, T0 + VALID
    )


def test_a_card_carries_no_colour() -> None:
    assert "colour" not in {f.name for f in dataclasses.fields(passes.IdentityClaims)}
    assert "colour" not in {f.name for f in dataclasses.fields(passes.VerifiedIdentityCard)}


def test_a_pass_is_not_a_card(trust: passes.TrustList) -> None:
    text = ISSUER_A.pass_text()
    with pytest.raises(passes.PrefixError):
        passes.verify_identity_card(text, trust, T0)
    with pytest.raises(passes.ClaimsError):
        passes.verify_identity_card("HCI1:" + text[5:], trust, T0)


def test_key_without_identity_card_usage(trust: passes.TrustList) -> None:
    claims = dataclasses.replace(CLAIMS, issuer=ISSUER_B.region)
    with pytest.raises(passes.KeyUsageError):
        passes.verify_identity_card(_card(claims, ISSUER_B), trust, T0)


def test_expired_card(trust: passes.TrustList) -> None:
    short = dataclasses.replace(CLAIMS, valid_until=T0 + timedelta(days=1))
    with pytest.raises(passes.ExpiredError):
        passes.verify_identity_card(_card(short), trust, T0 + timedelta(days=1))


def test_card_lifetime_is_bounded() -> None:
    with pytest.raises(passes.ClaimsError):
        _card(dataclasses.replace(CLAIMS, valid_until=T0 + timedelta(days=20 * 365)))
