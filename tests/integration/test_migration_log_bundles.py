"""Migration 0016 turns the log's entry rows of each full bundle into a bundle row, each entry
keeping its index, kind, body and instant, the last partial bundle's staying rows, and back; a
log with an entry missing below a later one, or one below index 0, is refused and left as it
was. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from healthcode.store import log_bundles
from healthcode.store.database import Database
from healthcode.store.instants import from_micros
from healthcode.store.migrate import alembic_config
from healthcode.tlog import encode_entry_bundle

SIZE = 2 * 256 + 100  # two full bundles and a partial one
AT = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1_000_000)


def _rows(size: int) -> list[tuple[int, str, bytes, int]]:
    kinds = ("registry", "status_change", "evidence_batch")
    return [(i, kinds[i % 3], b'{"n":%d}' % i + b"x" * (i % 40), AT + i * 7) for i in range(size)]


def _insert(db: Database, rows: list[tuple[int, str, bytes, int]]) -> None:
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO log_entries (idx, kind, body, recorded_at) VALUES (:i, :k, :b, :a)"),
            [{"i": i, "k": k, "b": b, "a": a} for i, k, b, a in rows],
        )


def _entry_rows(db: Database) -> list[tuple[int, str, bytes, int]]:
    with db.read() as conn:
        found = conn.execute(
            text("SELECT idx, kind, body, recorded_at FROM log_entries ORDER BY idx")
        )
        return [(int(i), kind, bytes(body), int(at)) for i, kind, body, at in found]


def test_entries_become_bundles_and_back(empty: Database) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "0015")
    rows = _rows(SIZE)
    _insert(empty, rows)
    command.upgrade(config, "0016")
    with empty.read() as conn:
        assert log_bundles.next_index(conn) == SIZE
        assert list(log_bundles.iter_entries(conn, 0, SIZE)) == [(i, k, b) for i, k, b, _ in rows]
        heads = log_bundles.entry_heads(conn, 0, SIZE)
        stored = conn.execute(text("SELECT idx, entries FROM log_bundles ORDER BY idx")).all()
    assert heads == [(i, k, len(b), from_micros(a)) for i, k, b, a in reversed(rows)]
    # Each full bundle's row is the bundle served at /log/tile/entries/N, byte for byte; the
    # entries of the last, partial one stay rows.
    assert [(int(n), bytes(data)) for n, data in stored] == [
        (n, encode_entry_bundle([b for _, _, b, _ in rows[n * 256 : (n + 1) * 256]]))
        for n in range(2)
    ]
    assert _entry_rows(empty) == rows[512:]
    command.downgrade(config, "0015")
    assert _entry_rows(empty) == rows


@pytest.mark.parametrize("missing", [5, 300, SIZE - 2], ids=["bundle 0", "bundle 1", "last"])
def test_a_log_with_a_gap_is_refused_and_left_as_it_was(empty: Database, missing: int) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "0015")
    rows = [row for row in _rows(SIZE) if row[0] != missing]
    _insert(empty, rows)
    with pytest.raises(RuntimeError, match=f"no entry {missing} but has entry"):
        command.upgrade(config, "0016")
    assert _entry_rows(empty) == rows
    with empty.read() as conn:
        version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == "0015"


def test_a_gap_of_whole_chunks_is_refused(empty: Database) -> None:
    """Entries missing from a whole chunk the migration reads at once (64 bundles)."""
    config = alembic_config(empty)
    command.upgrade(config, "0015")
    rows = [row for row in _rows(SIZE) if row[0] < 10] + [(70_000, "registry", b"{}", AT)]
    _insert(empty, rows)
    with pytest.raises(RuntimeError, match="no entry 10 but has entry 70000"):
        command.upgrade(config, "0016")
    assert _entry_rows(empty) == rows


def test_an_entry_below_index_0_is_refused(empty: Database) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "0015")
    rows = [(-1, "registry", b"{}", AT), *_rows(10)]
    _insert(empty, rows)
    with pytest.raises(RuntimeError, match="an entry at index -1, below 0"):
        command.upgrade(config, "0016")
    assert _entry_rows(empty) == rows
