"""The offline verifier: text + trust list + instant -> what a venue may learn, or a PassError.

Stages, in order (the signature is checked before any claim is interpreted):
prefix and text size -> Base45 (bounded) -> ZLIB (bounded) -> COSE_Sign1 (pre-scanned,
deterministic CBOR) -> key: known, usage, not revoked, valid at `at` -> Ed25519 signature
-> claims (exact key set, bounded values) -> issuer matches the key's authority -> issued
within the key's validity and not in the future -> not expired. It writes nothing and
makes no network call; a venue needs only the cached trust list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from . import cose
from .claims import (
    Colour,
    decode_identity_claims,
    decode_pass_claims,
    require_aware,
)
from .errors import (
    Base45Error,
    ClaimsError,
    CoseError,
    ExpiredError,
    IssuerMismatchError,
    KeyExpiredError,
    NotYetValidError,
    PassError,
    PrefixError,
    SignatureError,
    StageError,
    UnknownKeyError,
    ZlibError,
)
from .issue import IDENTITY_PREFIX, PASS_PREFIX
from .limits import DEFAULT_LIMITS, Limits
from .transport import decode_base45, decompress, strip_prefix
from .trust import KeyUsage, TrustedKey, TrustList

T = TypeVar("T")


@dataclass(frozen=True)
class VerifiedPass:
    """All a venue learns from a pass: colour, validity, masked name, and who vouches."""

    colour: Colour
    valid_until: datetime
    masked_name: str
    issuer: str
    key_id: bytes


@dataclass(frozen=True)
class VerifiedIdentityCard:
    """A verified card: the commitment is what a venue device exchanges online for a colour."""

    masked_name: str
    person_commitment: bytes
    issuer: str
    key_id: bytes
    valid_until: datetime


def guard(error_cls: type[StageError], step: Callable[[], T]) -> T:
    """Run a stage so that nothing but PassError escapes, whatever the input."""
    try:
        return step()
    except PassError:
        raise
    except Exception as exc:  # a defect no stage anticipated must still not crash callers
        raise error_cls(
            f"unanticipated {type(exc).__name__} while decoding",
            f"解码时出现意外的 {type(exc).__name__}",
        ) from exc


def open_signed(
    text: str, prefix: str, usage: KeyUsage, trust_list: TrustList, at: datetime, limits: Limits
) -> tuple[bytes, TrustedKey]:
    """The verified COSE payload and the key that signed it (claims not yet read).

    Each stage is guarded like `guard` does, without a closure per stage: `stage` names the
    error an unanticipated exception becomes (the hot path of a venue's verifier).
    """
    require_aware(at, "at")
    stage: type[StageError] = PrefixError
    try:
        body = strip_prefix(text, prefix, limits.max_text_chars)
        stage = Base45Error
        compressed = decode_base45(body, limits.max_decoded_bytes)
        stage = ZlibError
        encoded = decompress(compressed, limits)
        stage = CoseError
        message = cose.parse(encoded, limits)
        stage = UnknownKeyError
        key = trust_list.check_key(message.kid, usage, at)
        stage = SignatureError
        valid = message.signature_valid(key.verifier())
    except PassError:
        raise
    except Exception as exc:  # a defect no stage anticipated must still not crash callers
        raise stage(
            f"unanticipated {type(exc).__name__} while decoding",
            f"解码时出现意外的 {type(exc).__name__}",
        ) from exc
    if not valid:
        raise SignatureError(
            f"signature does not verify with key {key.key_id.hex()} of {key.issuer}",
            f"签名无法用 {key.issuer} 的密钥 {key.key_id.hex()} 验证",
        )
    return message.payload, key


def check_times(
    key: TrustedKey, issued_at: datetime, valid_until: datetime, at: datetime, limits: Limits
) -> None:
    """Issued within the key's validity, not in the future, and not yet expired."""
    if not key.not_before <= issued_at < key.not_after:
        raise KeyExpiredError(
            f"issued at {issued_at.isoformat()}, outside the validity of key {key.key_id.hex()}",
            f"签发时间 {issued_at.isoformat()} 不在密钥 {key.key_id.hex()} 的有效期内",
        )
    if issued_at > at + limits.clock_skew:
        raise NotYetValidError(
            f"issued at {issued_at.isoformat()}, after {at.isoformat()}",
            f"签发时间 {issued_at.isoformat()} 晚于 {at.isoformat()}",
        )
    if at >= valid_until:
        raise ExpiredError(
            f"valid until {valid_until.isoformat()}, expired at {at.isoformat()}",
            f"有效期至 {valid_until.isoformat()}，于 {at.isoformat()} 已过期",
        )


def _check_issuer(claimed: str, key: TrustedKey) -> None:
    if claimed != key.issuer:
        raise IssuerMismatchError(
            f"issuer {claimed!r} but key {key.key_id.hex()} belongs to {key.issuer!r}",
            f"签发方为 {claimed!r}，但密钥 {key.key_id.hex()} 属于 {key.issuer!r}",
        )


def verify_pass(
    text: str, trust_list: TrustList, at: datetime, *, limits: Limits = DEFAULT_LIMITS
) -> VerifiedPass:
    """Verify an `HCP1:` status pass offline at instant `at`; raises only PassError on bad input."""
    payload, key = open_signed(text, PASS_PREFIX, KeyUsage.PASS, trust_list, at, limits)
    claims = guard(ClaimsError, lambda: decode_pass_claims(payload, limits))
    _check_issuer(claims.issuer, key)
    check_times(key, claims.issued_at, claims.valid_until, at, limits)
    return VerifiedPass(
        colour=claims.colour,
        valid_until=claims.valid_until,
        masked_name=claims.masked_name,
        issuer=claims.issuer,
        key_id=key.key_id,
    )


def verify_identity_card(
    text: str, trust_list: TrustList, at: datetime, *, limits: Limits = DEFAULT_LIMITS
) -> VerifiedIdentityCard:
    """Verify an `HCI1:` identity card offline at instant `at`; raises only PassError."""
    payload, key = open_signed(
        text, IDENTITY_PREFIX, KeyUsage.IDENTITY_CARD, trust_list, at, limits
    )
    claims = guard(ClaimsError, lambda: decode_identity_claims(payload, limits))
    _check_issuer(claims.issuer, key)
    check_times(key, claims.issued_at, claims.valid_until, at, limits)
    return VerifiedIdentityCard(
        masked_name=claims.masked_name,
        person_commitment=claims.person_commitment,
        issuer=claims.issuer,
        key_id=key.key_id,
        valid_until=claims.valid_until,
    )
