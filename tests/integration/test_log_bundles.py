"""The log's entries stored a full bundle a row and the bundle being filled a row an entry
(``store/log_bundles.py``): appends of any sizes, across bundle boundaries and in one
transaction or many, store each entry at its index with its kind and instant, each bundle row
the bundle /log/tile/entries/N serves and no more than 255 entry rows; an append that would
fill a bundle whose entry rows are not those expected fails and writes nothing; reads tell a
gap from the end. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.instants import from_micros, to_micros
from healthcode.tlog import encode_entry_bundle
from tests.log_rows import remove_entry, statements_read

AT = to_micros(datetime(2026, 6, 1, tzinfo=UTC))


def _entries(first: int, count: int) -> tuple[list[str], list[bytes]]:
    kinds = [
        ("registry", "status_change", "designation")[i % 3] for i in range(first, first + count)
    ]
    return kinds, [b'{"i":%d}' % i + b"." * (i % 300) for i in range(first, first + count)]


def _append(db: Database, sizes: list[int], at: int = AT) -> None:
    with db.write() as conn:
        for size in sizes:
            first = log_bundles.next_index(conn)
            log_bundles.insert_entries(conn, first, *_entries(first, size), at + first)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=st.lists(st.lists(st.integers(0, 600), min_size=1, max_size=3), max_size=4))
def test_appends_store_each_entry_at_its_index(database: Database, writes: list[list[int]]) -> None:
    with database.write() as conn:  # each example from an empty log
        conn.execute(delete(t.log_bundles))
        conn.execute(delete(t.log_entries))
    for sizes in writes:  # a transaction each
        _append(database, sizes)
    total = sum(map(sum, writes))
    kinds, bodies = _entries(0, total)
    with database.read() as conn:
        assert log_bundles.next_index(conn) == total
        assert list(log_bundles.iter_entries(conn, 0, total, chunk=2)) == [
            (i, kinds[i], bodies[i]) for i in range(total)
        ]
        assert log_bundles.entries(conn, 7, total + 5) == bodies[7:]
        rows = conn.execute(select(t.log_bundles.c.idx, t.log_bundles.c.entries)).all()
        singles = list(conn.scalars(select(t.log_entries.c.idx).order_by(t.log_entries.c.idx)))
        heads = log_bundles.entry_heads(conn, 0, total)
    assert sorted((int(n), bytes(data)) for n, data in rows) == [
        (n, encode_entry_bundle(bodies[n * 256 : (n + 1) * 256])) for n in range(total // 256)
    ]
    assert singles == list(range(total - total % 256, total))
    # Each entry's instant is that of the append that wrote it.
    starts = [0]
    for sizes in writes:
        for size in sizes:
            starts.append(starts[-1] + size)
    first_of = {i: start for start, end in pairwise(starts) for i in range(start, end)}
    assert heads == [
        (i, kinds[i], len(bodies[i]), from_micros(AT + first_of[i])) for i in reversed(range(total))
    ]


@pytest.mark.parametrize("size", [1, 300], ids=["filling", "taking"])
def test_an_append_to_entry_rows_not_as_expected_writes_nothing(
    database: Database, size: int
) -> None:
    """Entry 290 of the bundle being filled deleted: the next index is still 300, and the
    append that would make entries 256-511 a bundle with 290 missing fails; one that leaves
    the bundle unfilled is stored (the self-check finds the gap)."""
    _append(database, [300])
    with database.write() as conn:
        remove_entry(conn, 290)
    if size == 1:
        _append(database, [size])
        with database.read() as conn:
            assert log_bundles.next_index(conn) == 301
        return
    with pytest.raises(log_bundles.BundleFault, match="holds 43 entry rows where entries 256"):
        _append(database, [size])
    with database.read() as conn:
        assert log_bundles.next_index(conn) == 300
        assert len(conn.execute(select(t.log_bundles.c.idx)).all()) == 1
        assert len(conn.execute(select(t.log_entries.c.idx)).all()) == 43


def test_an_entry_stored_twice_is_refused(database: Database) -> None:
    _append(database, [300])
    with database.write() as conn:
        conn.execute(
            t.log_entries.insert().values(
                idx=5, kind="registry", body=b"{}", recorded_at=from_micros(AT)
            )
        )
    with database.read() as conn:
        with pytest.raises(log_bundles.BundleFault, match="entry 5 is stored twice"):
            log_bundles.entries(conn, 0, 10)
        problems: list[log_bundles.BundleFault] = []
        found = [i for i, _, _ in log_bundles.iter_entries(conn, 0, 300, problems.append)]
    assert found == [i for i in range(300) if i != 5]
    assert [str(p) for p in problems] == ["entry 5 is stored twice: in a bundle and as a row"]


def test_a_gap_is_an_error_and_a_short_end_is_not(database: Database) -> None:
    _append(database, [700])
    _, bodies = _entries(0, 700)
    with database.write() as conn:
        conn.execute(delete(t.log_bundles).where(t.log_bundles.c.idx == 1))
        conn.execute(delete(t.log_entries).where(t.log_entries.c.idx >= 650))
    with database.read() as conn:
        assert log_bundles.entries(conn, 0, 256) == bodies[:256]
        assert log_bundles.entries(conn, 600, 800) == bodies[600:650]  # the log ends at 650
        with pytest.raises(LookupError, match="gap"):
            log_bundles.entries(conn, 200, 600)
        assert [i for i, _, _ in log_bundles.iter_entries(conn, 0, 700, chunk=256)] == [
            *range(256),
            *range(512, 650),
        ]


@pytest.mark.parametrize("kind", ["", "two\nlines"])
def test_a_kind_that_is_not_a_word_is_refused(database: Database, kind: str) -> None:
    with pytest.raises(ValueError, match="kind is a word"), database.write() as conn:
        log_bundles.insert_entries(conn, 0, ["registry", kind], [b"{}", b"{}"], AT)
    with database.read() as conn:
        assert log_bundles.next_index(conn) == 0


def test_both_tables_are_read_in_one_statement(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append that fills a bundle moves its entries from rows into a bundle row: read in
    two statements outside one snapshot, they could be in neither."""
    _append(database, [300])
    statements = statements_read(monkeypatch)
    with database.read() as conn:
        assert len(log_bundles.entries(conn, 250, 260)) == 10
        assert len(log_bundles.entry_heads(conn, 0, 300)) == 300
    assert len(statements) == 2
