"""One write transaction at a time, on SQLite and PostgreSQL: while a writer is inside
`Database.write` it holds the store's write lock (on SQLite no other connection can begin a
write; on PostgreSQL its session holds the advisory lock), and once it has committed, not."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text

from healthcode.store.database import _WRITE_LOCK_KEY, Database

# The advisory lock of a session (a key under 2^32: class 0, the key, one key of 64 bits).
_HELD = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = :pid AND classid = 0 AND objid = :key AND objsubid = 1"
)


def _sqlite_free(db: Database) -> bool:
    """Whether a connection of its own begins a write at once (and lets it go)."""
    other = sqlite3.connect(db.url.removeprefix("sqlite:///"), timeout=0)
    other.isolation_level = None
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def test_a_writer_holds_the_write_lock_until_it_commits(database: Database) -> None:
    if database.is_sqlite:
        assert _sqlite_free(database)
        with database.write():
            assert not _sqlite_free(database)
        assert _sqlite_free(database)
        return
    # Asked of this writer's session, not whether anyone can take the lock: the database is
    # shared, and another session may hold it or wait for it meanwhile.
    with database.write() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with database.read() as other:
            assert other.scalar(text(_HELD), {"pid": pid, "key": _WRITE_LOCK_KEY}) == 1
    with database.read() as other:
        assert other.scalar(text(_HELD), {"pid": pid, "key": _WRITE_LOCK_KEY}) == 0
