"""Insert-or-update of one row by primary key, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(conn: Connection, table: Table, row: dict[str, Any], keep: tuple[str, ...] = ()) -> None:
    """Insert ``row``; if its key exists, update every column except the key and ``keep``."""
    keys = [column.name for column in table.primary_key.columns]
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    changed = {name: insert.excluded[name] for name in row if name not in keys and name not in keep}
    statement = (
        insert.values(row).on_conflict_do_update(index_elements=keys, set_=changed)
        if changed
        else insert.values(row).on_conflict_do_nothing(index_elements=keys)
    )
    conn.execute(statement)
