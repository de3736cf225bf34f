"""RFC 8785 (JSON Canonicalization Scheme) encoding, with a fast path for plain records.

Evidence records hold only strings, integers, booleans, null, lists and objects with ASCII
keys. For those values the standard library's C encoder, with sorted keys, no whitespace and
UTF-8 output, produces exactly the RFC 8785 bytes: strings are escaped the same way
(``\\b \\f \\n \\r \\t``, other controls as lowercase ``\\u00xx``, nothing else), integers up to
2^53 print the same, and ASCII keys sort the same by UTF-16 code unit as by code point. Anything
else (floats, non-ASCII keys, huge integers) goes to the reference implementation, ``rfc8785``.
``tests/unit/domain/test_canonical.py`` checks the two agree on generated values; the intake
path encodes every record, and the reference implementation is about 20 times slower.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1
_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


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
            return _encode(value).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: let the reference implementation refuse
            pass
    return rfc8785.dumps(value)
