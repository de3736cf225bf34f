"""The log's next index, known after an append without a read, is the stored one in every case:
the same transaction, a savepoint rolled back or released, another transaction, another
connection; on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from healthcode.services import transparency
from healthcode.store import log_bundles
from healthcode.store.database import Database
from healthcode.store.instants import to_micros
from tests.log_rows import statements_read, stored

AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _append(conn, count: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    return transparency.append(conn, [("test", lambda i: b"%d" % i)] * count, AT)


def _stored(db: Database) -> list[int]:
    with db.read() as conn:
        return [index for index, _, _ in stored(conn)]


def test_a_second_append_in_a_transaction_reads_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = statements_read(monkeypatch)
    with database.write() as conn:
        assert _append(conn, 2) == [0, 1]
        assert [s for s in statements if s.startswith("SELECT")]  # the first one read it
        statements.clear()
        assert _append(conn) == [2]
    assert not [s for s in statements if s.startswith("SELECT")]
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
        log_bundles.insert_entries(conn, 1, ["test"] * 3, [b"x"] * 3, to_micros(AT))
    with database.write() as conn:
        assert _append(conn) == [4]
    assert _stored(database) == [0, 1, 2, 3, 4]


def test_an_entry_is_given_as_bytes_or_made_from_its_index(database: Database) -> None:
    made: list[int] = []

    def builder(index: int) -> bytes:
        made.append(index)
        return b"built %d" % index

    with database.write() as conn:
        _append(conn)
        indices = transparency.append(
            conn, [("test", b"as given"), ("test", builder), ("other", b"as given")], AT
        )
    assert indices == [1, 2, 3] and made == [2]
    with database.read() as conn:
        assert stored(conn)[1:] == [(1, "test", b"as given"), (2, "test", b"built 2"),
                                    (3, "other", b"as given")]  # fmt: skip
