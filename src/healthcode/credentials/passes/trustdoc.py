"""The signed trust list document: Ed25519 over the RFC 8785 canonical JSON of the list.

    {"signer": "<anchor key id, base64url>",
     "signature": "<Ed25519 over JCS(trust_list), base64url>",
     "trust_list": {"type": "healthcode.trust-list.v1", "version": 7,
                    "issued_at": "2026-06-01T00:00:00Z",
                    "keys": [{"key_id": "...", "issuer": "cn-41", "public_key": "...",
                              "usages": ["identity-card", "pass"],
                              "not_before": "...Z", "not_after": "...Z"}],
                    "revocations": [{"key_id": "...", "revoked_at": "...Z",
                                     "reason": "key-compromise"}]}}

Binary values are unpadded base64url (RFC 4648 §5); instants are UTC whole seconds with
`Z`. The signature is checked (against the configured anchors) before the list is read;
then every member is checked strictly: unknown, missing or duplicate members, unknown
usages or reasons, and non-integer numbers are refused. A list older than the one the
verifier holds is refused as a rollback.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from healthcode.domain.canonical import canonical

from .claims import require_aware
from .errors import (
    PassError,
    TrustListInvalidError,
    TrustListRollbackError,
    TrustListSignatureError,
)
from .limits import DEFAULT_LIMITS, Limits
from .trust import KeyUsage, Revocation, RevocationReason, TrustedKey, TrustList, key_id_for

DOCUMENT_TYPE = "healthcode.trust-list.v1"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_MAX_JSON_INT = 2**53 - 1


def _invalid(en: str, zh: str) -> TrustListInvalidError:
    return TrustListInvalidError(f"trust list: {en}", f"信任列表：{zh}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise _invalid(f"{what} is not unpadded base64url", f"{what} 不是无填充的 base64url")
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if _b64(decoded) != value:  # non-zero padding bits: not the canonical encoding
        raise _invalid(f"{what} is not canonical base64url", f"{what} 不是规范的 base64url")
    return decoded


def _instant(value: datetime) -> str:
    require_aware(value, "instant")
    if value.microsecond:
        raise ValueError("trust list instants are whole seconds")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_instant(value: object, what: str) -> datetime:
    if not isinstance(value, str) or not _INSTANT.fullmatch(value):
        raise _invalid(
            f"{what} is not YYYY-MM-DDThh:mm:ssZ", f"{what} 不是 YYYY-MM-DDThh:mm:ssZ 格式"
        )
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise _invalid(f"{what} is not a valid instant", f"{what} 不是有效的时刻") from exc


def trust_list_json(trust_list: TrustList) -> dict[str, Any]:
    """The JSON value of the list (the part that is signed)."""
    return {
        "type": DOCUMENT_TYPE,
        "version": trust_list.version,
        "issued_at": _instant(trust_list.issued_at),
        "keys": [
            {
                "key_id": _b64(key.key_id),
                "issuer": key.issuer,
                "public_key": _b64(key.public_key),
                "usages": sorted(usage.value for usage in key.usages),
                "not_before": _instant(key.not_before),
                "not_after": _instant(key.not_after),
            }
            for key in trust_list.keys
        ],
        "revocations": [
            {
                "key_id": _b64(rev.key_id),
                "revoked_at": _instant(rev.revoked_at),
                "reason": rev.reason.value,
            }
            for rev in trust_list.revocations
        ],
    }


def sign_trust_list(
    trust_list: TrustList, signing_key: Ed25519PrivateKey, signer_id: bytes | None = None
) -> bytes:
    """The signed document (UTF-8 JSON, itself canonical) for publication and caching."""
    body = trust_list_json(trust_list)
    signer = key_id_for(signing_key.public_key()) if signer_id is None else signer_id
    signature = signing_key.sign(canonical(body))
    return canonical({"signer": _b64(signer), "signature": _b64(signature), "trust_list": body})


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refuse_float(text: str) -> Any:
    raise ValueError("non-integer number")


def _object(value: object, members: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != members:
        raise _invalid(
            f"{what} must have exactly the members {sorted(members)}",
            f"{what} 必须且只能包含成员 {sorted(members)}",
        )
    return value


def _list(value: object, what: str, limit: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > limit:
        raise _invalid(
            f"{what} is not a list of at most {limit}", f"{what} 不是至多 {limit} 项的列表"
        )
    return value


def _key(raw: object) -> TrustedKey:
    members = {"key_id", "issuer", "public_key", "usages", "not_before", "not_after"}
    obj = _object(raw, members, "key")
    usages = _list(obj["usages"], "usages", len(KeyUsage))
    known = {usage.value for usage in KeyUsage}
    if len(set(map(str, usages))) != len(usages) or not all(
        isinstance(u, str) and u in known for u in usages
    ):
        raise _invalid("unknown or repeated key usage", "密钥用途未知或重复")
    if not isinstance(obj["issuer"], str):
        raise _invalid("issuer is not text", "签发方不是文本")
    return TrustedKey(
        key_id=_unb64(obj["key_id"], "key_id"),
        issuer=obj["issuer"],
        public_key=_unb64(obj["public_key"], "public_key"),
        usages=frozenset(KeyUsage(u) for u in usages),
        not_before=_parse_instant(obj["not_before"], "not_before"),
        not_after=_parse_instant(obj["not_after"], "not_after"),
    )


def _revocation(raw: object) -> Revocation:
    obj = _object(raw, {"key_id", "revoked_at", "reason"}, "revocation")
    reason = obj["reason"]
    if not isinstance(reason, str) or reason not in {r.value for r in RevocationReason}:
        raise _invalid("unknown revocation reason", "未知的吊销原因")
    return Revocation(
        key_id=_unb64(obj["key_id"], "key_id"),
        revoked_at=_parse_instant(obj["revoked_at"], "revoked_at"),
        reason=RevocationReason(reason),
    )


def trust_list_from_json(value: object, limits: Limits = DEFAULT_LIMITS) -> TrustList:
    """Read the (already verified) JSON value of a list, refusing anything unexpected."""
    members = {"type", "version", "issued_at", "keys", "revocations"}
    obj = _object(value, members, "trust list")
    if obj["type"] != DOCUMENT_TYPE:
        raise _invalid(f"type is not {DOCUMENT_TYPE}", f"类型不是 {DOCUMENT_TYPE}")
    version = obj["version"]
    if type(version) is not int or not 0 <= version <= _MAX_JSON_INT:
        raise _invalid("version is not a natural number", "版本号不是自然数")
    keys = _list(obj["keys"], "keys", limits.max_trust_list_keys)
    revocations = _list(obj["revocations"], "revocations", limits.max_trust_list_keys)
    return TrustList(
        version=version,
        issued_at=_parse_instant(obj["issued_at"], "issued_at"),
        keys=tuple(_key(raw) for raw in keys),
        revocations=tuple(_revocation(raw) for raw in revocations),
    )


def _load_json(document: bytes | str, limits: Limits) -> Any:
    size = len(document.encode("utf-8") if isinstance(document, str) else document)
    if size > limits.max_trust_list_bytes:
        raise _invalid(
            f"document larger than {limits.max_trust_list_bytes} bytes",
            f"文档超过 {limits.max_trust_list_bytes} 字节",
        )
    try:
        text = document if isinstance(document, str) else document.decode("utf-8")
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_refuse_constant,
            parse_float=_refuse_float,
        )
    except Exception as exc:  # decoding, syntax, duplicates, floats, nesting (RecursionError)
        raise _invalid(f"not acceptable JSON ({type(exc).__name__})", "不是可接受的 JSON") from exc


def parse_trust_list(
    document: bytes | str,
    anchors: Mapping[bytes, Ed25519PublicKey],
    *,
    min_version: int = 0,
    limits: Limits = DEFAULT_LIMITS,
) -> TrustList:
    """Verify a signed trust list against the anchors and read it.

    `min_version` is the version of the list the verifier already caches: an older one is
    refused (trust.rollback); the same version is accepted.
    """
    try:
        return _parse(document, anchors, min_version, limits)
    except PassError:
        raise
    except Exception as exc:  # a defect no check anticipated must still not crash callers
        raise _invalid(
            f"unanticipated {type(exc).__name__} while reading",
            f"读取时出现意外的 {type(exc).__name__}",
        ) from exc


def _parse(
    document: bytes | str,
    anchors: Mapping[bytes, Ed25519PublicKey],
    min_version: int,
    limits: Limits,
) -> TrustList:
    envelope = _object(
        _load_json(document, limits), {"signer", "signature", "trust_list"}, "document"
    )
    signer = _unb64(envelope["signer"], "signer")
    signature = _unb64(envelope["signature"], "signature")
    anchor = anchors.get(signer)
    if anchor is None:
        raise TrustListSignatureError(
            f"trust list signed by unknown anchor {signer.hex()}",
            f"信任列表由未知的信任锚 {signer.hex()} 签名",
        )
    try:
        signed = canonical(envelope["trust_list"])
    except Exception as exc:  # e.g. an integer outside the I-JSON range
        raise _invalid(
            "list cannot be canonicalized (RFC 8785)", "列表无法规范化（RFC 8785）"
        ) from exc
    try:
        anchor.verify(signature, signed)
    except InvalidSignature as exc:
        raise TrustListSignatureError(
            "trust list signature does not verify", "信任列表签名验证失败"
        ) from exc
    trust_list = trust_list_from_json(envelope["trust_list"], limits)
    if trust_list.version < min_version:
        raise TrustListRollbackError(
            f"trust list version {trust_list.version} is older than the cached {min_version}",
            f"信任列表版本 {trust_list.version} 早于已缓存的版本 {min_version}",
        )
    return trust_list
