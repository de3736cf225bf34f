"""The store's durability settings, checked before the server takes a write.

A write is acknowledged only once committed; that means something only if a commit survives a
crash. SQLite must run in WAL mode with `synchronous` FULL (or EXTRA), which every connection
asks for (store/database.py) but a file system may refuse; PostgreSQL must have `fsync`,
`full_page_writes` and a `synchronous_commit` that waits for the local flush.
"""

from __future__ import annotations

from healthcode.store.database import Database

_SQLITE_FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
_POSTGRES = {
    "fsync": {"on"},
    "full_page_writes": {"on"},
    "synchronous_commit": {"on", "local", "remote_write", "remote_apply"},
}


def unsafe_settings(db: Database) -> list[str]:
    """What would let an acknowledged write be lost in a crash (nothing, when safe)."""
    problems: list[str] = []
    with db.read() as conn:
        if db.is_sqlite:
            mode = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower()
            synchronous = int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 0)
            if mode != "wal":
                problems.append(f"SQLite journal_mode is {mode}, not wal")
            if synchronous < _SQLITE_FULL:
                problems.append(f"SQLite synchronous is {synchronous}, not FULL (2) or EXTRA (3)")
            return problems
        for name, safe in _POSTGRES.items():
            value = str(conn.exec_driver_sql(f"SHOW {name}").scalar())
            if value not in safe:
                problems.append(f"PostgreSQL {name} is {value}, not one of {sorted(safe)}")
    return problems
