"""The offline verifier: a pass or identity card, a cached trust list, an instant; no network,
no store, nothing written. Used by `healthcode pass verify` and by anything embedding the
check (a venue device): it answers what a venue may learn, or the refusal with its code.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from healthcode.credentials.passes import (
    IDENTITY_PREFIX,
    PassError,
    TrustList,
    key_id_for,
    parse_trust_list,
    verify_identity_card,
    verify_pass,
)
from healthcode.errors import InputRejected
from healthcode.services.pass_refusals import refused


@dataclass(frozen=True)
class OfflineVerdict:
    """What the holder shows: a pass's colour, or (for a card) no colour; never more."""

    kind: str  # "pass" | "identity-card"
    colour: str | None
    valid_until: datetime
    masked_name: str
    issuer: str


def parse_anchor(value: str) -> tuple[bytes, Ed25519PublicKey]:
    """A trust anchor given as the base64url (or base64) raw 32-byte Ed25519 public key."""
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "==")
        public = Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise InputRejected("trust.signature", "the anchor is not a 32-byte Ed25519 key") from None
    return key_id_for(public), public


def anchors_of(values: Iterable[str]) -> dict[bytes, Ed25519PublicKey]:
    return dict(parse_anchor(value) for value in values)


def read_trust_list(
    document: bytes | str, anchors: Mapping[bytes, Ed25519PublicKey], *, min_version: int = 0
) -> TrustList:
    """A cached trust list, checked against the anchors (and not older than `min_version`)."""
    try:
        return parse_trust_list(document, anchors, min_version=min_version)
    except PassError as error:
        raise refused(error) from None


def verify_offline(text: str, trust_list: TrustList, at: datetime) -> OfflineVerdict:
    """Verify a pass (`HCP1:`) or an identity card (`HCI1:`) at `at`; raises `PassRefused`."""
    text = text.strip() if isinstance(text, str) else text
    try:
        if isinstance(text, str) and text.startswith(IDENTITY_PREFIX):
            card = verify_identity_card(text, trust_list, at)
            return OfflineVerdict(
                "identity-card", None, card.valid_until, card.masked_name, card.issuer
            )
        verified = verify_pass(text, trust_list, at)
    except PassError as error:
        raise refused(error) from None
    return OfflineVerdict(
        "pass", str(verified.colour), verified.valid_until, verified.masked_name, verified.issuer
    )
