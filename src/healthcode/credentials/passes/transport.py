"""Transport layers of a credential text: prefix, Base45 (RFC 9285) and ZLIB (RFC 1950).

Every size is checked before the work it bounds: the text length before anything, the
Base45 output length (computed from the text length) before decoding, and the inflated
size by `decompressobj().decompress(data, max_length)`, which never produces more than the
limit, so a decompression bomb is refused without allocating its output.
"""

from __future__ import annotations

import re
import zlib

import base45

from .errors import Base45Error, PrefixError, TooLargeError, ZlibError
from .limits import DEFAULT_LIMITS, Limits

# RFC 9285 §4: the 45 characters of the QR alphanumeric mode.
_BASE45 = re.compile(r"[0-9A-Z $%*+\-./:]*")


def strip_prefix(text: object, prefix: str, max_chars: int) -> str:
    """The text after `prefix`, refusing non-strings and texts longer than `max_chars`."""
    if not isinstance(text, str):
        raise PrefixError("credential text must be a string", "凭证文本必须是字符串")
    if len(text) > max_chars:
        raise TooLargeError(
            f"text longer than {max_chars} characters", f"文本超过 {max_chars} 个字符"
        )
    # Scanners append line breaks; spaces are Base45 digits and must stay.
    text = text.rstrip("\r\n")
    if not text.startswith(prefix):
        raise PrefixError(
            f"missing the {prefix} context identifier", f"缺少 {prefix} 上下文标识前缀"
        )
    return text[len(prefix) :]


def base45_decoded_length(text_chars: int) -> int:
    """How many bytes `text_chars` Base45 characters decode to (RFC 9285 §4.2)."""
    return text_chars // 3 * 2 + (1 if text_chars % 3 == 2 else 0)


def decode_base45(text: str, max_bytes: int) -> bytes:
    """Decode Base45 text, refusing output longer than `max_bytes` before decoding."""
    if base45_decoded_length(len(text)) > max_bytes:
        raise TooLargeError(
            f"Base45 text decodes to more than {max_bytes} bytes",
            f"Base45 文本解码后超过 {max_bytes} 字节",
        )
    if len(text) % 3 == 1 or not _BASE45.fullmatch(text):
        raise Base45Error("invalid Base45 encoding", "Base45 编码无效")
    try:
        decoded: bytes = base45.b45decode(text)
    except Exception as exc:  # the library signals a triplet out of range as ValueError
        raise Base45Error("invalid Base45 encoding", "Base45 编码无效") from exc
    return decoded


def encode_base45(data: bytes) -> str:
    """Encode bytes as Base45 text (RFC 9285)."""
    encoded: bytes = base45.b45encode(data)
    return encoded.decode("ascii")


def compress(data: bytes) -> bytes:
    """One ZLIB stream at the highest compression level (deterministic for given bytes)."""
    return zlib.compress(data, 9)


def decompress(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Inflate exactly one complete ZLIB stream, never producing more than the limit."""
    cap = limits.max_decompressed_bytes
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error as exc:
        raise ZlibError("not a valid ZLIB stream", "不是有效的 ZLIB 数据流") from exc
    if len(out) > cap:
        raise TooLargeError(
            f"decompressed payload exceeds {cap} bytes", f"解压后的数据超过 {cap} 字节"
        )
    # Output within the cap means max_length held nothing back: the input is all consumed.
    if not inflater.eof:
        raise ZlibError("truncated ZLIB stream", "ZLIB 数据流不完整")
    if inflater.unused_data:
        raise ZlibError("trailing bytes after the ZLIB stream", "ZLIB 数据流之后有多余字节")
    return out
