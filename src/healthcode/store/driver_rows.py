"""Rows read at the driver, past SQLAlchemy's per-row result processing.

The log reads entries and tiles by the ten thousand, where SQLAlchemy's processing of each row
costs several times the database's own work (bench/tlog.py); its statements are plain, with no
types to adapt.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from healthcode.store.copy import driver_mark


def fetch_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Rows of ``sql`` (``?`` marks) as the driver's tuples (binary columns as ``bytes`` from
    both sqlite3 and psycopg). Inside `store.copy.pipelined` it waits for what was sent
    before it, where SQLAlchemy's result of a statement sent in a pipeline has no rows."""
    driver: Any = conn.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.execute(sql.replace("?", driver_mark(conn)), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
