"""`store.sqlite_rows`: rows written by its statements are the rows ``executemany`` writes,
value for value, type for type and in order, whatever mix of values and empty columns they
hold; no statement binds more values or holds more rows than allowed, and every statement of
a call is alike; a value the driver would adapt is still adapted."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from enum import Enum, IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode.store import sqlite_rows
from healthcode.store.sqlite_rows import Insert

COLUMNS = ("a", "b", "c", "d")


class Colour(StrEnum):
    GREEN = "green"
    RED = "红"


class Shade(str, Enum):  # noqa: UP042 (the mix-in is what is tested)
    """A str mixed into an Enum: its ``str()`` is not its value."""

    DARK = "dark"


class Level(IntEnum):
    LOW = 1
    HIGH = 3

    def __int__(self) -> int:  # the driver reads the stored value, never this
        return 42


class Ratio(float, Enum):
    HALF = 0.5
    NONE = -0.0


class Scaled(float):
    def __float__(self) -> float:  # the driver reads the stored value, never this
        return 42.0


class Tagged(str):
    """A str written as its ``__conform__`` gives it, not as its text."""

    __slots__ = ()

    def __conform__(self, protocol: object) -> str:
        return f"tag:{self}"


class Conforming:
    """Written as its ``__conform__`` gives it (the driver's protocol)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __conform__(self, protocol: object) -> str:
        return f"conformed:{self.value}"


class Adapted:
    """Written as its registered adapter gives it."""

    def __init__(self, value: int) -> None:
        self.value = value


sqlite3.register_adapter(Adapted, lambda adapted: adapted.value * 10)

_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.binary(max_size=8).map(bytearray),
    st.booleans(),
    st.sampled_from(list(Colour)),
    st.sampled_from(list(Shade)),
    st.floats(allow_nan=False).map(Scaled),
    st.text(max_size=4).map(Tagged),
    st.sampled_from(list(Level)),
    st.sampled_from(list(Ratio)),
    st.text(max_size=4).map(Conforming),
    st.integers(min_value=0, max_value=99).map(Adapted),
)
# Runs of alike rows (as intake writes a batch of one kind) in any mix.
_ROW = st.tuples(*[_VALUES] * len(COLUMNS))


@st.composite
def _rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    kinds = draw(st.lists(_ROW, min_size=1, max_size=3))
    runs = draw(st.lists(st.tuples(st.sampled_from(kinds), st.integers(1, 40)), max_size=6))
    return [row for row, count in runs for _ in range(count)]


def _connection() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for table in ("ours", "theirs"):
        conn.execute(f"CREATE TABLE {table} ({', '.join(COLUMNS)})")  # no types: as bound
    return conn


def _run(conn: sqlite3.Connection, inserts: Iterator[Insert]) -> list[Insert]:
    done = []
    for insert in inserts:
        if insert.many:
            conn.executemany(insert.statement, insert.parameters)
        else:
            conn.execute(insert.statement, insert.parameters)
        done.append(insert)
    return done


def _stored(conn: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    typed = ", ".join(f"typeof({name}), {name}" for name in COLUMNS)
    return conn.execute(f"SELECT {typed} FROM {table} ORDER BY rowid").fetchall()


def _bound(insert: Insert) -> Sequence[Any]:
    if insert.many:
        assert isinstance(insert.parameters, list)
        return [value for row in insert.parameters for value in row]
    return insert.parameters


@settings(max_examples=150, deadline=None)
@given(
    rows=_rows(),
    max_rows=st.integers(1, 50),
    max_parameters=st.integers(1, 120),
)
def test_rows_are_stored_as_executemany_stores_them(
    rows: list[tuple[Any, ...]], max_rows: int, max_parameters: int
) -> None:
    conn = _connection()
    marks = ", ".join("?" * len(COLUMNS))
    conn.executemany(f"INSERT INTO theirs ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
    inserts = _run(
        conn,
        sqlite_rows.inserts(
            "ours", COLUMNS, rows, max_rows=max_rows, max_parameters=max_parameters
        ),
    )
    assert _stored(conn, "ours") == _stored(conn, "theirs")
    # Rows that fill a statement of many, their empty columns left out, are converted: then
    # nothing bound goes through the driver's adapter lookup but what it must adapt. Fewer
    # are bound as they are.
    empty = sum(all(row[i] is None for row in rows) for i in range(len(COLUMNS)))
    per = max(1, min(max_rows, max_parameters // max(len(COLUMNS) - empty, 1)))
    converted = len(rows) >= per
    for insert in inserts:
        if not insert.many:
            assert len(insert.parameters) <= max_parameters
            assert insert.statement.count("), (") + 1 <= max_rows
        if converted:
            assert not any(type(value) in _CONVERTED for value in _bound(insert))
        else:
            assert _first_values(insert.statement) == "(?, ?, ?, ?)"
    # Every statement of a call is alike: the runs of rows of each kind share them.
    assert len({_first_values(insert.statement) for insert in inserts}) <= 1


_CONVERTED = (bytes, bool, Colour, Shade, Level, Ratio, Scaled)


def _first_values(statement: str) -> str:
    found = re.search(r"VALUES (\([^)]*\))", statement)
    assert found is not None
    return found.group(1)


def test_rows_fill_whole_statements_and_the_rest_goes_by_executemany() -> None:
    rows = [(i, None, b"x", Colour.RED) for i in range(25)]
    inserts = list(sqlite_rows.inserts("ours", COLUMNS, rows, max_rows=10, max_parameters=999))
    assert [(insert.many, len(insert.parameters)) for insert in inserts] == [
        (False, 30),
        (False, 30),
        (True, 5),
    ]
    assert inserts[0].statement.endswith("(?, NULL, ?, ?)")
    assert inserts[0].parameters[:3] == (0, bytearray(b"x"), "红")
    assert [type(value) for value in inserts[0].parameters[:3]] == [int, bytearray, str]
    assert inserts[2].parameters[0] == (20, bytearray(b"x"), "红")
    assert [type(value) for value in inserts[2].parameters[0]] == [int, bytearray, str]


def test_rows_too_few_for_a_statement_go_by_executemany_as_they_are() -> None:
    rows = [(i, None, b"x", Colour.RED) for i in range(9)]
    (insert,) = sqlite_rows.inserts("ours", COLUMNS, rows, max_rows=10, max_parameters=999)
    assert insert.many and insert.statement.endswith("(?, ?, ?, ?)")
    assert insert.parameters == rows
    assert [type(value) for value in insert.parameters[0]] == [int, type(None), bytes, Colour]


def test_rows_too_few_once_empty_columns_are_left_out_are_bound_as_they_are() -> None:
    """300 rows fill a statement of four values a row (249 within 999), not one of two."""
    rows = [(i, None, b"x", None) for i in range(300)]
    inserts = list(sqlite_rows.inserts("ours", COLUMNS, rows, max_rows=999, max_parameters=999))
    assert [(insert.many, len(insert.parameters)) for insert in inserts] == [
        (False, 996),
        (True, 51),
    ]
    assert inserts[0].statement.endswith("(?, ?, ?, ?)")
    assert inserts[0].parameters[:4] == (0, None, b"x", None)
    assert type(inserts[0].parameters[2]) is bytes


@pytest.mark.parametrize("columns", [("a",), ("a", "b", "c", "d", "e", "f", "g")])
def test_rows_given_as_lists_of_any_width(columns: tuple[str, ...]) -> None:
    rows = [[None if (i + j) % 3 else j * i for j in range(len(columns))] for i in range(40)]
    rows += [[b"z" * i, *[None] * (len(columns) - 1)] for i in range(40)]
    conn = sqlite3.connect(":memory:")
    for table in ("ours", "theirs"):
        conn.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    marks = ", ".join("?" * len(columns))
    conn.executemany(f"INSERT INTO theirs VALUES ({marks})", rows)
    _run(conn, sqlite_rows.inserts("ours", columns, rows, max_rows=7, max_parameters=99))
    typed = ", ".join(f"typeof({name}), {name}" for name in columns)
    ours, theirs = (
        conn.execute(f"SELECT {typed} FROM {table} ORDER BY rowid").fetchall()
        for table in ("ours", "theirs")
    )
    assert ours == theirs


def test_rows_of_several_kinds_share_statements() -> None:
    """A batch mixing kinds of evidence is written in as many statements as one of a kind: a
    column is NULL in the statement only where every row has it empty."""
    rows = [(i, Shade.DARK, None, b"x") if i % 2 else (i, None, None, None) for i in range(1000)]
    inserts = list(sqlite_rows.inserts("ours", COLUMNS, rows, max_rows=500, max_parameters=9999))
    assert [insert.many for insert in inserts] == [False, False]
    assert inserts[0].statement.endswith("(?, ?, NULL, ?)")
    assert inserts[0].parameters[:6] == (0, None, None, 1, "dark", bytearray(b"x"))
    assert [type(value) for value in inserts[0].parameters[3:6]] == [int, str, bytearray]


def test_the_parameter_limit_bounds_the_rows_a_statement() -> None:
    rows = [(i, i, i, None) for i in range(10)]
    inserts = list(sqlite_rows.inserts("ours", COLUMNS, rows, max_rows=500, max_parameters=7))
    assert [len(insert.parameters) for insert in inserts] == [6] * 5  # two rows of three


def test_no_rows_no_statements() -> None:
    assert list(sqlite_rows.inserts("ours", COLUMNS, [], max_rows=5, max_parameters=99)) == []


def test_a_row_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="each of 4 columns"):
        list(sqlite_rows.inserts("ours", COLUMNS, [(1, 2, 3, 4), (1, 2, 3)], max_rows=5,
                                 max_parameters=99))  # fmt: skip


def test_the_suffix_ends_every_statement() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE keyed (a PRIMARY KEY, b, c, d)")
    conn.execute("INSERT INTO keyed VALUES (2, 'kept', NULL, NULL)")
    rows = [(i, "new", None, None) for i in range(5)]
    _run(
        conn,
        sqlite_rows.inserts(
            "keyed",
            COLUMNS,
            rows,
            max_rows=2,
            max_parameters=99,
            suffix=" ON CONFLICT DO NOTHING",
        ),
    )
    assert conn.execute("SELECT a, b FROM keyed ORDER BY a").fetchall() == [
        (0, "new"), (1, "new"), (2, "kept"), (3, "new"), (4, "new"),
    ]  # fmt: skip


def _same_as_executemany(rows: list[tuple[Any, ...]]) -> Insert:
    conn = _connection()
    conn.executemany("INSERT INTO theirs VALUES (?, ?, ?, ?)", rows)
    (insert,) = _run(
        conn, sqlite_rows.inserts("ours", COLUMNS, rows, max_rows=len(rows), max_parameters=99)
    )
    assert _stored(conn, "ours") == _stored(conn, "theirs")
    return insert


@pytest.mark.parametrize("value", [Conforming("x"), Adapted(4)])
def test_a_value_the_driver_adapts_is_bound_for_it_to_adapt(value: object) -> None:
    insert = _same_as_executemany([(1, value, None, None)] * 3)
    assert insert.parameters[1] is value


def test_a_type_given_an_adapter_later_is_bound_for_the_driver_to_adapt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _same_as_executemany([(True, None, b"x", 1)] * 2)
    assert [type(value) for value in before.parameters[:2]] == [int, bytearray]
    monkeypatch.setitem(sqlite3.adapters, (bool, sqlite3.PrepareProtocol), lambda b: f"b{b}")
    monkeypatch.setitem(sqlite3.adapters, (bytes, sqlite3.PrepareProtocol), bytes.hex)
    monkeypatch.setitem(sqlite3.adapters, (type(None), sqlite3.PrepareProtocol), lambda _: "-")
    insert = _same_as_executemany([(True, None, b"x", 1)] * 2)
    assert insert.statement.endswith("(?, ?, ?, ?)")
    assert insert.parameters[:3] == (True, None, b"x")
    assert type(insert.parameters[2]) is bytes


def test_nothing_is_converted_while_a_plain_type_has_an_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sqlite3.adapters, (str, sqlite3.PrepareProtocol), str.upper)
    insert = _same_as_executemany([(Colour.RED, True, b"x", None)] * 2)
    assert [type(value) for value in insert.parameters] == [Colour, bool, bytes, type(None)] * 2
