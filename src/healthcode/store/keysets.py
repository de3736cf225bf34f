"""Selecting rows by a set of keys, in the form each database plans best."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

_IN_LIST = 500  # bound the size of IN lists (SQLite's host parameters are limited)


def one_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> Iterator[ColumnElement[bool]]:
    """Conditions that together select the rows whose ``column`` is one of ``values``.

    On PostgreSQL a single ``= ANY(array)``: one parameter, parsed and planned once, where an
    IN list of 500 parameters cost several milliseconds per query to plan; elsewhere IN lists.
    """
    if not values:
        return
    if conn.dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), _IN_LIST):
        yield column.in_(list(values[start : start + _IN_LIST]))
