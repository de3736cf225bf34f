"""Issuing: claims -> deterministic CBOR -> COSE_Sign1 (Ed25519) -> ZLIB -> Base45 -> prefix."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import cose
from .claims import IdentityClaims, PassClaims, encode_identity_claims, encode_pass_claims
from .errors import TooLargeError
from .limits import DEFAULT_LIMITS, Limits
from .transport import compress, encode_base45

PASS_PREFIX = "HCP1:"
IDENTITY_PREFIX = "HCI1:"


def _check_key_id(key_id: bytes, limits: Limits) -> None:
    if not isinstance(key_id, bytes) or not 1 <= len(key_id) <= limits.max_key_id_bytes:
        raise ValueError(f"key_id must be 1..{limits.max_key_id_bytes} bytes")


def _text(
    prefix: str, payload: bytes, signing_key: Ed25519PrivateKey, key_id: bytes, limits: Limits
) -> str:
    text = prefix + encode_base45(compress(cose.sign(payload, signing_key, key_id)))
    if len(text) > limits.max_text_chars:  # unreachable within the claim limits; kept honest
        raise TooLargeError(
            f"issued text longer than {limits.max_text_chars} characters",
            f"签发的文本超过 {limits.max_text_chars} 个字符",
        )
    return text


def issue_pass(
    claims: PassClaims,
    signing_key: Ed25519PrivateKey,
    key_id: bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """The `HCP1:` text of a status pass; refuses (ClaimsError) claims a verifier would refuse.

    Deterministic: the same claims, key and key id always give the same text.
    """
    _check_key_id(key_id, limits)
    return _text(PASS_PREFIX, encode_pass_claims(claims, limits), signing_key, key_id, limits)


def issue_identity_card(
    claims: IdentityClaims,
    signing_key: Ed25519PrivateKey,
    key_id: bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """The `HCI1:` text of an identity card (for people without a phone): no colour in it."""
    _check_key_id(key_id, limits)
    return _text(
        IDENTITY_PREFIX, encode_identity_claims(claims, limits), signing_key, key_id, limits
    )
