"""TileGrower: tiles grown from a frontier in runs of any length are the tree's tiles."""

from __future__ import annotations

import hashlib
import random

import pytest
from tests.synthetic_log import full_tile_nodes

from healthcode.tlog import MerkleTree, TilePath, tile_data
from healthcode.tlog.frontier import TileGrower, frontier_root, split_hashes

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")


def _leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)]


def test_tiles_grown_in_runs_from_the_frontier_are_the_trees_tiles() -> None:
    leaves = _leaves(70_000)
    tree = MerkleTree(leaves)
    rng = random.Random(3)
    grower, completed = TileGrower(), []
    while grower.size < len(leaves):
        step = min(rng.choice([1, 3, 255, 256, 257, 9_000]), len(leaves) - grower.size)
        # Resuming from the frontier alone, as the sequencer does after a restart.
        grower = TileGrower(grower.size, grower.frontier)
        completed += grower.append(leaves[grower.size : grower.size + step])
        assert frontier_root(grower.size, grower.frontier) == tree.root(grower.size)
    for full in completed:
        assert b"".join(full.hashes) == tile_data(tree, TilePath(full.level, full.index))
        assert full.root == tree.node(8 * (full.level + 1), full.index)
        assert full.nodes == full_tile_nodes(tree, full.level, full.index)
    assert sorted((full.level, full.index) for full in completed) == [
        (level, index) for level in (0, 1) for index in range(len(leaves) >> (8 * (level + 1)))
    ]
    for level, hashes in grower.frontier.items():
        start = (len(leaves) >> (8 * level)) & ~255
        assert split_hashes(hashes) == tree.level_hashes(
            8 * level, start, len(leaves) >> (8 * level)
        )


def test_a_frontier_of_another_size_is_refused() -> None:
    with pytest.raises(ValueError, match="level 0"):
        TileGrower(300, {0: b"\0" * 32 * 43, 1: b"\0" * 32})


def test_leaf_hashes_given_concatenated_grow_the_same_tiles() -> None:
    leaves = _leaves(70_000)
    listed, joined = TileGrower(), TileGrower()
    for start, end in [(0, 1), (1, 300), (300, 65_536), (65_536, 70_000)]:
        from_list = listed.append(leaves[start:end])
        from_bytes = joined.append(b"".join(leaves[start:end]))
        assert from_bytes == from_list
        assert joined.frontier == listed.frontier and joined.size == end
    assert [tile.hashes for tile in from_bytes] == [
        leaves[i : i + 256] for i in range(65_536, 70_000 - 255, 256)
    ]
    with pytest.raises(ValueError, match="32 bytes each"):
        joined.append(b"x" * 33)
