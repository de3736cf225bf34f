"""The stored tree under the sequencer's kept frontier: the sequencer grows the tree from the
frontier of its last checkpoint and reads no stored hash, so a stored hash tampered with must
still be found. The self-check finds one at any level; a sequencer that reads the frontier
again (a restart) refuses to sign over one that does not recompute to the signed root. On
SQLite and PostgreSQL (the ``town`` fixture)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from sqlalchemy import delete, select, update

from healthcode.services.log_tree import grow
from healthcode.store import log as log_repo
from healthcode.store import tables as t
from healthcode.tlog import MerkleTree, tile_data, tiles_for_size
from healthcode.tlog.frontier import frontier_root
from tests.synthetic_log import (
    append_entries,
    full_tile_nodes,
    restarted_sequencer,
    stored_tree,
)
from tests.town import Town


def _tile_of(level: int, index: int) -> Any:
    """The row of the tile holding the stored hash ``index`` at tree ``level``."""
    return (t.log_tiles.c.level == level // 8) & (t.log_tiles.c.idx == index // 256)


def _tamper_hash(town: Town, level: int, index: int) -> None:
    with town.services.db.write() as conn:
        hashes = bytearray(conn.scalar(select(t.log_tiles.c.hashes).where(_tile_of(level, index))))
        at = (index % 256) * 32
        hashes[at : at + 32] = hashlib.sha256(b"forged").digest()
        conn.execute(update(t.log_tiles).where(_tile_of(level, index)).values(hashes=bytes(hashes)))


def _delete_hash(town: Town, level: int, index: int) -> None:
    """Delete the stored hash ``index`` at tree ``level``: the row of its tile goes with it."""
    with town.services.db.write() as conn:
        conn.execute(delete(t.log_tiles).where(_tile_of(level, index)))


def test_grow_stores_every_tile_of_the_tree_a_full_one_once() -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(70_000)]
    rng = random.Random(7)
    size, frontier, stored = 0, {}, {}
    tree = MerkleTree()
    while size < len(leaves):
        step = min(rng.choice([1, 2, 255, 256, 257, 4_000, 20_000]), len(leaves) - size)
        growths, frontier = grow(size, frontier, leaves[size : size + step])
        for level, index, had, added, nodes in growths:
            kept, kept_nodes = stored.get((level, index), (b"", None))
            assert len(kept) == 32 * had and kept_nodes is None  # a full tile is written once
            assert added  # a tile is written only when it grows
            stored[(level, index)] = (kept + added, nodes)
        tree.append_leaf_hashes(leaves[size : size + step])
        size += step
        assert frontier_root(size, frontier) == tree.root()
    expected = {}
    for tile in tiles_for_size(size):
        nodes = full_tile_nodes(tree, tile.level, tile.index) if tile.width == 256 else None
        expected[(tile.level, tile.index)] = (tile_data(tree, tile), nodes)
    assert stored == expected


def test_the_self_check_finds_a_tampered_hash_above_the_leaves(town: Town) -> None:
    append_entries(town, 600)
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
    _tamper_hash(town, 8, 1)  # a full tile's root, which no later run reads again
    report = town.services.self_check.run(now=town.clock.now())
    assert any("tree level 8" in problem for problem in report.problems), report.problems
    append_entries(town, 1)
    assert town.services.sequencer.integrate(now=town.clock.now()) is None  # halted


def test_the_self_check_finds_a_tampered_node_inside_a_full_tile(town: Town) -> None:
    append_entries(town, 600)
    town.services.sequencer.integrate(now=town.clock.now())
    with town.services.db.write() as conn:  # a node at height 3, which no tile level holds
        nodes = bytearray(conn.scalar(select(t.log_tiles.c.nodes).where(_tile_of(0, 256))))
        nodes[(128 + 64) * 32] ^= 1
        conn.execute(update(t.log_tiles).where(_tile_of(0, 256)).values(nodes=bytes(nodes)))
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == [
        "the nodes stored inside tile 1 at tree level 0 do not match the entries under it"
    ]


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
    restarted = restarted_sequencer(town)
    assert restarted.integrate(now=town.clock.now()) is None
    with services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) == before
        assert log_repo.halts(conn)


def test_a_restarted_sequencer_grows_the_stored_tree(town: Town) -> None:
    append_entries(town, 700)
    town.services.sequencer.integrate(now=town.clock.now())
    append_entries(town, 90)
    services = town.services
    restarted = restarted_sequencer(town)
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
    restarted = restarted_sequencer(town)
    assert restarted.integrate(now=town.clock.now()) is None
    with services.db.read() as conn:
        assert log_repo.latest_checkpoint(conn) == before
        reasons = [reason for _, reason in log_repo.halts(conn)]
    assert reasons == [f"a stored hash of the tree at checkpoint {before.size} is missing"]
