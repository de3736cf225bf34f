"""The single exception tree of the pass, identity card, place code and trust list codecs.

Each class fixes a stable `code` (listed in the package README); the messages are bilingual.
Caller bugs (a naive datetime, a non-positive interval) are `ValueError`, never `PassError`.
"""

from __future__ import annotations

from datetime import datetime


class PassError(Exception):
    """Malformed, untrusted or invalid input, with a stable code and zh/en messages."""

    def __init__(self, code: str, message_en: str, message_zh: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh


class StageError(PassError):
    """Base for the errors whose code is fixed by the class."""

    code_for_stage = "pass.error"

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(self.code_for_stage, message_en, message_zh)


class PrefixError(StageError):
    """The text does not start with the expected context identifier (`HCP1:`, `HCI1:`)."""

    code_for_stage = "pass.prefix"


class Base45Error(StageError):
    """The text after the prefix is not valid Base45 (RFC 9285)."""

    code_for_stage = "pass.base45"


class ZlibError(StageError):
    """The Base45-decoded bytes are not exactly one complete ZLIB stream (RFC 1950)."""

    code_for_stage = "pass.zlib"


class TooLargeError(StageError):
    """Text, decoded bytes, decompressed bytes or CBOR item count beyond its limit."""

    code_for_stage = "pass.too_large"


class CborError(StageError):
    """Not well-formed, not deterministic, or using CBOR features the format excludes."""

    code_for_stage = "pass.cbor"


class CborDepthError(StageError):
    """CBOR arrays, maps or tags nested deeper than the limit."""

    code_for_stage = "pass.cbor_depth"


class CoseError(StageError):
    """Not a COSE_Sign1 message of the one accepted shape (tag 18, EdDSA, kid protected)."""

    code_for_stage = "pass.cose"


class UnknownKeyError(StageError):
    """The key id is not in the trust list."""

    code_for_stage = "pass.unknown_key"


class KeyUsageError(StageError):
    """The trusted key may not sign this kind of credential."""

    code_for_stage = "pass.key_usage"


class KeyRevokedError(StageError):
    """The trusted key was revoked at or before the verification instant."""

    code_for_stage = "pass.key_revoked"

    def __init__(
        self, message_en: str, message_zh: str, *, reason: str, revoked_at: datetime
    ) -> None:
        super().__init__(message_en, message_zh)
        self.reason = reason
        self.revoked_at = revoked_at


class KeyExpiredError(StageError):
    """The trusted key is outside its validity period at the verification instant."""

    code_for_stage = "pass.key_expired"


class SignatureError(StageError):
    """The Ed25519 signature does not verify with the trusted key."""

    code_for_stage = "pass.signature"


class ClaimsError(StageError):
    """The signed claims are not exactly the allowed claims, or a value is out of bounds."""

    code_for_stage = "pass.claims"


class IssuerMismatchError(StageError):
    """The `iss` claim names another authority than the one the trust list binds the key to."""

    code_for_stage = "pass.issuer"


class ExpiredError(StageError):
    """The verification instant is at or after the credential's valid-until."""

    code_for_stage = "pass.expired"


class NotYetValidError(StageError):
    """The credential was issued after the verification instant (beyond the clock skew)."""

    code_for_stage = "pass.not_yet_valid"


class PlaceMalformedError(StageError):
    """A place code text that cannot be decoded (prefix, Base45, CBOR, field shapes, size)."""

    code_for_stage = "place.malformed"


class PlaceSignatureError(StageError):
    """A place code whose signature does not verify, or signed by another venue's key."""

    code_for_stage = "place.signature"


class UnknownVenueError(StageError):
    """A place code whose venue or key is not registered."""

    code_for_stage = "place.unknown_venue"


class PlaceKeyError(StageError):
    """A place code signed by a known key that may not sign place codes at that instant."""

    code_for_stage = "place.key"


class TrustListInvalidError(StageError):
    """A trust list document that is not well-formed or not internally consistent."""

    code_for_stage = "trust.invalid"


class TrustListSignatureError(StageError):
    """A trust list document not signed by one of the configured trust anchors."""

    code_for_stage = "trust.signature"


class TrustListRollbackError(StageError):
    """A trust list older than the version the verifier already holds."""

    code_for_stage = "trust.rollback"
