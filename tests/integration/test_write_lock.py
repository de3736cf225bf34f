"""One write transaction at a time, on SQLite and PostgreSQL: while a writer is inside
`Database.write`, no other connection can take the store's write lock; once it has committed,
one can."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, text

from healthcode.store.database import _WRITE_LOCK_KEY, Database


def _another_can_write(db: Database) -> bool:
    """Whether a connection of its own takes the write lock at once (and lets it go)."""
    if db.is_sqlite:
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
    engine = create_engine(db.url)
    try:
        with engine.begin() as conn:
            taken = conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY}
            )
        return bool(taken)
    finally:
        engine.dispose()


def test_a_writer_holds_the_write_lock_until_it_commits(database: Database) -> None:
    assert _another_can_write(database)
    with database.write():
        assert not _another_can_write(database)
    assert _another_can_write(database)
