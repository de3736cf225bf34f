"""A partial tile's stored row holds exactly the hashes of the tree signed so far. The sequencer
appends to it only while it does, and reads it back after a restart only if it does; a row
with a hash more, a hash less, or deleted halts the log with the row named, and nothing more
is signed. The self-check reports a row longer than its tile. On SQLite and PostgreSQL (the
``town`` fixture)."""

from __future__ import annotations

import pytest

from healthcode.store import log as log_repo
from healthcode.store.log import StoredCheckpoint
from tests.synthetic_log import append_entries, restarted_sequencer, set_tile_hashes, tile_hashes
from tests.town import Town


def _signed_with_partial_tile(town: Town) -> StoredCheckpoint:
    """A checkpoint whose tree has a partial tile 1 at tile level 0."""
    append_entries(town, 300)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and 256 < signed.size < 512
    return signed


def _halts(town: Town, before: StoredCheckpoint) -> list[str]:
    """Why the log halted, once sure that nothing was signed after ``before``."""
    with town.services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) == before
        return [reason for _, reason in log_repo.halts(conn)]


def _holds(found: int, width: int) -> str:
    return (
        f"the stored tile 1 at tree level 0 holds {found} bytes where the tree has"
        f" {width} hashes ({width * 32} bytes)"
    )


@pytest.mark.parametrize("restart", [False, True], ids=["kept-frontier", "restarted"])
def test_a_hash_appended_to_the_partial_row_halts_the_log(town: Town, restart: bool) -> None:
    before = _signed_with_partial_tile(town)
    width = before.size - 256
    row = tile_hashes(town, 0, 1)
    assert row is not None and len(row) == width * 32
    set_tile_hashes(town, 0, 1, row + bytes(32))
    append_entries(town, 10)
    sequencer = restarted_sequencer(town) if restart else town.services.sequencer
    assert sequencer.integrate(now=town.clock.now()) is None
    assert _halts(town, before) == [_holds((width + 1) * 32, width)]
    assert tile_hashes(town, 0, 1) == row + bytes(32)  # the run's writes rolled back


@pytest.mark.parametrize("restart", [False, True], ids=["kept-frontier", "restarted"])
def test_a_partial_row_a_hash_short_is_not_completed(town: Town, restart: bool) -> None:
    before = _signed_with_partial_tile(town)
    width = before.size - 256
    row = tile_hashes(town, 0, 1)
    assert row is not None
    set_tile_hashes(town, 0, 1, row[:-32])
    append_entries(town, 300)  # enough to complete the tile
    sequencer = restarted_sequencer(town) if restart else town.services.sequencer
    assert sequencer.integrate(now=town.clock.now()) is None
    missing = f"a stored hash of the tree at checkpoint {before.size} is missing"
    assert _halts(town, before) == [missing if restart else _holds((width - 1) * 32, width)]
    assert tile_hashes(town, 0, 1) == row[:-32]


def test_a_deleted_partial_row_halts_a_sequencer_that_kept_the_frontier(town: Town) -> None:
    before = _signed_with_partial_tile(town)
    width = before.size - 256
    set_tile_hashes(town, 0, 1, None)
    append_entries(town, 10)
    assert town.services.sequencer.integrate(now=town.clock.now()) is None
    assert _halts(town, before) == [
        f"the stored tile 1 at tree level 0 is missing where the tree has {width} hashes"
        f" ({width * 32} bytes)"
    ]
    assert tile_hashes(town, 0, 1) is None


def test_the_self_check_reports_a_partial_row_longer_than_the_checkpoint(town: Town) -> None:
    before = _signed_with_partial_tile(town)
    width = before.size - 256
    row = tile_hashes(town, 0, 1)
    assert row is not None
    set_tile_hashes(town, 0, 1, row + bytes(32))
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == [_holds((width + 1) * 32, width)]


def test_the_self_check_reports_a_full_row_longer_than_its_tile(town: Town) -> None:
    append_entries(town, 600)
    town.services.sequencer.integrate(now=town.clock.now())
    row = tile_hashes(town, 0, 0)
    assert row is not None and len(row) == 256 * 32
    set_tile_hashes(town, 0, 0, row + b"junk")
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == [
        "the stored tile 0 at tree level 0 holds 8196 bytes where the tree has 256 hashes"
        " (8192 bytes)"
    ]
