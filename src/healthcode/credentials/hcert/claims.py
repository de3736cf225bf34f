"""CWT claims stage (RFC 8392): issuer, issued-at, expiry and the hcert/eu_dgc_v1 payload."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import cbor2

from .errors import CborError

CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_HCERT = -260
HCERT_EU_DCC_V1 = 1
MAX_DEPTH = 32  # DCC payloads nest 3 levels deep; this only bounds recursion


@dataclass(frozen=True)
class CwtClaims:
    """The CWT claims an HCERT verifier needs; `payload` is JSON-compatible."""

    issuer: str | None
    issued_at: datetime
    expires_at: datetime
    payload: dict[str, Any]


def loads_cbor(data: bytes) -> Any:
    """Decode one CBOR item, turning every decoder failure into CborError."""
    try:
        return cbor2.loads(data)
    except Exception as exc:  # cbor2 raises ValueError, EOF, overflow, recursion errors...
        raise CborError("payload is not valid CBOR", "有效载荷不是有效的 CBOR") from exc


def _iso_datetime(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def to_json(value: Any, depth: int = 0) -> Any:
    """Convert decoded CBOR to JSON-compatible values; tagged dates become ISO 8601 text."""
    if depth > MAX_DEPTH:
        raise CborError("payload nests too deeply", "有效载荷嵌套过深")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CborError("payload holds a non-finite number", "有效载荷含有非有限数值")
        return value
    # CBOR tag 0/1 (RFC 8949) and 1004 (RFC 8943) decode to these; the schema wants text.
    if isinstance(value, datetime):
        return _iso_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [to_json(item, depth + 1) for item in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CborError("payload map has a non-text key", "有效载荷映射含有非文本键")
            out[key] = to_json(item, depth + 1)
        return out
    raise CborError(
        f"payload holds a value JSON cannot carry ({type(value).__name__})",
        f"有效载荷含有 JSON 无法表示的值（{type(value).__name__}）",
    )


def _numeric_date(claims: dict[Any, Any], key: int, name: str) -> datetime:
    value = claims.get(key)
    # NumericDate (RFC 8392 §2) is an integer or floating-point count of seconds.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CborError(
            f"{name} claim missing or not a NumericDate", f"{name} 声明缺失或不是数字日期"
        )
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise CborError(f"{name} claim out of range", f"{name} 声明超出范围") from exc


def hcert_payload(claims: Any) -> dict[str, Any]:
    """Extract the eu_dgc_v1 payload from a decoded claims map."""
    if not isinstance(claims, dict):
        raise CborError("CWT claims are not a map", "CWT 声明不是映射")
    hcert = claims.get(CLAIM_HCERT)
    if not isinstance(hcert, dict):
        raise CborError("hcert claim (-260) missing", "缺少 hcert 声明（-260）")
    payload = hcert.get(HCERT_EU_DCC_V1)
    if not isinstance(payload, dict):
        raise CborError("eu_dgc_v1 entry (1) missing", "缺少 eu_dgc_v1 条目（1）")
    converted = to_json(payload)
    assert isinstance(converted, dict)  # a dict converts to a dict
    return converted


def parse_claims(payload: bytes) -> CwtClaims:
    """Decode the COSE payload as CWT claims carrying an HCERT."""
    claims = loads_cbor(payload)
    dcc = hcert_payload(claims)
    issuer = claims.get(CLAIM_ISS)
    if issuer is not None and not isinstance(issuer, str):
        raise CborError("iss claim is not text", "iss 声明不是文本")
    return CwtClaims(
        issuer=issuer,
        issued_at=_numeric_date(claims, CLAIM_IAT, "iat"),
        expires_at=_numeric_date(claims, CLAIM_EXP, "exp"),
        payload=dcc,
    )
