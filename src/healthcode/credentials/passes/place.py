"""Place codes: short signed tokens a venue shows, rotating every `interval`, or printed.

Text: `HCV1:` + Base45 of the deterministic CBOR array

    [venue_id (text), window (uint) or null for a printed static code, kid (bytes),
     signature (64 bytes)]

The Ed25519 signature covers the deterministic CBOR of `["HCV1", venue_id, window, kid]`,
so a static code (window null) cannot be turned into a rotating one, and no place code
signature is valid as a COSE one (their Sig_structure starts with "Signature1"). There is
no COSE envelope and no ZLIB: both would add bytes to a code that must rotate every few
seconds on a screen and stay a small QR code (~150 characters).

Window `w` covers `[epoch + w*interval, epoch + (w+1)*interval)` in UTC. A code is *fresh*
when `at` falls in its window widened by `freshness` on both sides (a just-rotated code,
a small clock difference). A fresh code is evidence of presence; a stale, replayed,
forwarded or static code is still a valid code of that venue, reported `fresh=False`,
which the server records as an unverified visit (invariant 9).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .cborscan import Defer, byte_string, dumps, head, loads_bounded, text_string
from .claims import check_issuer, require_aware
from .cose import SIGNATURE_BYTES, raw_public_key
from .errors import (
    KeyExpiredError,
    KeyRevokedError,
    KeyUsageError,
    PassError,
    PlaceKeyError,
    PlaceMalformedError,
    PlaceSignatureError,
    UnknownKeyError,
    UnknownVenueError,
)
from .limits import DEFAULT_LIMITS, Limits
from .transport import base45_decoded_length, decode_base45, encode_base45, strip_prefix
from .trust import KeyUsage, TrustList

PLACE_PREFIX = "HCV1:"
_CONTEXT = "HCV1"
MAX_WINDOW = 2**40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class VenueKey:
    """A venue device's signing key, registered for one venue for a period."""

    venue_id: str
    key_id: bytes
    public_key: bytes  # raw Ed25519 (32 bytes)
    not_before: datetime
    not_after: datetime
    _verifier: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_aware(self.not_before, "not_before")
        require_aware(self.not_after, "not_after")
        # ValueError if not a key; parsed once, not at every scan.
        object.__setattr__(self, "_verifier", Ed25519PublicKey.from_public_bytes(self.public_key))

    def verifier(self) -> Ed25519PublicKey:
        return self._verifier

    @classmethod
    def of(
        cls,
        venue_id: str,
        key_id: bytes,
        public_key: Ed25519PublicKey,
        not_before: datetime,
        not_after: datetime,
    ) -> VenueKey:
        return cls(venue_id, key_id, raw_public_key(public_key), not_before, not_after)


@dataclass(frozen=True)
class VenueKeyring:
    """The registered venue keys, by key id (built from the server's venue registry)."""

    keys: tuple[VenueKey, ...]
    _by_id: dict[bytes, VenueKey] = field(init=False, repr=False, compare=False)
    _venues: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {key.key_id: key for key in self.keys}
        if len(by_id) != len(self.keys):
            raise ValueError("two venue keys share a key id")
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_venues", frozenset(key.venue_id for key in self.keys))

    @classmethod
    def of(cls, keys: Iterable[VenueKey]) -> VenueKeyring:
        return cls(tuple(keys))

    def key(self, key_id: bytes) -> VenueKey | None:
        return self._by_id.get(key_id)

    def has_venue(self, venue_id: str) -> bool:
        return venue_id in self._venues


@dataclass(frozen=True)
class PlaceCodeCheck:
    """A validly signed place code; `fresh` says whether it proves presence at `at`."""

    venue_id: str
    window: int | None  # None: a printed static code
    fresh: bool
    key_id: bytes
    issuer: str | None  # the authority, when the key came from a trust list

    @property
    def static(self) -> bool:
        return self.window is None


_MICRO = timedelta(microseconds=1)
_ZERO = timedelta(0)


def _check_policy(interval: timedelta, freshness: timedelta) -> None:
    if interval <= _ZERO:
        raise ValueError("interval must be positive")
    if not _ZERO <= freshness <= interval:
        raise ValueError("freshness must be between zero and the interval")


def window_of(at: datetime, interval: timedelta) -> int:
    """The index of the window `at` falls in."""
    require_aware(at, "at")
    if interval <= timedelta(0):
        raise ValueError("interval must be positive")
    return (at - _EPOCH) // interval


def window_start(window: int, interval: timedelta) -> datetime:
    return _EPOCH + window * interval


def _signed_bytes(venue_id: str, window: int | None, key_id: bytes) -> bytes:
    return dumps([_CONTEXT, venue_id, window, key_id])


def _encode(
    venue_id: str, window: int | None, signing_key: Ed25519PrivateKey, key_id: bytes
) -> str:
    try:
        check_issuer(venue_id, DEFAULT_LIMITS)  # the same id alphabet and length bound
    except PassError as exc:
        raise ValueError("venue_id must be 1..64 characters of [A-Za-z0-9._:-]") from exc
    if not 1 <= len(key_id) <= DEFAULT_LIMITS.max_key_id_bytes:
        raise ValueError("key_id must be 1..32 bytes")
    signature = signing_key.sign(_signed_bytes(venue_id, window, key_id))
    return PLACE_PREFIX + encode_base45(dumps([venue_id, window, key_id, signature]))


def place_code(venue_id: str, window: int, signing_key: Ed25519PrivateKey, key_id: bytes) -> str:
    """The rotating code of `venue_id` for `window` (see `window_of`)."""
    if type(window) is not int or not 0 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be an integer in 0..{MAX_WINDOW}")
    return _encode(venue_id, window, signing_key, key_id)


def static_place_code(venue_id: str, signing_key: Ed25519PrivateKey, key_id: bytes) -> str:
    """A printed code: valid and signed, but never proof of presence (fresh is always False)."""
    return _encode(venue_id, None, signing_key, key_id)


def _malformed(en: str, zh: str) -> PlaceMalformedError:
    return PlaceMalformedError(f"place code: {en}", f"场所码：{zh}")


# The signed CBOR starts with array(4) and the text "HCV1"; the code's own CBOR is
# array(4) [venue_id, window, kid, signature]: its bytes between the array head and the
# signature (bstr head 0x58 0x40 + 64 bytes) are the other three items, already encoded.
_SIGNED_START = b"\x84\x64" + _CONTEXT.encode()
_SIGNATURE_TAIL = 2 + SIGNATURE_BYTES


def _decode(text: str, limits: Limits) -> tuple[str, int | None, bytes, bytes]:
    venue_id, window, key_id, signature, _raw = _decode_raw(text, limits)
    return venue_id, window, key_id, signature


def _exact(raw: bytes, limits: Limits) -> list[Any] | None:
    """[venue_id, window, kid, signature] when `raw` is byte for byte that deterministic
    array (5 items, 2 levels), else None: the bounded generic decoder then decides."""
    if limits.max_cbor_depth < 2 or limits.max_cbor_items < 5 or raw[:1] != b"\x84":
        return None
    try:
        venue_id, pos = text_string(raw, 1)
        if raw[pos] == _NULL:
            window: int | None = None
            pos += 1
        else:
            window, pos = head(raw, pos, 0)
        key_id, pos = byte_string(raw, pos)
        signature, pos = byte_string(raw, pos)
    except (Defer, IndexError):
        return None
    return [venue_id, window, key_id, signature] if pos == len(raw) else None


_NULL = 0xF6


def _decode_raw(text: str, limits: Limits) -> tuple[str, int | None, bytes, bytes, bytes]:
    """The code's fields and its decoded (deterministic, checked) CBOR bytes."""
    try:
        body = strip_prefix(text, PLACE_PREFIX, limits.max_place_text_chars)
        raw = decode_base45(body, base45_decoded_length(limits.max_place_text_chars))
        value: Any = _exact(raw, limits)
        if value is None:
            value = loads_bounded(raw, limits)
    except PassError as exc:
        raise _malformed(exc.message_en, exc.message_zh) from exc
    if not isinstance(value, list) or len(value) != 4:
        raise _malformed("not an array of four elements", "不是四个元素的数组")
    venue_id, window, key_id, signature = value
    try:
        check_issuer(venue_id, limits)
    except PassError as exc:
        raise _malformed("venue id is malformed", "场所标识格式错误") from exc
    if window is not None and (type(window) is not int or not 0 <= window <= MAX_WINDOW):
        raise _malformed("window is not an integer or null", "时间窗口不是整数或 null")
    if not isinstance(key_id, bytes) or not 1 <= len(key_id) <= limits.max_key_id_bytes:
        raise _malformed("key id is not 1..32 bytes", "密钥标识不是 1..32 字节")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise _malformed("signature is not 64 bytes", "签名不是 64 字节")
    return venue_id, window, key_id, signature, raw


def _signed_bytes_of(raw: bytes) -> bytes:
    """`_signed_bytes(venue_id, window, key_id)` of a decoded code, by slicing its bytes.

    `loads_bounded` accepted `raw` only as the deterministic encoding of its value, so the
    items between the array head and the signature are exactly those `_signed_bytes`
    would encode (a unit test compares the two); this spares re-encoding at every scan.
    """
    return _SIGNED_START + raw[1:-_SIGNATURE_TAIL]


def peek_place_code(text: str, *, limits: Limits = DEFAULT_LIMITS) -> tuple[str, int | None, bytes]:
    """The venue id, window and key id a place code *claims*, without checking its signature.

    For a caller that keeps its keys elsewhere to find the one key to check against (then
    `check_place_code`); raises only `PlaceMalformedError`. Nothing it returns is trusted.
    """
    try:
        venue_id, window, key_id, _signature = _decode(text, limits)
    except PassError:
        raise
    except Exception as exc:  # as in check_place_code: never crash the caller
        raise _malformed(
            f"unanticipated {type(exc).__name__}", f"意外的 {type(exc).__name__}"
        ) from exc
    return venue_id, window, key_id


def _venue_key(
    keys: VenueKeyring, venue_id: str, key_id: bytes, at: datetime
) -> tuple[Ed25519PublicKey, str | None]:
    key = keys.key(key_id)
    if key is None or not keys.has_venue(venue_id):
        raise UnknownVenueError(
            f"no registered key {key_id.hex()} for venue {venue_id}",
            f"场所 {venue_id} 没有已登记的密钥 {key_id.hex()}",
        )
    if key.venue_id != venue_id:
        raise PlaceSignatureError(
            f"code for venue {venue_id} signed by a key of another venue",
            f"场所 {venue_id} 的场所码由其他场所的密钥签名",
        )
    if not key.not_before <= at < key.not_after:
        raise PlaceKeyError(
            f"key {key_id.hex()} of venue {venue_id} is not valid at {at.isoformat()}",
            f"场所 {venue_id} 的密钥 {key_id.hex()} 在 {at.isoformat()} 无效",
        )
    return key.verifier(), None


def _authority_key(
    trust_list: TrustList, venue_id: str, key_id: bytes, at: datetime
) -> tuple[Ed25519PublicKey, str | None]:
    try:
        key = trust_list.check_key(key_id, KeyUsage.PLACE_CODE, at)
    except UnknownKeyError as exc:
        raise UnknownVenueError(
            f"no trusted key {key_id.hex()} for venue {venue_id}",
            f"场所 {venue_id} 没有受信任的密钥 {key_id.hex()}",
        ) from exc
    except (KeyUsageError, KeyRevokedError, KeyExpiredError) as exc:
        raise PlaceKeyError(exc.message_en, exc.message_zh) from exc
    return key.verifier(), key.issuer


def check_place_code(
    text: str,
    keys: TrustList | VenueKeyring,
    at: datetime,
    interval: timedelta,
    freshness: timedelta,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> PlaceCodeCheck:
    """Check a scanned place code at `at`; raises only PassError (place.*) on bad input.

    With a `VenueKeyring` the key must be registered to the venue the code names; with a
    `TrustList` the key must carry the `place-code` usage (an authority signing for its
    venues; the caller checks the venue belongs to `issuer`).
    """
    return PlaceCodeChecker(keys, at, interval, freshness, limits=limits).check(text)


class PlaceCodeChecker:
    """`check_place_code` for any number of codes against the same keys at the same instant.

    Why: a gateway's batch checks a thousand codes at one instant; the instant and the policy
    are checked, and the freshness bounds computed, once rather than per code.
    """

    def __init__(
        self,
        keys: TrustList | VenueKeyring,
        at: datetime,
        interval: timedelta,
        freshness: timedelta,
        *,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        require_aware(at, "at")
        _check_policy(interval, freshness)
        self.keys = keys
        self._at = at
        self._limits = limits
        # Integer microseconds: a far-future window must not overflow datetime arithmetic.
        self._now = (at - _EPOCH) // _MICRO
        self._step = interval // _MICRO
        self._slack = freshness // _MICRO

    def check(self, text: str) -> PlaceCodeCheck:
        """The check of one code (as `check_place_code`)."""
        keys, at = self.keys, self._at
        try:
            venue_id, window, key_id, signature, raw = _decode_raw(text, self._limits)
            if isinstance(keys, VenueKeyring):
                public_key, issuer = _venue_key(keys, venue_id, key_id, at)
            else:
                public_key, issuer = _authority_key(keys, venue_id, key_id, at)
            try:
                public_key.verify(signature, _signed_bytes_of(raw))
            except InvalidSignature as exc:
                raise PlaceSignatureError(
                    f"place code signature for venue {venue_id} does not verify",
                    f"场所 {venue_id} 的场所码签名验证失败",
                ) from exc
        except PassError:
            raise
        except Exception as exc:  # a defect no check anticipated must still not crash callers
            raise _malformed(
                f"unanticipated {type(exc).__name__}", f"意外的 {type(exc).__name__}"
            ) from exc
        return PlaceCodeCheck(venue_id, window, self._fresh(window), key_id, issuer)

    def _fresh(self, window: int | None) -> bool:
        """Whether `at` falls in the window widened by the freshness on both sides."""
        if window is None:
            return False
        start = window * self._step
        return start - self._slack <= self._now < start + self._step + self._slack
