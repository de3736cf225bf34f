"""Selecting rows by a set of keys, in the form each database plans best."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import UserDefinedType

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


class _TextArray(UserDefinedType[str]):
    """A ``varchar[]`` parameter given as the text PostgreSQL reads an array from (its
    literal): the parameter itself is typed (``$1::VARCHAR[]``), so it is read once."""

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **kw: Any) -> str:
        return "VARCHAR[]"


def text_keys_in(
    dialect: str, column: ColumnElement[str], name: str | None, value: str | None = None
) -> ColumnElement[bool]:
    """A condition selecting the rows whose text ``column`` is one of the values given, all
    in one parameter of text, ``name`` (`text_keys` of the values): a statement built once
    serves any number of keys. On SQLite ``IN`` the elements of a JSON array, where IN lists
    of a thousand parameters cost more to render and bind than the query itself; on
    PostgreSQL ``IN`` the elements of an array given as its literal, where psycopg's dumping
    of a list of a thousand cost 1.4 ms, more than the query. (``name`` ``None``: an
    anonymous parameter of ``value``.)"""
    if dialect == "postgresql":
        # IN the array's elements, not = ANY(array): psycopg prepares a statement run five
        # times, PostgreSQL then plans it once for any array, and on a small table that plan
        # of = ANY compares each row with every element in turn (7 ms for a thousand keys and
        # 200 rows); this one hashes the elements or looks each up, as the table's size says.
        return column.in_(select(func.unnest(bindparam(name, value, type_=_TextArray()))))
    listed = func.json_each(bindparam(name, value, type_=Text)).table_valued("value")
    return column.in_(select(listed.c.value))


def rows_with_keys(
    dialect: str, columns: Sequence[ColumnElement[Any]], column: ColumnElement[str], name: str
) -> Select[Any]:
    """``columns`` of the rows whose text ``column`` is one of the values in parameter
    ``name`` (`text_keys`), for a table with an index on ``column`` that may be large.

    On PostgreSQL the rows of each key are looked up in turn, by the index (a lateral
    subquery, kept from being merged into the join by its ``OFFSET 0``). `text_keys_in`'s
    semi join leaves the choice to the planner, and on a day partition not yet analyzed (all
    of a new day, until autovacuum comes) it guessed a scan of the whole partition cheaper
    than ten lookups: 2 ms for 6,000 rows, and growing with the day. Elsewhere as
    `text_keys_in`."""
    if dialect != "postgresql":
        return select(*columns).where(text_keys_in(dialect, column, name))
    wanted = (
        func.unnest(bindparam(name, type_=_TextArray()))
        .table_valued("key")
        .render_derived(name="wanted")
    )
    found = (
        select(*columns).where(column == wanted.c.key).offset(literal_column("0")).lateral("found")
    )
    return select(found).select_from(wanted.join(found, true()))


def text_keys(dialect: str, values: Sequence[str]) -> str:
    """The parameter of `text_keys_in` for ``values`` (at least one)."""
    if dialect == "postgresql":
        every = "".join(values)
        if "\\" in every or '"' in every:  # escaped inside the array's quoted elements
            values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
        return '{"' + '","'.join(values) + '"}'
    return json.dumps(list(values))
