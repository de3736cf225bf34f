"""Rows written straight to the driver: by PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3),
the bulk path of intake, scans, record keys, statuses, notices, escrows, the log and retention,
one round trip for any number of rows, where an INSERT per row (or ``executemany``) costs one
each; and small inserts sent together in psycopg's pipeline mode (`pipelined`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import pq
from sqlalchemy import BigInteger, Boolean, Connection, Integer, LargeBinary, String, Table, Text
from sqlalchemy.types import TypeDecorator

from healthcode.store import sqlite_rows

_SQLITE_PARAMETERS = 999


def copy_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    types: Sequence[str] | None = None,
) -> None:
    """COPY ``rows`` into ``table`` in the connection's transaction (PostgreSQL only); a
    constraint violation raises psycopg's error at the end of the COPY.

    ``types``: the columns' PostgreSQL types (`column_types`), to send the rows in COPY's
    binary format (psycopg's ``Copy.set_types``), each value as the type's bytes: a thousand
    evidence rows took psycopg 1.2 ms to format, where the text format, which renders every
    value as text for the server to parse back (a record's bytes as hex), took 3.1 ms. The
    values must then be of the columns' types exactly (an int for an integer column)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    names = ", ".join(columns)
    binary = " (FORMAT BINARY)" if types is not None else ""
    statement = f"COPY {table} ({names}) FROM STDIN{binary}"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        if types is not None:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def column_types(table: Table, columns: Sequence[str]) -> list[str]:
    """The PostgreSQL types of ``table``'s ``columns``, for `copy_rows`' binary format (a
    varchar's length is a check on the value, not part of its bytes)."""
    found = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, TypeDecorator):
            kind = kind.impl_instance
        for cls, pg_type in _PG_TYPES:
            if isinstance(kind, cls):
                found.append(pg_type)
                break
        else:
            raise TypeError(f"{table.name}.{name}: no binary COPY type for {kind!r}")
    return found


# Most specific first: a BigInteger is an Integer, a Text a String.
_PG_TYPES: tuple[tuple[type[Any], str], ...] = (
    (BigInteger, "int8"), (Integer, "int4"), (Boolean, "bool"), (LargeBinary, "bytea"),
    (Text, "text"), (String, "varchar"),
)  # fmt: skip


def insert_plain(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    keep_existing: bool = False,
) -> None:
    """Insert rows of plain values (no types to adapt: instants as `to_micros`) straight to
    the driver: by COPY on PostgreSQL when there are several, else INSERT (``executemany``; on
    SQLite many rows a statement). SQLAlchemy's per-row parameter processing is spared, and on
    PostgreSQL the round trip of each row (psycopg's ``executemany`` of ten status changes cost
    a millisecond, a COPY a quarter of one). Inside `pipelined`, an INSERT that waits for
    nothing. ``keep_existing``: a row whose key is taken is passed over (``ON CONFLICT DO
    NOTHING``, never by COPY)."""
    if not rows:
        return
    postgres = conn.dialect.name == "postgresql"
    if postgres and len(rows) > 1 and not keep_existing and not _in_pipeline(conn):
        copy_rows(conn, table, columns, rows)
        return
    marks = "(" + ", ".join([driver_mark(conn)] * len(columns)) + ")"
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    conflict = " ON CONFLICT DO NOTHING" if keep_existing else ""
    driver: Any = conn.connection.driver_connection
    if postgres:
        with driver.cursor() as cursor:
            cursor.executemany(insert + marks + conflict, rows)
        return
    # SQLite: many rows a statement, where executemany binds and steps one a row; as many as
    # its oldest limit of parameters (999) allows, and no more than that many rows where a
    # row binds none (its columns written as NULL); the values bound as the driver binds them
    # fastest (`store.sqlite_rows`).
    cursor = driver.cursor()
    try:
        for each in sqlite_rows.inserts(
            table,
            columns,
            rows,
            max_rows=_SQLITE_PARAMETERS,
            max_parameters=_SQLITE_PARAMETERS,
            suffix=conflict,
        ):
            if each.many:
                cursor.executemany(each.statement, each.parameters)
            else:
                cursor.execute(each.statement, each.parameters)
    finally:
        cursor.close()


@contextmanager
def pipelined(conn: Connection, *, rows: int) -> Iterator[None]:
    """On PostgreSQL, the `insert_plain` inserts made inside are sent together and answered
    in one round trip at the end (psycopg's pipeline mode), when they are at most
    `PIPELINED_ROWS` ``rows`` in all (more go by COPY, which a pipeline cannot hold); a read
    inside waits for what was sent before it. A refused row raises psycopg's error at the end.
    Elsewhere nothing changes."""
    if conn.dialect.name != "postgresql" or rows > PIPELINED_ROWS:
        yield
        return
    driver: Any = conn.connection.driver_connection
    with driver.pipeline():
        yield


PIPELINED_ROWS = 2000  # an INSERT a row, each cheap to the server: fewer than a COPY is worth


def _in_pipeline(conn: Connection) -> bool:
    driver: Any = conn.connection.driver_connection
    return bool(driver.pgconn.pipeline_status != pq.PipelineStatus.OFF)


def driver_mark(conn: Connection) -> str:
    """The driver's positional parameter mark: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"
