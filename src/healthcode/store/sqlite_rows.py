"""INSERT statements for many rows on SQLite, with their values as Python's sqlite3 binds them
fastest.

The driver binds an int, a float, a str or a bytearray at once, and any other value (None,
bytes, a bool, an enum member) only after looking for an adapter for it: a key built, a
registry searched, two attributes looked up. On CPython 3.11 that costs about 0.8 µs a None and
1.1 µs a bytes, against 0.05 µs an int and 0.2 µs a bytearray, and an evidence row of a test
result has seven empty columns and a blob: the lookups were most of the time its insert took
(`docs/scale.md`, intake). So a NULL is written in the statement rather than bound, and the
other values are bound as the plain type the driver would have bound them as: bytes as a
bytearray (a BLOB either way), a bool or an int enum as an int, a str enum as a str, a float
subclass as a float. The rows stored are the same, value for value and type for type (checked
against ``executemany`` in ``tests/store/test_sqlite_rows.py``). A value of a type with an
adapter registered, or with ``__conform__``, is left for the driver to adapt.

Rows go in the order given, many to a statement; consecutive rows with their empty columns in
the same places share one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import chain, groupby, repeat
from operator import itemgetter
from typing import Any

_NONE = type(None)
_PLAIN = frozenset({int, float, str, bytearray})

# What the rows of a run are given as: a tuple of parameters for one statement, or a list of
# them for ``executemany``.
Parameters = tuple[Any, ...] | list[tuple[Any, ...]]


@dataclass(frozen=True)
class Insert:
    """One statement and its parameters; ``many``: run by ``executemany``."""

    statement: str
    parameters: Parameters
    many: bool


@dataclass(frozen=True)
class _Plan:
    """How rows whose values have these types are written."""

    values: str  # a row's "(?, NULL, ?)"
    pick: Callable[[Sequence[Any]], tuple[Any, ...]]  # a row's bound values
    width: int  # how many are bound
    converts: tuple[tuple[int, Callable[[Any], Any]], ...]  # (bound value, to the plain type)


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
    up to ``max_rows`` rows and ``max_parameters`` bound values a statement, the rest of a run
    of rows by ``executemany``. ``suffix`` ends each statement (``ON CONFLICT DO NOTHING``)."""
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    for shape, group in _runs(rows):
        plan = _plan(shape)
        width = plan.width
        bound = list(chain.from_iterable(map(plan.pick, group)))
        for position, convert in plan.converts:
            bound[position::width] = list(map(convert, bound[position::width]))
        per = max(1, min(max_rows, max_parameters // max(width, 1)))
        whole = len(group) - len(group) % per if per > 1 else 0
        if whole:
            many = _statement(head, plan.values, per, suffix)
            for first in range(0, whole, per):
                yield Insert(many, tuple(bound[first * width : (first + per) * width]), many=False)
        if whole < len(group):
            rest = iter(bound[whole * width :])
            each = list(zip(*[rest] * width, strict=True)) if width else [()] * (len(group) - whole)
            yield Insert(head + plan.values + suffix, each, many=True)


def _runs(rows: Sequence[Sequence[Any]]) -> Iterator[tuple[tuple[type, ...], Sequence[Any]]]:
    """The runs of consecutive rows whose values have the same types, with those types."""
    if not rows:
        return
    shapes = list(map(tuple, map(map, repeat(type), rows)))  # each row's types, all in C
    if shapes.count(shapes[0]) == len(shapes):  # the usual: rows of one kind
        yield shapes[0], rows
        return
    start = 0
    for shape, run in groupby(shapes):
        end = start + sum(1 for _ in run)
        yield shape, rows[start:end]
        start = end


@lru_cache(maxsize=256)
def _plan(shape: tuple[type, ...]) -> _Plan:
    keep = [i for i, kind in enumerate(shape) if kind is not _NONE or _adapted(kind)]
    marks = ("?" if i in keep else "NULL" for i in range(len(shape)))
    converts = tuple(
        (position, convert)
        for position, i in enumerate(keep)
        if (convert := _to_plain(shape[i])) is not None
    )
    pick: Callable[[Sequence[Any]], tuple[Any, ...]]
    if len(keep) > 1:
        pick = itemgetter(*keep)
    elif keep:
        only = keep[0]

        def pick(row: Sequence[Any]) -> tuple[Any, ...]:
            return (row[only],)
    else:

        def pick(row: Sequence[Any]) -> tuple[Any, ...]:
            return ()

    return _Plan("(" + ", ".join(marks) + ")", pick, len(keep), converts)


def _adapted(kind: type) -> bool:
    """Whether the driver would turn a value of ``kind`` into another (a registered adapter,
    or ``__conform__``): then it is bound as it is, for the driver to do so."""
    return (kind, sqlite3.PrepareProtocol) in sqlite3.adapters or hasattr(kind, "__conform__")


def _to_plain(kind: type) -> Callable[[Any], Any] | None:
    """The plain value the driver binds a value of ``kind`` as, if it looks for an adapter
    first (None: it does not, or the value is left to it)."""
    if kind in _PLAIN or _adapted(kind):
        return None
    if kind is bytes:
        return bytearray
    if issubclass(kind, bool) or (issubclass(kind, int) and issubclass(kind, Enum)):
        return int
    if issubclass(kind, str) and issubclass(kind, Enum):
        return str.__str__  # the member's text, as an exact str
    if issubclass(kind, float) and issubclass(kind, Enum):
        return float
    return None


@lru_cache(maxsize=64)
def _statement(head: str, values: str, rows: int, suffix: str) -> str:
    return head + ", ".join([values] * rows) + suffix
