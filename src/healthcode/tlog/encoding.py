"""RFC 4648 §4 base64 and C2SP decimal fields, decoded canonically (one spelling per value)."""

from __future__ import annotations

import base64
import binascii
import re

from healthcode.tlog.errors import TlogError

__all__ = ["decode_base64", "encode_base64", "parse_decimal"]

_B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_DEC_RE = re.compile(r"0|[1-9][0-9]*")
_UINT64_MAX = (1 << 64) - 1


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str, what: str, error: type[TlogError]) -> bytes:
    """Decode padded standard base64, rejecting non-canonical encodings.

    Canonical means re-encoding gives back the same text, which rules out
    whitespace, missing padding and non-zero trailing bits: a signed or hashed
    value must not have two accepted spellings.
    """
    if not _B64_RE.fullmatch(text):
        raise error(f"{what} is not valid base64: {text[:80]!r}")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{what} is not valid base64: {text[:80]!r}") from None
    if encode_base64(data) != text:
        raise error(f"{what} is not canonical base64: {text[:80]!r}")
    return data


def parse_decimal(text: str, what: str, error: type[TlogError], limit: int = _UINT64_MAX) -> int:
    """Parse an ASCII decimal with no sign and no leading zeroes, at most ``limit``."""
    # Bound the length first so a hostile input cannot cost a huge int conversion.
    if len(text) > 20 or not _DEC_RE.fullmatch(text):
        raise error(f"{what} is not a canonical decimal: {text[:80]!r}")
    value = int(text)
    if value > limit:
        raise error(f"{what} {value} exceeds {limit}")
    return value
