"""The log's entries stored a bundle a row (``store/log_bundles.py``): appends of any sizes,
across bundle boundaries and in one transaction or many, store each entry at its index with
its kind and instant, each row the bundle /log/tile/entries/N serves; an append to a bundle
row that is not the one expected fails and writes nothing; reads tell a gap from the end. On
SQLite and PostgreSQL."""

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
from tests.log_rows import remove_entry

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
    with database.write() as conn:
        conn.execute(delete(t.log_bundles))
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
        heads = log_bundles.entry_heads(conn, 0, total)
    assert sorted((int(n), bytes(data)) for n, data in rows) == [
        (n, encode_entry_bundle(bodies[n * 256 : (n + 1) * 256])) for n in range(-(-total // 256))
    ]
    # Each entry's instant is that of the append that wrote it.
    starts = [0]
    for sizes in writes:
        for size in sizes:
            starts.append(starts[-1] + size)
    first_of = {i: start for start, end in pairwise(starts) for i in range(start, end)}
    assert heads == [
        (i, kinds[i], len(bodies[i]), from_micros(AT + first_of[i])) for i in reversed(range(total))
    ]


def test_an_append_to_a_bundle_row_not_as_expected_writes_nothing(database: Database) -> None:
    _append(database, [300])
    with database.write() as conn:
        remove_entry(conn, 299)  # the bundle being filled: 43 entries where 44 are expected
    with (
        pytest.raises(
            log_bundles.BundleFault, match="does not hold the 44 entries before entry 300"
        ),
        database.write() as conn,
    ):
        log_bundles.insert_entries(conn, 300, *_entries(300, 500), AT)
    with database.read() as conn:
        assert log_bundles.next_index(conn) == 299
        assert len(conn.execute(select(t.log_bundles.c.idx)).all()) == 2


def test_a_gap_is_an_error_and_a_short_end_is_not(database: Database) -> None:
    _append(database, [700])
    _, bodies = _entries(0, 700)
    with database.write() as conn:
        conn.execute(delete(t.log_bundles).where(t.log_bundles.c.idx == 1))
    with database.read() as conn:
        assert log_bundles.entries(conn, 0, 256) == bodies[:256]
        assert log_bundles.entries(conn, 600, 800) == bodies[600:]  # the log ends at 700
        with pytest.raises(LookupError, match="gap"):
            log_bundles.entries(conn, 200, 600)
        assert [i for i, _, _ in log_bundles.iter_entries(conn, 0, 700)] == [
            *range(256),
            *range(512, 700),
        ]


@pytest.mark.parametrize("kind", ["", "two\nlines"])
def test_a_kind_that_is_not_a_word_is_refused(database: Database, kind: str) -> None:
    with pytest.raises(ValueError, match="kind is a word"), database.write() as conn:
        log_bundles.insert_entries(conn, 0, ["registry", kind], [b"{}", b"{}"], AT)
    with database.read() as conn:
        assert log_bundles.next_index(conn) == 0
