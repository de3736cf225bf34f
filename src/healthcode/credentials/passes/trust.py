"""The trust list: issuer keys per authority/region, what each may sign, when, and revocations.

A `TrustList` is a plain value; `trustdoc` signs and parses its JSON form. The checks a
verifier makes on a key id are all here, in one order: known, allowed usage, not revoked
(the revocation reason is reported), within its validity period.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .claims import check_issuer, require_aware
from .cose import raw_public_key
from .errors import (
    KeyExpiredError,
    KeyRevokedError,
    KeyUsageError,
    PassError,
    TrustListInvalidError,
    UnknownKeyError,
)
from .limits import DEFAULT_LIMITS

KEY_ID_BYTES = 8
PUBLIC_KEY_BYTES = 32


class KeyUsage(StrEnum):
    """The kinds of credential a trusted key may sign."""

    PASS = "pass"
    PLACE_CODE = "place-code"
    IDENTITY_CARD = "identity-card"


class RevocationReason(StrEnum):
    """Why a key was revoked: a closed list, each with a message in both languages."""

    KEY_COMPROMISE = "key-compromise"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation-of-operation"
    MISUSE = "misuse"

    @property
    def message_en(self) -> str:
        return _REASON_TEXT[self][0]

    @property
    def message_zh(self) -> str:
        return _REASON_TEXT[self][1]


_REASON_TEXT: dict[RevocationReason, tuple[str, str]] = {
    RevocationReason.KEY_COMPROMISE: ("the private key was compromised", "私钥已泄露"),
    RevocationReason.SUPERSEDED: ("the key was replaced by a newer key", "该密钥已被新密钥取代"),
    RevocationReason.CESSATION_OF_OPERATION: (
        "the issuer stopped issuing with this key",
        "签发方已停止使用该密钥签发",
    ),
    RevocationReason.MISUSE: (
        "the key was used outside the published rules",
        "该密钥被用于已公布规则之外的签发",
    ),
}
_USAGE_ZH = {
    KeyUsage.PASS: "状态通行证",
    KeyUsage.PLACE_CODE: "场所码",
    KeyUsage.IDENTITY_CARD: "身份卡",
}


def key_id_for(public_key: Ed25519PublicKey) -> bytes:
    """The default key id: the first 8 bytes of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(raw_public_key(public_key)).digest()[:KEY_ID_BYTES]


def _invalid(en: str, zh: str) -> TrustListInvalidError:
    return TrustListInvalidError(f"trust list: {en}", f"信任列表：{zh}")


@dataclass(frozen=True)
class TrustedKey:
    """One issuer key: which authority/region it belongs to, what it may sign, and when."""

    key_id: bytes
    issuer: str
    public_key: bytes  # raw Ed25519 (32 bytes)
    usages: frozenset[KeyUsage]
    not_before: datetime
    not_after: datetime
    # The parsed key, made once: verifying a pass must not re-parse it every time.
    _verifier: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_aware(self.not_before, "not_before")
        require_aware(self.not_after, "not_after")
        if not isinstance(self.key_id, bytes) or not 1 <= len(self.key_id) <= 32:
            raise _invalid("key id is not 1..32 bytes", "密钥标识不是 1..32 字节")
        try:
            check_issuer(self.issuer, DEFAULT_LIMITS)
        except PassError as exc:
            raise _invalid("issuer id is malformed", "签发方标识格式错误") from exc
        if not isinstance(self.public_key, bytes) or len(self.public_key) != PUBLIC_KEY_BYTES:
            raise _invalid("public key is not 32 bytes", "公钥不是 32 字节")
        try:
            object.__setattr__(
                self, "_verifier", Ed25519PublicKey.from_public_bytes(self.public_key)
            )
        except Exception as exc:
            raise _invalid("public key is not an Ed25519 key", "公钥不是 Ed25519 公钥") from exc
        if not self.usages or not all(isinstance(u, KeyUsage) for u in self.usages):
            raise _invalid("key has no known usage", "密钥没有已知用途")
        if self.not_after <= self.not_before:
            raise _invalid("key validity period is empty", "密钥有效期为空")

    @classmethod
    def of(
        cls,
        public_key: Ed25519PublicKey,
        *,
        issuer: str,
        usages: Iterable[KeyUsage],
        not_before: datetime,
        not_after: datetime,
        key_id: bytes | None = None,
    ) -> TrustedKey:
        """A trusted key from a `cryptography` public key; the key id defaults to `key_id_for`."""
        return cls(
            key_id=key_id_for(public_key) if key_id is None else key_id,
            issuer=issuer,
            public_key=raw_public_key(public_key),
            usages=frozenset(usages),
            not_before=not_before,
            not_after=not_after,
        )

    def verifier(self) -> Ed25519PublicKey:
        return self._verifier


@dataclass(frozen=True)
class Revocation:
    """A key withdrawn from `revoked_at` on, for a reason from the closed list."""

    key_id: bytes
    revoked_at: datetime
    reason: RevocationReason

    def __post_init__(self) -> None:
        require_aware(self.revoked_at, "revoked_at")
        if not isinstance(self.key_id, bytes) or not 1 <= len(self.key_id) <= 32:
            raise _invalid("revoked key id is not 1..32 bytes", "被吊销的密钥标识不是 1..32 字节")
        if not isinstance(self.reason, RevocationReason):
            raise _invalid("unknown revocation reason", "未知的吊销原因")


@dataclass(frozen=True)
class TrustList:
    """A versioned set of trusted issuer keys and revocations; verifiers cache the newest."""

    version: int
    issued_at: datetime
    keys: tuple[TrustedKey, ...]
    revocations: tuple[Revocation, ...] = ()
    _by_id: dict[bytes, TrustedKey] = field(init=False, repr=False, compare=False)
    _revoked: dict[bytes, Revocation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_aware(self.issued_at, "issued_at")
        if type(self.version) is not int or self.version < 0:
            raise _invalid("version is not a natural number", "版本号不是自然数")
        by_id = {key.key_id: key for key in self.keys}
        if len(by_id) != len(self.keys):
            raise _invalid("two keys share a key id", "两个密钥使用了相同的密钥标识")
        revoked = {rev.key_id: rev for rev in self.revocations}
        if len(revoked) != len(self.revocations):
            raise _invalid("a key id is revoked twice", "同一密钥标识被吊销两次")
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_revoked", revoked)

    def key(self, key_id: bytes) -> TrustedKey | None:
        return self._by_id.get(key_id)

    def revocation(self, key_id: bytes) -> Revocation | None:
        return self._revoked.get(key_id)

    def issuers(self) -> frozenset[str]:
        return frozenset(key.issuer for key in self.keys)

    def check_key(self, key_id: bytes, usage: KeyUsage, at: datetime) -> TrustedKey:
        """The trusted key `key_id` if it may sign `usage` at `at`; else the specific error."""
        require_aware(at, "at")
        key = self._by_id.get(key_id)
        if key is None:
            raise UnknownKeyError(
                f"key id {key_id.hex()} is not in trust list version {self.version}",
                f"密钥标识 {key_id.hex()} 不在第 {self.version} 版信任列表中",
            )
        if usage not in key.usages:
            raise KeyUsageError(
                f"key {key_id.hex()} of {key.issuer} may not sign a {usage.value}",
                f"{key.issuer} 的密钥 {key_id.hex()} 无权签发{_USAGE_ZH[usage]}",
            )
        revocation = self._revoked.get(key_id)
        if revocation is not None and at >= revocation.revoked_at:
            when = revocation.revoked_at.isoformat()
            raise KeyRevokedError(
                f"key {key_id.hex()} of {key.issuer} was revoked at {when}: "
                f"{revocation.reason.message_en} ({revocation.reason.value})",
                f"{key.issuer} 的密钥 {key_id.hex()} 已于 {when} 吊销：{revocation.reason.message_zh}",
                reason=revocation.reason.value,
                revoked_at=revocation.revoked_at,
            )
        if not key.not_before <= at < key.not_after:
            raise KeyExpiredError(
                f"key {key_id.hex()} of {key.issuer} is valid only from "
                f"{key.not_before.isoformat()} until {key.not_after.isoformat()}",
                f"{key.issuer} 的密钥 {key_id.hex()} 仅在 {key.not_before.isoformat()} 至 "
                f"{key.not_after.isoformat()} 期间有效",
            )
        return key
