"""Transport stages of an HCERT barcode text: `HC1:` prefix, Base45 and ZLIB, with size limits."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import base45

from .errors import Base45Error, PrefixError, TooLargeError, ZlibError

PREFIX = "HC1:"


@dataclass(frozen=True)
class Limits:
    """Size limits that bound the work done on untrusted input."""

    # A version-40 QR code holds at most 4296 alphanumeric characters; leave ample room.
    max_text_chars: int = 16_384
    # Real DCC CWTs are 0.3-3 KiB; anything far beyond is a decompression bomb.
    max_decompressed_bytes: int = 65_536


DEFAULT_LIMITS = Limits()


def strip_prefix(text: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """Return the Base45 text after the `HC1:` context identifier."""
    if not isinstance(text, str):
        raise PrefixError("HCERT text must be a string", "HCERT 文本必须是字符串")
    if len(text) > limits.max_text_chars:
        raise TooLargeError(
            f"HCERT text longer than {limits.max_text_chars} characters",
            f"HCERT 文本超过 {limits.max_text_chars} 个字符",
        )
    # Scanners and shells append line breaks; spaces are Base45 digits and must stay.
    text = text.strip("\r\n")
    if not text.startswith(PREFIX):
        # HC2: etc. would be a future, incompatible version; anything else is not an HCERT.
        raise PrefixError("missing the HC1: context identifier", "缺少 HC1: 上下文标识前缀")
    return text[len(PREFIX) :]


def decode_base45(text: str) -> bytes:
    """Decode Base45 text (RFC 9285), rejecting characters and triplets out of range."""
    try:
        decoded: bytes = base45.b45decode(text)
    except Exception as exc:  # the library signals every defect as some exception
        raise Base45Error("invalid Base45 encoding", "Base45 编码无效") from exc
    return decoded


def encode_base45(data: bytes) -> str:
    """Encode bytes as Base45 text (RFC 9285)."""
    encoded: bytes = base45.b45encode(data)
    return encoded.decode("ascii")


def decompress(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Inflate one complete ZLIB stream (RFC 1950), refusing output beyond the limit."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limits.max_decompressed_bytes + 1)
    except zlib.error as exc:
        raise ZlibError("not a valid ZLIB stream", "不是有效的 ZLIB 数据流") from exc
    if len(out) > limits.max_decompressed_bytes or inflater.unconsumed_tail:
        raise TooLargeError(
            f"decompressed payload exceeds {limits.max_decompressed_bytes} bytes",
            f"解压后的数据超过 {limits.max_decompressed_bytes} 字节",
        )
    if not inflater.eof:
        raise ZlibError("truncated ZLIB stream", "ZLIB 数据流不完整")
    if inflater.unused_data:
        raise ZlibError("trailing bytes after the ZLIB stream", "ZLIB 数据流之后有多余字节")
    return out
