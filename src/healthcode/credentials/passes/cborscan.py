"""Bounded CBOR: a pre-scan of the item heads, then cbor2, then a determinism check.

cbor2 has no depth or size limit of its own, so before it sees any byte this module walks
the data item heads of RFC 8949 §3 with an explicit stack (no recursion):

- the initial byte holds the major type (high 3 bits) and the additional information
  (low 5 bits); 0..23 is the argument itself, 24/25/26/27 announce a 1/2/4/8-byte
  big-endian argument, 28..30 are reserved (not well-formed, §3), 31 is the
  indefinite-length marker or "break" (§3.2);
- major types 0/1 are integers, 2/3 byte/text strings whose argument is their length,
  4 an array of `argument` items, 5 a map of `argument` pairs, 6 a tag followed by one
  item, 7 simple values and floats (§3.3).

It refuses, before decoding: nesting deeper than `max_depth` (pass.cbor_depth), more than
`max_items` items (pass.too_large), lengths running past the end, trailing bytes, reserved
values, and what deterministic encoding (§4.2.1) or this format excludes: indefinite
lengths, non-shortest arguments, tags not explicitly allowed, floats and simple values
other than false/true/null (pass.cbor). After cbor2 decodes, the value must re-encode to
the very same bytes, which also refuses duplicate map keys and unsorted maps.
"""

from __future__ import annotations

from typing import Any

import cbor2

from .errors import CborDepthError, CborError, TooLargeError
from .limits import DEFAULT_LIMITS, Limits

_NO_TAGS: frozenset[int] = frozenset()
_SIMPLE_FALSE_TRUE_NULL = frozenset({20, 21, 22})
# The smallest argument each 1/2/4/8-byte form may carry in preferred serialization.
_SHORTEST = {24: 24, 25: 0x100, 26: 0x1_0000, 27: 0x1_0000_0000}


def _malformed(what_en: str, what_zh: str) -> CborError:
    return CborError(f"CBOR {what_en}", f"CBOR {what_zh}")


def prescan(
    data: bytes,
    *,
    max_depth: int,
    max_items: int,
    allowed_tags: frozenset[int] = _NO_TAGS,
) -> None:
    """Check that `data` is exactly one bounded, deterministic data item, without decoding it."""
    end = len(data)
    pos = 0
    items = 0
    # remaining[i]: items still expected at depth i + 1; the top level expects one.
    remaining = [1]
    while remaining:
        if remaining[-1] == 0:
            remaining.pop()
            continue
        remaining[-1] -= 1
        if pos >= end:
            raise _malformed("data ends inside an item", "数据在数据项中途结束")
        initial = data[pos]
        pos += 1
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            argument = info
        elif info <= 27:
            size = 1 << (info - 24)
            if end - pos < size:
                raise _malformed("data ends inside an item head", "数据在数据项头部中途结束")
            argument = int.from_bytes(data[pos : pos + size], "big")
            pos += size
            if argument < _SHORTEST[info] and major != 7:
                raise _malformed(
                    "argument not in its shortest form", "参数未采用最短编码（非确定性编码）"
                )
        elif info == 31:
            raise _malformed("indefinite length or break", "不定长度或中断标记不被接受")
        else:
            raise _malformed("reserved additional information", "使用了保留的附加信息值")
        items += 1
        if items > max_items:
            raise TooLargeError(
                f"CBOR holds more than {max_items} items", f"CBOR 数据项超过 {max_items} 个"
            )
        children = 0
        if major in (2, 3):
            if argument > end - pos:
                raise _malformed("string runs past the end", "字符串长度超出数据末尾")
            pos += argument
        elif major == 4:
            children = argument
        elif major == 5:
            children = 2 * argument
        elif major == 6:
            if argument not in allowed_tags:
                raise _malformed(f"tag {argument} not accepted here", f"此处不接受标签 {argument}")
            children = 1
        elif major == 7 and not (info < 24 and info in _SIMPLE_FALSE_TRUE_NULL):
            raise _malformed(
                "float or simple value not accepted", "不接受浮点数或除 false/true/null 外的简单值"
            )
        if children:
            if children > max_items - items:
                raise TooLargeError(
                    f"CBOR holds more than {max_items} items", f"CBOR 数据项超过 {max_items} 个"
                )
            if len(remaining) + 1 > max_depth:
                raise CborDepthError(
                    f"CBOR nests deeper than {max_depth} levels",
                    f"CBOR 嵌套超过 {max_depth} 层",
                )
            remaining.append(children)
    if pos != end:
        raise _malformed("has trailing bytes after the item", "数据项之后有多余字节")


def loads_bounded(
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    allowed_tags: frozenset[int] = _NO_TAGS,
) -> Any:
    """Pre-scan, decode and check that `data` is the deterministic encoding of its value."""
    prescan(
        data,
        max_depth=limits.max_cbor_depth,
        max_items=limits.max_cbor_items,
        allowed_tags=allowed_tags,
    )
    try:
        value = cbor2.loads(data)
    except Exception as exc:  # e.g. invalid UTF-8 in a text string, an unhashable map key
        raise _malformed("is not well-formed", "格式不正确") from exc
    try:
        again = dumps(value)
    except Exception as exc:
        raise _malformed("cannot be re-encoded", "无法重新编码") from exc
    if again != data:
        raise _malformed(
            "is not deterministically encoded (duplicate or unsorted map keys)",
            "不是确定性编码（映射键重复或未排序）",
        )
    return value


def dumps(value: Any) -> bytes:
    """Deterministic CBOR (RFC 8949 §4.2.1).

    cbor2's canonical mode sorts map keys length-first (RFC 7049 §3.9); for the small
    integer keys used here that is the same order as §4.2.1's bytewise order.
    """
    return cbor2.dumps(value, canonical=True)
