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

`loads_bounded` first tries a fast path (`_fast_loads`) that decodes the common, valid case
in one bounded pass: it accepts only what the three steps above would accept with the same
value (definite lengths, shortest heads, map keys of major types 0-3 in canonical order
with no duplicates, strict UTF-8, only plain tags from the allowed set, within the same
depth and item bounds) and defers *everything else* to them, so the refusals and their
codes stay exactly the pre-scan's and cbor2's. A property test compares both paths.
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


class Defer(Exception):
    """The fast path cannot vouch for this input: the full checks decide."""


_Defer = Defer


def head(data: bytes, pos: int, major: int) -> tuple[int, int]:
    """The argument of the shortest-form, definite head of type `major` at `pos`, and the
    position after it; `Defer` (or IndexError) for anything else. For exact-shape parsers."""
    initial = data[pos]
    if initial >> 5 != major:
        raise Defer
    info = initial & 0x1F
    if info < 24:
        return info, pos + 1
    if info > 27:
        raise Defer
    size = 1 << (info - 24)
    end = pos + 1 + size
    argument = int.from_bytes(data[pos + 1 : end], "big")
    if end > len(data) or argument < _SHORTEST[info]:
        raise Defer
    return argument, end


def byte_string(data: bytes, pos: int) -> tuple[bytes, int]:
    initial = data[pos]
    if 0x40 <= initial <= 0x57:  # the length is in the initial byte (the common case)
        pos += 1
        length = initial - 0x40
    else:
        length, pos = head(data, pos, 2)
    end = pos + length
    if end > len(data):
        raise Defer
    return data[pos:end], end


def text_string(data: bytes, pos: int) -> tuple[str, int]:
    initial = data[pos]
    if 0x60 <= initial <= 0x77:  # the length is in the initial byte (the common case)
        pos += 1
        length = initial - 0x60
    else:
        length, pos = head(data, pos, 3)
    end = pos + length
    if end > len(data):
        raise Defer
    try:
        return data[pos:end].decode("utf-8"), end
    except UnicodeDecodeError:
        raise Defer from None


_DEFER = object()
# COSE message tags: cbor2 keeps them as plain CBORTag values (no semantic decoding).
_PLAIN_TAGS = frozenset({16, 17, 18, 96, 97, 98})
_SIMPLE: dict[int, Any] = {20: False, 21: True, 22: None}


def _fast_item(
    data: bytes, pos: int, level: int, budget: list[int], limits: Limits, tags: frozenset[int]
) -> tuple[Any, int]:
    """One data item at `pos` (nesting `level`, top = 1): its value and the next position."""
    initial = data[pos]
    pos += 1
    major, info = initial >> 5, initial & 0x1F
    if info < 24:
        argument = info
    elif info == 24:
        argument = data[pos]
        pos += 1
        if argument < 24:
            raise _Defer
    elif 25 <= info <= 27:
        size = 1 << (info - 24)
        argument = int.from_bytes(data[pos : pos + size], "big")
        pos += size
        if pos > len(data) or argument < _SHORTEST[info]:
            raise _Defer
    else:
        raise _Defer
    budget[0] -= 1
    if budget[0] < 0:
        raise _Defer
    if major == 0:
        return argument, pos
    if major == 1:
        return -1 - argument, pos
    if major == 2 or major == 3:
        end = pos + argument
        if end > len(data):
            raise _Defer
        chunk = data[pos:end]
        if major == 2:
            return chunk, end
        try:
            return chunk.decode("utf-8"), end
        except UnicodeDecodeError:
            raise _Defer from None
    if major == 7:
        if info not in _SIMPLE:
            raise _Defer
        return _SIMPLE[info], pos
    if argument and level + 1 > limits.max_cbor_depth:
        raise _Defer
    if major == 4:
        items = []
        for _ in range(argument):
            value, pos = _fast_item(data, pos, level + 1, budget, limits, tags)
            items.append(value)
        return items, pos
    if major == 5:
        mapping: dict[Any, Any] = {}
        previous = b""
        for _ in range(argument):
            start = pos
            if data[pos] >> 5 > 3:  # keys: integers and strings only
                raise _Defer
            key, pos = _fast_item(data, pos, level + 1, budget, limits, tags)
            encoded = data[start:pos]
            # Deterministic order (length first, then bytewise) and no duplicates.
            if previous and (len(encoded), encoded) <= (len(previous), previous):
                raise _Defer
            previous = encoded
            mapping[key], pos = _fast_item(data, pos, level + 1, budget, limits, tags)
        return mapping, pos
    if argument not in tags or argument not in _PLAIN_TAGS:
        raise _Defer
    value, pos = _fast_item(data, pos, level + 1, budget, limits, tags)
    return cbor2.CBORTag(argument, value), pos


def _fast_loads(data: bytes, limits: Limits, allowed_tags: frozenset[int]) -> Any:
    """The value of `data` when it is plainly valid deterministic CBOR, else `_DEFER`."""
    try:
        value, end = _fast_item(data, 0, 1, [limits.max_cbor_items], limits, allowed_tags)
    except (_Defer, IndexError, RecursionError):
        return _DEFER
    return value if end == len(data) else _DEFER


def loads_bounded(
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    allowed_tags: frozenset[int] = _NO_TAGS,
) -> Any:
    """Pre-scan, decode and check that `data` is the deterministic encoding of its value."""
    value = _fast_loads(data, limits, allowed_tags)
    if value is not _DEFER:
        return value
    return _loads_checked(data, limits, allowed_tags)


def _loads_checked(data: bytes, limits: Limits, allowed_tags: frozenset[int]) -> Any:
    """The full path: pre-scan, cbor2, re-encode and compare."""
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
