"""The log's next index, known after an append without a read, is the stored one in every case:
the same transaction, a savepoint rolled back or released, another transaction, another
connection; on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from healthcode.services import transparency
from healthcode.store import tables as t
from healthcode.store.database import Database

AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _append(conn, count: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    return transparency.append(conn, [("test", lambda i: b"%d" % i)] * count, AT)


def _stored(db: Database) -> list[int]:
    with db.read() as conn:
        return list(conn.scalars(select(t.log_entries.c.idx).order_by(t.log_entries.c.idx)))


def test_a_second_append_in_a_transaction_reads_nothing(database: Database) -> None:
    reads: list[str] = []
    with database.write() as conn:
        assert _append(conn, 2) == [0, 1]
        listen = lambda *args: reads.append(args[2])  # noqa: E731
        event.listen(database.engine, "before_cursor_execute", listen)
        try:
            assert _append(conn) == [2]
        finally:
            event.remove(database.engine, "before_cursor_execute", listen)
    assert not any("max" in statement for statement in reads)
    assert _stored(database) == [0, 1, 2]


@pytest.mark.parametrize("ending", ["rolled back", "released"])
def test_a_savepoint_s_appends_are_counted_only_if_kept(database: Database, ending: str) -> None:
    with database.write() as conn:
        _append(conn)
        nested = conn.begin_nested()
        assert _append(conn) == [1]
        nested.rollback() if ending == "rolled back" else nested.commit()
        assert _append(conn) == ([1] if ending == "rolled back" else [2])
        # An outer append after an inner one that was kept: the inner's next index holds.
        with conn.begin_nested():
            inner = _append(conn)
        assert _append(conn) == [inner[0] + 1]
    stored = _stored(database)
    assert stored == list(range(len(stored)))


def test_a_later_transaction_reads_what_others_appended(database: Database) -> None:
    with database.write() as conn:
        _append(conn)  # the next index is known to this connection...
    with database.write() as conn:  # ...and entries come by SQL of its own (another process)
        conn.execute(
            t.log_entries.insert(),
            [{"idx": i, "kind": "test", "body": b"x", "recorded_at": AT} for i in (1, 2, 3)],
        )
    with database.write() as conn:
        assert _append(conn) == [4]
    assert _stored(database) == [0, 1, 2, 3, 4]
