"""A stored row for a tile the signed tree does not reach yet (written behind the sequencer's
back, by tampering or a bug) is not the tree's: when a run would write that tile, the log halts
with the row named, before the run writes anything, rather than failing every period on the
row's key and saying nothing. The self-check reports every such row, wherever it lies. On
SQLite and PostgreSQL (the ``town`` fixture)."""

from __future__ import annotations

import pytest

from healthcode.errors import StoreFault
from healthcode.services import transparency
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.store.instants import to_micros
from healthcode.store.log import StoredCheckpoint
from tests.log_rows import statements_read
from tests.synthetic_log import append_entries, insert_tile_row, restarted_sequencer
from tests.town import Town

_PLANTED = b"\x07" * 64  # two hashes that are no node of the tree


def _signed_below_one_tile(town: Town) -> StoredCheckpoint:
    """A checkpoint whose tree is one partial tile (tile 0 at tile level 0), nothing above."""
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and 0 < signed.size < 256
    return signed


def _ahead(level: int, index: int, size: int) -> str:
    return (
        f"the stored tile {index} at tree level {level * 8} holds {len(_PLANTED)} bytes where"
        f" the tree of size {size} has no tile yet"
    )


@pytest.mark.parametrize("restart", [False, True], ids=["kept-frontier", "restarted"])
@pytest.mark.parametrize("level, index", [(0, 1), (1, 0)], ids=["level-0", "level-1"])
def test_a_row_for_a_tile_not_yet_written_halts_the_log(
    town: Town, level: int, index: int, restart: bool
) -> None:
    before = _signed_below_one_tile(town)
    insert_tile_row(town, level, index, _PLANTED)
    append_entries(town, 300)  # the run would write tile 1 at level 0 and tile 0 at level 1
    sequencer = restarted_sequencer(town) if restart else town.services.sequencer
    assert sequencer.integrate(now=town.clock.now()) is None
    assert sequencer.integrate(now=town.clock.now()) is None  # halted: no second try, no error
    with town.services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) == before
        halts = [reason for _, reason in log_repo.halts(conn)]
    assert halts == [_ahead(level, index, before.size)]
    # The check comes before the run's first write (put_tiles' insert), so nothing of the run
    # is stored; a run that wrote and then halted is rolled back in test_log_partial_rows.py.


def test_the_self_check_reports_every_row_for_a_tile_not_yet_written(town: Town) -> None:
    append_entries(town, 300)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and 256 < signed.size < 512  # tiles 0, 1 at level 0; 0 at 1
    append_entries(town, 300)  # not yet signed: the tiles they will make are not due either
    for level, index in [(2, 0), (0, 2), (1, 1), (0, 9)]:
        insert_tile_row(town, level, index, _PLANTED)
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == [
        _ahead(level, index, signed.size) for level, index in [(0, 2), (0, 9), (1, 1), (2, 0)]
    ]


def test_the_self_check_reports_a_tile_row_before_any_checkpoint(town: Town) -> None:
    insert_tile_row(town, 0, 0, _PLANTED)
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == [_ahead(0, 0, 0)]


def test_the_self_check_reports_rows_just_past_a_tree_of_one_full_tile(town: Town) -> None:
    # At 256 entries tile 0 at level 0 is full and tile 0 at level 1 holds one hash: tiles 1
    # are the first either level lacks (a count rounded wrong there would miss or invent one).
    with town.services.db.read() as conn:
        stored = log_bundles.next_index(conn)
    append_entries(town, 256 - stored)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size == 256
    assert town.services.self_check.run(now=town.clock.now(), halt=False).problems == []
    for level, index in [(0, 1), (1, 1)]:
        insert_tile_row(town, level, index, _PLANTED)
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == [_ahead(0, 1, 256), _ahead(1, 1, 256)]


@pytest.mark.parametrize(
    "far, planted",
    [
        # Read a chunk of 10,240 entries at a time, the gap would be some 10,000 reads.
        pytest.param(10**8, 1, id="entry-row"),
        # The index column's last: one past it is no BIGINT, nor a bound a read may give.
        pytest.param(2**63 - 1, 1, id="entry-row-at-the-last-index"),
        # A bundle row's index fits the column where its entries' indices do not.
        pytest.param(2**68, 256, id="bundle-row-past-the-last-index"),
    ],
)
def test_the_self_check_reads_past_a_gap_to_entries_far_beyond_the_log(
    town: Town, monkeypatch: pytest.MonkeyPatch, far: int, planted: int
) -> None:
    append_entries(town, 300)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    with town.services.db.write() as conn:  # written by SQL of its own, not by an append
        now = town.clock.now()
        if planted == 1:
            row = {"idx": far, "kind": "test", "body": b"planted", "recorded_at": now}
            conn.execute(t.log_entries.insert().values(**row))
        else:
            bodies = [b"planted"] * planted
            log_bundles.insert_entries(conn, far, ["test"] * planted, bodies, to_micros(now))
    statements = statements_read(monkeypatch)
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems[:2] == [
        f"entries {signed.size}..{far - 1} are missing",
        f"entry {far} (test) has no stored record",
    ]
    assert len(statements) < 10, statements


def test_an_entry_row_at_the_last_index_refuses_appends_and_halts_the_log(town: Town) -> None:
    append_entries(town, 10)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    now = town.clock.now()
    with town.services.db.write() as conn:
        row = {"idx": 2**63 - 1, "kind": "test", "body": b"planted", "recorded_at": now}
        conn.execute(t.log_entries.insert().values(**row))
    past = f"the stored entries end at index {2**63 - 1}, past the last a log holds"
    with pytest.raises(StoreFault) as refused, town.services.db.write() as conn:
        transparency.append_one(conn, "test", b"next", now)
    assert (refused.value.code, refused.value.detail) == ("log.entries_missing", past)
    assert town.services.sequencer.integrate(now=now) is None
    with town.services.db.read() as conn:
        assert [reason for _, reason in log_repo.halts(conn)] == [past]
        assert log_repo.latest_checkpoint(conn) == signed
