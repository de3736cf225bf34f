"""The stored tree under the sequencer's kept frontier: the sequencer grows the tree from the
frontier of its last checkpoint and reads no stored hash, so a stored hash tampered with must
still be found. The self-check finds one at any level; a sequencer that reads the frontier
again (a restart) refuses to sign over one that does not recompute to the signed root. On
SQLite and PostgreSQL (the ``town`` fixture)."""

from __future__ import annotations

import hashlib
import random

from sqlalchemy import delete, update

from healthcode.services.log_tree import grow
from healthcode.services.sequencer import Sequencer
from healthcode.store import log as log_repo
from healthcode.store import tables as t
from healthcode.tlog import MerkleTree
from healthcode.tlog.frontier import frontier_root
from tests.synthetic_log import append_entries, stored_tree
from tests.town import Town


def _tamper_hash(town: Town, level: int, index: int) -> None:
    with town.services.db.write() as conn:
        conn.execute(
            update(t.log_hashes)
            .where(t.log_hashes.c.level == level, t.log_hashes.c.idx == index)
            .values(hash=hashlib.sha256(b"forged").digest())
        )


def _delete_hash(town: Town, level: int, index: int) -> None:
    with town.services.db.write() as conn:
        conn.execute(
            delete(t.log_hashes).where(t.log_hashes.c.level == level, t.log_hashes.c.idx == index)
        )


def _restarted(town: Town) -> Sequencer:
    """A sequencer as after a restart: the same key and origin, nothing kept in memory."""
    sequencer = town.services.sequencer
    return Sequencer(town.services.db, sequencer.signer, sequencer.origin)


def test_grow_stores_every_tile_hash_of_the_tree_once() -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(70_000)]
    rng = random.Random(7)
    size, frontier, stored = 0, {}, {}
    tree = MerkleTree()
    while size < len(leaves):
        step = min(rng.choice([1, 2, 255, 256, 257, 4_000, 20_000]), len(leaves) - size)
        rows, frontier = grow(size, frontier, leaves[size : size + step])
        for level, index, value in rows:
            assert (level, index) not in stored
            stored[(level, index)] = value
        tree.append_leaf_hashes(leaves[size : size + step])
        size += step
        assert frontier_root(size, frontier) == tree.root()
    assert stored == {
        (level, index): tree.node(level, index)
        for level in (0, 8, 16)
        for index in range(size >> level)
    }


def test_the_self_check_finds_a_tampered_hash_above_the_leaves(town: Town) -> None:
    append_entries(town, 600)
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
    _tamper_hash(town, 8, 1)  # a full tile's root, which no later run reads again
    report = town.services.self_check.run(now=town.clock.now())
    assert any("tree level 8" in problem for problem in report.problems), report.problems
    append_entries(town, 1)
    assert town.services.sequencer.integrate(now=town.clock.now()) is None  # halted


def test_a_tampered_frontier_does_not_reach_the_next_checkpoint(town: Town) -> None:
    append_entries(town, 300)
    before = town.services.sequencer.integrate(now=town.clock.now())
    assert before is not None and 256 < before.size < 512
    _tamper_hash(town, 0, 299)  # in the partial tile the next run grows
    append_entries(town, 10)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.root == stored_tree(town).root()
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert "entry 299 does not hash to the tree's leaf 299" in report.problems


def test_a_restarted_sequencer_halts_on_a_frontier_that_does_not_recompute(town: Town) -> None:
    append_entries(town, 300)
    before = town.services.sequencer.integrate(now=town.clock.now())
    assert before is not None and 256 < before.size < 512  # entry 299 is in the partial tile
    _tamper_hash(town, 0, 299)
    append_entries(town, 10)
    services = town.services
    restarted = _restarted(town)
    assert restarted.integrate(now=town.clock.now()) is None
    with services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) == before
        assert log_repo.halts(conn)


def test_a_restarted_sequencer_grows_the_stored_tree(town: Town) -> None:
    append_entries(town, 700)
    town.services.sequencer.integrate(now=town.clock.now())
    append_entries(town, 90)
    services = town.services
    restarted = _restarted(town)
    signed = restarted.integrate(now=town.clock.now())
    assert signed is not None and signed.root == stored_tree(town).root()
    assert services.self_check.run(now=town.clock.now(), halt=False).ok


def test_the_self_check_reports_a_deleted_hash_and_halts(town: Town) -> None:
    append_entries(town, 600)
    town.services.sequencer.integrate(now=town.clock.now())
    _delete_hash(town, 8, 0)  # a gap at the start of the level, not only a short read
    report = town.services.self_check.run(now=town.clock.now())
    assert "a stored hash at tree level 8 is missing among indices 0..1" in report.problems
    with town.services.db.read() as conn:
        assert log_repo.halts(conn)
    append_entries(town, 1)
    assert town.services.sequencer.integrate(now=town.clock.now()) is None  # halted


def test_the_self_check_reports_a_deleted_leaf_hash(town: Town) -> None:
    append_entries(town, 600)
    town.services.sequencer.integrate(now=town.clock.now())
    _delete_hash(town, 0, 5)
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == ["a stored hash at tree level 0 is missing among indices 0..255"]


def test_a_restarted_sequencer_halts_on_a_deleted_frontier_hash(town: Town) -> None:
    append_entries(town, 600)
    before = town.services.sequencer.integrate(now=town.clock.now())
    assert before is not None and 512 <= before.size < 1 << 16  # level 8 is all frontier
    _delete_hash(town, 8, 0)
    append_entries(town, 10)
    services = town.services
    restarted = _restarted(town)
    assert restarted.integrate(now=town.clock.now()) is None
    with services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) == before
        reasons = [reason for _, reason in log_repo.halts(conn)]
    assert reasons == [f"a stored hash of the tree at checkpoint {before.size} is missing"]
