"""INSERT statements for many rows on SQLite, with their values as Python's sqlite3 binds them
fastest.

The driver binds an int, a float, a str or a bytearray at once, and any other value (None,
bytes, a bool, an enum member) only after looking for an adapter for it: a key built, a
registry searched, two attributes looked up. On CPython 3.11 that costs about 0.8 µs a None and
1.1 µs a bytes, against 0.05 µs an int and 0.2 µs a bytearray, and an evidence row of a test
result has seven empty columns and a blob: those lookups took most of the time of its insert
(``make bench B=sqlite_rows``). So, where the rows fill at least one statement of many with
their empty columns left out, a column empty in every row is written as NULL in the
statement rather than bound, and the other values are bound as the plain type the driver
would have bound them as: bytes as a bytearray (a BLOB either way), a subclass of int, str or
float (a bool, an enum member) as its value as an exact int, str or float. The rows stored
are the same, value for value and type for type (checked against ``executemany`` in
``tests/unit/test_sqlite_rows.py``). A value whose type has an adapter registered, or a
``__conform__``, is bound as it is for the driver to adapt; while a plain type has an adapter
(the driver then looks one up for every value), nothing is converted. Rows too few for a
statement of many go by ``executemany`` as they are, and rows too few for one with their
empty columns left out fill statements with every column bound, as they are: looking at every
value, or converting it, would cost more than it saves.

Rows go in the order given, every statement of a call alike: up to a limit of rows each, the
rest by ``executemany``. The driver keeps the statements it has prepared (128 a connection):
for each set of columns left empty, the one of many rows (under a megabyte at 500 rows of
evidence) and the one of a row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

_NONE = type(None)
_PLAIN = frozenset({int, float, str, bytearray})
_PLAIN_OR_NONE = _PLAIN | {_NONE}  # a None is bound as it is where its column holds values
_AS_PLAIN: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (int, int.__int__),  # the value the driver reads, not what an overridden __int__ gives
    (str, str.__str__),
    (float, float.__float__),
)

# The parameters of one execution (a tuple), or of an ``executemany`` (a list of them).
Parameters = tuple[Any, ...] | list[tuple[Any, ...]]


@dataclass(frozen=True)
class Insert:
    """One statement and its parameters; ``many``: run by ``executemany``."""

    statement: str
    parameters: Parameters
    many: bool


def inserts(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    max_rows: int,
    max_parameters: int,
    suffix: str = "",
) -> Iterator[Insert]:
    """The INSERTs that write ``rows`` (values in ``columns`` order) into ``table``, in order:
    up to ``max_rows`` rows and ``max_parameters`` bound values a statement, the rest by
    ``executemany``. ``suffix`` ends each statement (``ON CONFLICT DO NOTHING``)."""
    if not rows:
        return
    width = len(columns)
    if not width or set(map(len, rows)) != {width}:
        raise ValueError(f"every row must hold a value for each of {width} columns")
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    every = "(" + ", ".join(["?"] * width) + ")"
    if len(rows) < _per(max_rows, max_parameters, width):
        # No statement of many rows: each row is bound once either way, and what converting
        # saves (under a microsecond a value) does not pay for looking at every value.
        yield Insert(head + every + suffix, list(map(tuple, rows)), many=True)
        return
    flat = list(chain.from_iterable(rows))
    # Column by column, in place: a row's values are ``width`` apart.
    kinds = [set(map(type, flat[column::width])) for column in range(width)]
    empty = set() if _adapted(_NONE) else {i for i, found in enumerate(kinds) if found == {_NONE}}
    if len(rows) < _per(max_rows, max_parameters, width - len(empty)) or any(
        (kind, sqlite3.PrepareProtocol) in sqlite3.adapters for kind in _PLAIN
    ):
        # Rows too few to fill a statement once the empty columns are left out (then they
        # fill the statements with every column bound, as they are); or the driver looks an
        # adapter up for every value, a converted one too, while a plain type has one.
        yield from _statements(head, every, suffix, flat, len(rows), max_rows, max_parameters)
        return
    for column, found in enumerate(kinds):
        if column not in empty and not found <= _PLAIN_OR_NONE:
            flat[column::width] = _plain(flat[column::width], found)
    if empty:
        kept = [flat[column::width] for column in range(width) if column not in empty]
        flat = list(chain.from_iterable(zip(*kept, strict=True)))
    one = "(" + ", ".join("NULL" if i in empty else "?" for i in range(width)) + ")"
    yield from _statements(head, one, suffix, flat, len(rows), max_rows, max_parameters)


def _statements(
    head: str,
    one: str,
    suffix: str,
    flat: list[Any],
    count: int,
    max_rows: int,
    max_parameters: int,
) -> Iterator[Insert]:
    """The statements that write ``count`` rows whose bound values, as many a row, are
    ``flat`` (``one``: a row's ``VALUES``)."""
    width = len(flat) // count
    per = _per(max_rows, max_parameters, width)
    whole = count - count % per if per > 1 else 0
    if whole:
        many = head + ", ".join([one] * per) + suffix
        for first in range(0, whole, per):
            yield Insert(many, tuple(flat[first * width : (first + per) * width]), many=False)
    if whole < count:
        rest = iter(flat[whole * width :])
        each = list(zip(*[rest] * width, strict=True)) if width else [()] * (count - whole)
        yield Insert(head + one + suffix, each, many=True)


def _per(max_rows: int, max_parameters: int, width: int) -> int:
    """Rows a statement, binding ``width`` values a row."""
    return max(1, min(max_rows, max_parameters // max(width, 1)))


def _plain(values: list[Any], kinds: set[type]) -> list[Any]:
    """A column's values as the driver binds them without looking for an adapter, where it
    would bind them as a plain value anyway."""
    converts = {kind: to for kind in kinds if (to := _to_plain(kind)) is not None}
    if not converts:
        return values
    if len(kinds) == 1:
        return list(map(converts.popitem()[1], values))
    get = converts.get
    return [value if (to := get(type(value))) is None else to(value) for value in values]


def _to_plain(kind: type) -> Callable[[Any], Any] | None:
    """What turns a value of ``kind`` into the plain value the driver would bind it as; None
    if it is plain already, or is the driver's to adapt."""
    if kind in _PLAIN or _adapted(kind):
        return None
    if kind is bytes:
        return bytearray
    for base, to in _AS_PLAIN:
        if issubclass(kind, base):
            return to
    return None


def _adapted(kind: type) -> bool:
    """Whether the driver would turn a value of ``kind`` into another (a registered adapter,
    or ``__conform__``)."""
    return (kind, sqlite3.PrepareProtocol) in sqlite3.adapters or hasattr(kind, "__conform__")
