"""Transport layers of a credential text: prefix, Base45 (RFC 9285) and ZLIB (RFC 1950).

Every size is checked before the work it bounds: the text length before anything, the
Base45 output length (computed from the text length) before decoding, and the inflated
size by `decompressobj().decompress(data, max_length)`, which never produces more than the
limit, so a decompression bomb is refused without allocating its output.
"""

from __future__ import annotations

import functools
import zlib

import base45

from .errors import Base45Error, PrefixError, TooLargeError, ZlibError
from .limits import DEFAULT_LIMITS, Limits

# RFC 9285 §4: the 45 characters of the QR alphanumeric mode, in digit order.
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_NOT_A_DIGIT = 0xFF
# bytes.translate table: an ASCII character -> its Base45 digit value, or 0xFF.
_DIGITS = bytes(
    BASE45_ALPHABET.index(chr(c)) if chr(c) in BASE45_ALPHABET else _NOT_A_DIGIT for c in range(256)
)


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
    if len(text) % 3 == 1 or not text.isascii():
        raise Base45Error("invalid Base45 encoding", "Base45 编码无效")
    digits = text.encode("ascii").translate(_DIGITS)
    if _NOT_A_DIGIT in digits:
        raise Base45Error("invalid Base45 encoding", "Base45 编码无效")
    return _decode_digits(digits)


@functools.lru_cache(maxsize=128)
def _lane_masks(chunks: int) -> tuple[int, int, int]:
    """Masks selecting the first, second and third byte of every 3-byte lane."""
    first = int.from_bytes(b"\xff\x00\x00" * chunks, "big")
    return first, first >> 8, first >> 16


def _decode_digits(digits: bytes) -> bytes:
    """Base45 digits -> bytes, in a constant number of C-level steps (no per-chunk loop).

    Each chunk of three digits (a, b, c) is the 16-bit number a + 45*b + 2025*c (RFC 9285
    §4.2). Read as one big-endian integer, every chunk is a 3-byte lane a·2^16 + b·2^8 + c;
    masking out each digit position and weighting it computes a + 45*b + 2025*c in every
    lane at once (a lane never exceeds 44*(1+45+2025) < 2**24, so no carry crosses lanes),
    and a chunk is valid exactly when the high byte of its lane is zero (value <= 65535).
    """
    chunks, rest = divmod(len(digits), 3)
    full = 3 * chunks
    out = b""
    if chunks:
        lanes = int.from_bytes(digits[:full], "big")
        first, second, third = _lane_masks(chunks)
        values = ((lanes & first) >> 16) + 45 * ((lanes & second) >> 8) + 2025 * (lanes & third)
        packed = values.to_bytes(full, "big")
        if packed[0::3] != bytes(chunks):
            raise Base45Error("invalid Base45 encoding (chunk over 65535)", "Base45 编码无效")
        pairs = bytearray(2 * chunks)
        pairs[0::2] = packed[1::3]
        pairs[1::2] = packed[2::3]
        out = bytes(pairs)
    if rest:  # two trailing digits encode one byte
        value = digits[full] + 45 * digits[full + 1]
        if value > 0xFF:
            raise Base45Error("invalid Base45 encoding (last pair over 255)", "Base45 编码无效")
        out += bytes((value,))
    return out


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
