"""Shared values for the pass tests: two regions' issuer keys, a venue, a signed trust list."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from healthcode.credentials import passes
from healthcode.credentials.passes import cborscan, cose, transport
from healthcode.credentials.passes.claims import CLAIM_PASS

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LIFETIME = timedelta(minutes=10)
INTERVAL = timedelta(seconds=10)
FRESHNESS = timedelta(seconds=3)
REGION_A = "cn-410100"  # Zhengzhou
REGION_B = "cn-310000"  # Shanghai
VENUE = "V-410100-000123"
COMMITMENT = hashlib.sha256(b"person commitment").digest()


def key_from(label: str) -> Ed25519PrivateKey:
    """A reproducible test key."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


@dataclass(frozen=True)
class Issuer:
    region: str
    key: Ed25519PrivateKey

    @property
    def kid(self) -> bytes:
        return passes.key_id_for(self.key.public_key())

    def trusted(self, *usages: passes.KeyUsage, days: int = 365) -> passes.TrustedKey:
        return passes.TrustedKey.of(
            self.key.public_key(),
            issuer=self.region,
            usages=usages or (passes.KeyUsage.PASS, passes.KeyUsage.IDENTITY_CARD),
            not_before=T0 - timedelta(days=30),
            not_after=T0 + timedelta(days=days),
        )

    def claims(self, **changes: Any) -> passes.PassClaims:
        values: dict[str, Any] = {
            "colour": passes.Colour.GREEN,
            "issuer": self.region,
            "masked_name": "王*明",
            "person_commitment": COMMITMENT,
            "issued_at": T0,
            "lifetime": LIFETIME,
        }
        values.update(changes)
        return passes.pass_claims(**values)

    def pass_text(self, **changes: Any) -> str:
        return passes.issue_pass(self.claims(**changes), self.key, self.kid)

    def claim_map(self, changes: dict[int, Any] | None = None) -> dict[int, Any]:
        """The raw CWT claim map of a valid pass, to be altered by a test."""
        return {
            1: self.region,
            4: int((T0 + LIFETIME).timestamp()),
            6: int(T0.timestamp()),
            CLAIM_PASS: {1: "green", 2: "王*明", 3: COMMITMENT},
            **(changes or {}),
        }

    def signed_text(self, payload: bytes, prefix: str = passes.PASS_PREFIX) -> str:
        """Any payload bytes, validly signed and wrapped: drives bad claims past the signature."""
        return wrap(cose.sign(payload, self.key, self.kid), prefix)


def wrap(cose_bytes: bytes, prefix: str = passes.PASS_PREFIX) -> str:
    return prefix + transport.encode_base45(transport.compress(cose_bytes))


def cbor(value: Any) -> bytes:
    return cborscan.dumps(value)


ISSUER_A = Issuer(REGION_A, key_from("region A"))
ISSUER_B = Issuer(REGION_B, key_from("region B"))
ANCHOR = key_from("national trust anchor")
VENUE_KEY = key_from("venue device")
VENUE_KID = passes.key_id_for(VENUE_KEY.public_key())
ANCHORS = {passes.key_id_for(ANCHOR.public_key()): ANCHOR.public_key()}


def trust_list(*revocations: passes.Revocation, version: int = 1) -> passes.TrustList:
    """Region A issues passes and cards; region B issues passes and signs place codes."""
    return passes.TrustList(
        version=version,
        issued_at=T0 - timedelta(days=1),
        keys=(
            ISSUER_A.trusted(),
            ISSUER_B.trusted(passes.KeyUsage.PASS, passes.KeyUsage.PLACE_CODE),
        ),
        revocations=revocations,
    )


@pytest.fixture
def trust() -> passes.TrustList:
    return trust_list()


@pytest.fixture
def keyring() -> passes.VenueKeyring:
    return passes.VenueKeyring.of(
        [
            passes.VenueKey.of(
                VENUE,
                VENUE_KID,
                VENUE_KEY.public_key(),
                T0 - timedelta(days=1),
                T0 + timedelta(days=1),
            )
        ]
    )
