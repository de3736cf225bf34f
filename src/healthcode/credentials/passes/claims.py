"""The CWT claims (RFC 8392) of a status pass and of an identity card, and nothing else.

Claim map (deterministic CBOR, integer keys):

| key | name | value |
|---|---|---|
| 1 | iss | issuer: authority/region id, text `[A-Za-z0-9._:-]{1,64}` |
| 4 | exp | valid-until, NumericDate (whole seconds, UTC) |
| 6 | iat | issued-at, NumericDate |
| -65537 | pass (private use, RFC 8392 §9.1) | map {1: colour text, 2: masked name, 3: person commitment (32 bytes)} |
| -65538 | identity card (private use) | map {2: masked name, 3: person commitment (32 bytes)} |

A pass holds exactly {1, 4, 6, -65537}, a card exactly {1, 4, 6, -65538}, so neither can be
read as the other; any other key, missing key, wrong type or oversized value is refused.
A masked name must be a fixed point of `mask_name` (so a full name is never carried).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from healthcode.domain.people import mask_name

from .cborscan import Defer, byte_string, dumps, head, loads_bounded, text_string
from .errors import ClaimsError
from .limits import DEFAULT_LIMITS, Limits

CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_PASS = -65537
CLAIM_IDENTITY = -65538
FIELD_COLOUR = 1
FIELD_MASKED_NAME = 2
FIELD_COMMITMENT = 3
COMMITMENT_BYTES = 32
MAX_NUMERIC_DATE = 253_402_300_799  # 9999-12-31T23:59:59Z
_ISSUER = re.compile(r"[A-Za-z0-9._:-]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


_COLOURS = {colour.value: colour for colour in Colour}


def require_aware(value: datetime, name: str) -> None:
    """A naive datetime is a caller bug, not bad input."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def to_numeric_date(value: datetime) -> int:
    """Whole seconds since the epoch, rounded down (RFC 8392 §2 NumericDate)."""
    require_aware(value, "instant")
    return (value - _EPOCH) // timedelta(seconds=1)


def from_numeric_date(value: int) -> datetime:
    return _EPOCH + timedelta(0, value)


@dataclass(frozen=True)
class PassClaims:
    """What a status pass says: a colour, for whom (masked), by whom, from when to when."""

    colour: Colour
    issuer: str
    masked_name: str
    person_commitment: bytes
    issued_at: datetime
    valid_until: datetime


@dataclass(frozen=True)
class IdentityClaims:
    """What an identity card says: who (masked, and a commitment), by whom; never a colour."""

    issuer: str
    masked_name: str
    person_commitment: bytes
    issued_at: datetime
    valid_until: datetime


def pass_claims(
    *,
    colour: Colour,
    issuer: str,
    masked_name: str,
    person_commitment: bytes,
    issued_at: datetime,
    lifetime: timedelta,
    status_valid_until: datetime | None = None,
) -> PassClaims:
    """Claims valid for `lifetime` (policy), but never beyond the status's own valid-until."""
    require_aware(issued_at, "issued_at")
    valid_until = issued_at + lifetime
    if status_valid_until is not None:
        require_aware(status_valid_until, "status_valid_until")
        valid_until = min(valid_until, status_valid_until)
    return PassClaims(
        Colour(colour), issuer, masked_name, person_commitment, issued_at, valid_until
    )


def _claims_error(en: str, zh: str) -> ClaimsError:
    return ClaimsError(f"claims: {en}", f"声明：{zh}")


def check_issuer(value: object, limits: Limits) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limits.max_issuer_chars:
        raise _claims_error(
            f"issuer is not text of 1..{limits.max_issuer_chars} characters",
            f"签发方不是 1..{limits.max_issuer_chars} 个字符的文本",
        )
    if not _ISSUER.fullmatch(value):
        raise _claims_error(
            "issuer has characters outside [A-Za-z0-9._:-]", "签发方含有 [A-Za-z0-9._:-] 以外的字符"
        )
    return value


def check_masked_name(value: object, limits: Limits) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limits.max_name_chars:
        raise _claims_error(
            f"masked name is not text of 1..{limits.max_name_chars} characters",
            f"掩码姓名不是 1..{limits.max_name_chars} 个字符的文本",
        )
    if not value.isprintable() or mask_name(value) != value:
        raise _claims_error("name is not masked", "姓名未经掩码处理")
    return value


def check_commitment(value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != COMMITMENT_BYTES:
        raise _claims_error("person commitment is not 32 bytes", "个人承诺值不是 32 字节")
    return value


def _check_date(value: object, name: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
        raise _claims_error(f"{name} is not a NumericDate", f"{name} 不是有效的 NumericDate")
    return value


def _check_period(issued_at: int, valid_until: int, lifetime: timedelta) -> None:
    if valid_until <= issued_at:
        raise _claims_error("valid-until is not after issued-at", "有效期截止时间不晚于签发时间")
    if timedelta(0, valid_until - issued_at) > lifetime:
        raise _claims_error(
            f"validity longer than the policy maximum {lifetime}",
            f"有效期长于政策上限 {lifetime}",
        )


def _common(
    claims: PassClaims | IdentityClaims, limits: Limits, lifetime: timedelta
) -> dict[int, Any]:
    iat = to_numeric_date(claims.issued_at)
    exp = to_numeric_date(claims.valid_until)
    _check_date(iat, "iat")
    _check_date(exp, "exp")
    _check_period(iat, exp, lifetime)
    return {
        CLAIM_ISS: check_issuer(claims.issuer, limits),
        CLAIM_EXP: exp,
        CLAIM_IAT: iat,
    }


def encode_pass_claims(claims: PassClaims, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The deterministic CBOR claim map; refuses claims a verifier would refuse."""
    cwt = _common(claims, limits, limits.max_pass_lifetime)
    if not isinstance(claims.colour, Colour):
        raise _claims_error("colour is not green, yellow or red", "颜色不是绿、黄或红")
    cwt[CLAIM_PASS] = {
        FIELD_COLOUR: claims.colour.value,
        FIELD_MASKED_NAME: check_masked_name(claims.masked_name, limits),
        FIELD_COMMITMENT: check_commitment(claims.person_commitment),
    }
    return dumps(cwt)


def encode_identity_claims(claims: IdentityClaims, limits: Limits = DEFAULT_LIMITS) -> bytes:
    cwt = _common(claims, limits, limits.max_card_lifetime)
    cwt[CLAIM_IDENTITY] = {
        FIELD_MASKED_NAME: check_masked_name(claims.masked_name, limits),
        FIELD_COMMITMENT: check_commitment(claims.person_commitment),
    }
    return dumps(cwt)


def int_keys(value: object) -> set[int] | None:
    """The keys of a map whose keys are all integers (not booleans), else None."""
    if not isinstance(value, dict) or any(type(key) is not int for key in value):
        return None
    return set(value)


# The encoded heads of the claim map in deterministic order: map(4), 1 (iss), 4 (exp),
# 6 (iat), then the credential claim (-65537 / -65538) with its inner map.
_MAP4, _ISS, _EXP, _IAT = 0xA4, 0x01, 0x04, 0x06
_PRIVATE_HEADS = {
    CLAIM_PASS: (b"\x3a\x00\x01\x00\x00\xa3", (FIELD_COLOUR, FIELD_MASKED_NAME)),
    CLAIM_IDENTITY: (b"\x3a\x00\x01\x00\x01\xa2", (FIELD_MASKED_NAME,)),
}


def _uint(data: bytes, pos: int) -> tuple[int, int]:
    if data[pos] == 0x1A:  # a 4-byte NumericDate: every instant from 2106-02 back to 1970-01-01
        value = int.from_bytes(data[pos + 1 : pos + 5], "big")
        if value < 0x1_0000 or pos + 5 > len(data):
            raise Defer
        return value, pos + 5
    return head(data, pos, 0)


def _exact_claims(payload: bytes, private_claim: int, limits: Limits) -> dict[int, Any] | None:
    """The claim map when `payload` is byte for byte its deterministic shape, else None.

    At most 15 items 3 levels deep; with smaller limits the bounded generic decoder decides.
    Values are not checked here (the caller checks them on either path), only the encoding.
    """
    if limits.max_cbor_depth < 3 or limits.max_cbor_items < 15:
        return None
    inner_head, text_fields = _PRIVATE_HEADS[private_claim]
    try:
        if payload[0] != _MAP4 or payload[1] != _ISS:
            return None
        issuer, pos = text_string(payload, 2)
        if payload[pos] != _EXP:
            return None
        exp, pos = _uint(payload, pos + 1)
        if payload[pos] != _IAT:
            return None
        iat, pos = _uint(payload, pos + 1)
        if payload[pos : pos + 6] != inner_head:
            return None
        pos += 6
        inner: dict[int, Any] = {}
        for field_key in text_fields:
            if payload[pos] != field_key:
                return None
            inner[field_key], pos = text_string(payload, pos + 1)
        if payload[pos] != FIELD_COMMITMENT:
            return None
        inner[FIELD_COMMITMENT], pos = byte_string(payload, pos + 1)
    except (Defer, IndexError):
        return None
    if pos != len(payload):
        return None
    return {CLAIM_ISS: issuer, CLAIM_EXP: exp, CLAIM_IAT: iat, private_claim: inner}


def _decode(
    payload: bytes, limits: Limits, private_claim: int, fields: set[int], lifetime: timedelta
) -> tuple[str, int, int, dict[int, Any]]:
    cwt: Any = _exact_claims(payload, private_claim, limits)
    if cwt is None:  # not the exact shape (whose keys are right by construction): check all
        cwt = loads_bounded(payload, limits)
        if int_keys(cwt) != {CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, private_claim}:
            raise _claims_error(
                "claim keys are not exactly iss, exp, iat and the credential claim",
                "声明键必须且只能是 iss、exp、iat 与凭证声明",
            )
        if int_keys(cwt[private_claim]) != fields:
            raise _claims_error(
                "credential claim has unknown or missing fields", "凭证声明字段未知或缺失"
            )
    inner = cwt[private_claim]
    issuer = check_issuer(cwt[CLAIM_ISS], limits)
    iat = _check_date(cwt[CLAIM_IAT], "iat")
    exp = _check_date(cwt[CLAIM_EXP], "exp")
    _check_period(iat, exp, lifetime)
    return issuer, iat, exp, inner


def decode_pass_claims(payload: bytes, limits: Limits = DEFAULT_LIMITS) -> PassClaims:
    """Parse and check a pass's claim map (only after its signature has been verified)."""
    fields = {FIELD_COLOUR, FIELD_MASKED_NAME, FIELD_COMMITMENT}
    issuer, iat, exp, inner = _decode(payload, limits, CLAIM_PASS, fields, limits.max_pass_lifetime)
    colour = _COLOURS.get(inner[FIELD_COLOUR]) if isinstance(inner[FIELD_COLOUR], str) else None
    if colour is None:
        raise _claims_error("colour is not green, yellow or red", "颜色不是绿、黄或红")
    return PassClaims(
        colour=colour,
        issuer=issuer,
        masked_name=check_masked_name(inner[FIELD_MASKED_NAME], limits),
        person_commitment=check_commitment(inner[FIELD_COMMITMENT]),
        issued_at=from_numeric_date(iat),
        valid_until=from_numeric_date(exp),
    )


def decode_identity_claims(payload: bytes, limits: Limits = DEFAULT_LIMITS) -> IdentityClaims:
    """Parse and check an identity card's claim map (after its signature has been verified)."""
    fields = {FIELD_MASKED_NAME, FIELD_COMMITMENT}
    issuer, iat, exp, inner = _decode(
        payload, limits, CLAIM_IDENTITY, fields, limits.max_card_lifetime
    )
    return IdentityClaims(
        issuer=issuer,
        masked_name=check_masked_name(inner[FIELD_MASKED_NAME], limits),
        person_commitment=check_commitment(inner[FIELD_COMMITMENT]),
        issued_at=from_numeric_date(iat),
        valid_until=from_numeric_date(exp),
    )
