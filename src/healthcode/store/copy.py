"""Rows written by PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3), the bulk path of intake,
scans, record keys, statuses, notices, escrows, the log and retention: one round trip for any
number of rows, where an INSERT per row (or ``executemany``) costs one each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection

_SQLITE_PARAMETERS = 999


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY ``rows`` into ``table`` in the connection's transaction (PostgreSQL only); a
    constraint violation raises psycopg's error at the end of the COPY."""
    driver = conn.connection.driver_connection
    assert driver is not None
    names = ", ".join(columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_plain(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows of plain values (no types to adapt: instants as `to_micros`) straight to
    the driver: by COPY on PostgreSQL when there are several; on SQLite by INSERTs of many rows
    each. SQLAlchemy's per-row parameter processing is spared, and on PostgreSQL the
    round trip of each row (psycopg's ``executemany`` of ten status changes cost a
    millisecond, a COPY a quarter of one)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) > 1:
        copy_rows(conn, table, columns, rows)
        return
    marks = "(" + ", ".join([driver_mark(conn)] * len(columns)) + ")"
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(insert + marks, list(rows))
        return
    # SQLite: many rows a statement, where executemany binds and steps one a row; as many as
    # its oldest limit of parameters (999) allows.
    per = _SQLITE_PARAMETERS // len(columns)
    whole = len(rows) - len(rows) % per
    driver: Any = conn.connection.driver_connection
    cursor = driver.cursor()
    try:
        many = insert + ", ".join([marks] * per)
        for start in range(0, whole, per):
            cursor.execute(many, list(chain.from_iterable(rows[start : start + per])))
        if whole < len(rows):
            cursor.executemany(insert + marks, rows[whole:])
    finally:
        cursor.close()


def driver_mark(conn: Connection) -> str:
    """The driver's positional parameter mark: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"
