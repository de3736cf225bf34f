"""The sequencer reads and hashes from a snapshot, and writes under the lock only if the
checkpoint it grew from is still the latest: what other writers and runs commit while it reads
is neither lost nor signed over (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from healthcode.services import sequencer as sequencer_module
from healthcode.services.sequencer import Sequencer
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store import tables as t
from tests.log_soundness import assert_sound, checkpoints, halts, write_some
from tests.town import Town


def _while_reading(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    """The next run's snapshot is read, then ``meanwhile`` commits, then the run writes."""
    read = Sequencer._read
    state = {"armed": True}

    def reading(self: Sequencer, conn: Any) -> Any:
        run = read(self, conn)
        if state["armed"]:
            state["armed"] = False
            meanwhile()
        return run

    monkeypatch.setattr(Sequencer, "_read", reading)


def _entries(town: Town) -> int:
    with town.services.db.read() as conn:
        return log_bundles.next_index(conn)


def test_entries_committed_while_a_run_reads_are_the_next_runs(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    sequencer = town.services.sequencer
    write_some(town, "first")
    sequencer.integrate(now=town.clock.now())
    before = checkpoints(town)
    write_some(town, "read")
    read_end = _entries(town)
    _while_reading(monkeypatch, lambda: write_some(town, "meanwhile"))
    signed = sequencer.integrate(now=town.clock.now())
    # The run signed what its snapshot held, and returned: chasing what writers commit
    # meanwhile, under a steady load, it would not end.
    assert signed is not None and signed.size == read_end < _entries(town)
    later = sequencer.integrate(now=town.clock.now())
    assert later is not None and later.size == _entries(town)
    assert_sound(town, before)


def test_a_run_reads_one_instant_of_the_store(town: Town, monkeypatch: pytest.MonkeyPatch) -> None:
    """An append committed between two of a run's reads is not seen by the later one: the run
    signs the entries its first read found, whatever the store's default isolation."""
    sequencer = town.services.sequencer
    sequencer.integrate(now=town.clock.now())
    write_some(town, "seen")
    seen = _entries(town)
    read_halts = log_repo.halts
    state = {"armed": True}

    def halts_then_a_write(conn: Any) -> Any:
        found = read_halts(conn)  # the run's first read: its snapshot starts here
        if state["armed"]:
            state["armed"] = False
            write_some(town, "between")
        return found

    monkeypatch.setattr(log_repo, "halts", halts_then_a_write)
    signed = sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size == seen < _entries(town)
    later = sequencer.integrate(now=town.clock.now())
    assert later is not None and later.size == _entries(town)
    assert_sound(town, {})


def test_a_run_capped_at_max_batch_goes_on_until_it_holds_what_it_read(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sequencer_module, "MAX_BATCH", 2)
    for name in ("a", "b", "c"):
        write_some(town, name)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size == _entries(town)
    sizes = sorted(checkpoints(town))
    assert len(sizes) > 2 and all(b - a <= 2 for a, b in itertools.pairwise(sizes))
    assert_sound(town, {})


def test_a_checkpoint_another_run_signed_meanwhile_is_grown_from_not_signed_over(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    sequencer = town.services.sequencer
    other = Sequencer(town.services.db, sequencer.signer, sequencer.origin)
    write_some(town, "first")
    sequencer.integrate(now=town.clock.now())
    before = checkpoints(town)
    write_some(town, "both")

    def other_signs() -> None:
        assert other.integrate(now=town.clock.now()) is not None
        write_some(town, "after")  # so the run has something left to sign

    _while_reading(monkeypatch, other_signs)
    signed = sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size == _entries(town)
    assert halts(town) == []
    assert_sound(town, before)


def test_a_checkpoint_another_run_signed_meanwhile_leaves_nothing_to_sign(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    sequencer = town.services.sequencer
    other = Sequencer(town.services.db, sequencer.signer, sequencer.origin)
    sequencer.integrate(now=town.clock.now())
    before = checkpoints(town)
    write_some(town, "both")
    _while_reading(monkeypatch, lambda: other.integrate(now=town.clock.now()))
    assert sequencer.integrate(now=town.clock.now()) is None
    assert max(checkpoints(town)) == _entries(town)
    assert halts(town) == []
    assert_sound(town, before)


def test_a_halt_recorded_meanwhile_stops_the_run(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    sequencer = town.services.sequencer
    sequencer.integrate(now=town.clock.now())
    before = checkpoints(town)
    write_some(town, "unsigned")

    def halt() -> None:
        with town.services.db.write() as conn:
            log_repo.halt(conn, town.clock.now(), "the self-check found a difference")

    _while_reading(monkeypatch, halt)
    assert sequencer.integrate(now=town.clock.now()) is None
    assert checkpoints(town) == before


def test_a_problem_read_against_a_checkpoint_no_longer_the_latest_is_read_again(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose snapshot shows the stored tree not recomputing to the latest checkpoint
    halts the log only if that checkpoint is still the latest when it writes."""
    sequencer = town.services.sequencer
    other = Sequencer(town.services.db, sequencer.signer, sequencer.origin)
    write_some(town, "first")
    sequencer.integrate(now=town.clock.now())
    write_some(town, "second")
    other.integrate(now=town.clock.now())  # `sequencer`'s kept edge is now stale
    before = checkpoints(town)
    write_some(town, "third")
    latest = max(before)
    with town.services.db.write() as conn:  # a partial tile row loses its last hash
        tile = conn.execute(select(t.log_tiles).where(t.log_tiles.c.level == 0)).all()[-1]
        conn.execute(
            t.log_tiles.update()
            .where(t.log_tiles.c.level == 0, t.log_tiles.c.idx == tile.idx)
            .values(hashes=tile.hashes[:-32])
        )

    def repair_and_sign() -> None:  # the row is put back and another run signs
        with town.services.db.write() as conn:
            conn.execute(
                t.log_tiles.update()
                .where(t.log_tiles.c.level == 0, t.log_tiles.c.idx == tile.idx)
                .values(hashes=tile.hashes)
            )
        assert other.integrate(now=town.clock.now()) is not None

    _while_reading(monkeypatch, repair_and_sign)
    assert sequencer.integrate(now=town.clock.now()) is None  # read again: nothing new
    assert halts(town) == []
    assert max(checkpoints(town)) > latest
    assert_sound(town, before)
