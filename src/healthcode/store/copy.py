"""Rows written by PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3), the bulk path of intake,
scans, record keys and retention: one round trip for any number of rows, where an INSERT per
row (or ``executemany``) costs one each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection


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
