"""In-memory Merkle tree: batched appends, level storage, historic roots and a 2**20-entry tree."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode.tlog import (
    EMPTY_ROOT,
    MerkleTree,
    TileHashReader,
    TreeRangeError,
    export_resources,
    leaf_hash,
    merkle_root,
    parse_tile_path,
    verify_consistency,
    verify_inclusion,
)

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [i.to_bytes(8, "big") for i in range(start, start + n)]


@settings(max_examples=40)
@given(st.lists(st.integers(min_value=0, max_value=40), max_size=12))
def test_batched_appends_equal_single_appends(batches: list[int]) -> None:
    batched, single = MerkleTree(), MerkleTree()
    total = 0
    for size in batches:
        first = batched.append(_entries(size, total))
        assert first == total
        total += size
    for e in _entries(total):
        single.append([e])
    assert batched.size == single.size == total
    assert batched.root() == single.root() == merkle_root([leaf_hash(e) for e in _entries(total)])
    # Every historic size is served from the same stored levels.
    for m in range(total + 1):
        assert batched.root(m) == single.root(m)


def test_nodes_are_complete_subtrees() -> None:
    tree = MerkleTree()
    tree.append(_entries(13))
    leaves = [leaf_hash(e) for e in _entries(13)]
    for level in range(4):
        width = 1 << level
        for index in range(13 // width):
            expected = merkle_root(leaves[index * width : (index + 1) * width])
            assert tree.node(level, index) == expected
    with pytest.raises(TreeRangeError, match="no complete node at level 2 index 3"):
        tree.node(2, 3)
    with pytest.raises(TreeRangeError):
        tree.node(-1, 0)
    assert list(tree.level_hashes(1, 0, 6)) == [tree.node(1, i) for i in range(6)]
    with pytest.raises(TreeRangeError):
        tree.level_hashes(1, 0, 7)


def test_empty_tree_and_bad_sizes() -> None:
    tree = MerkleTree()
    assert tree.root() == EMPTY_ROOT
    assert len(tree) == 0
    with pytest.raises(TreeRangeError):
        tree.root(1)
    with pytest.raises(TreeRangeError):
        tree.inclusion_proof(0)
    with pytest.raises(TreeRangeError, match="32 bytes"):
        tree.append_leaf_hashes([b"x"])


def test_append_leaf_hashes_matches_append() -> None:
    a, b = MerkleTree(), MerkleTree([leaf_hash(e) for e in _entries(9)])
    a.append(_entries(9))
    assert a.root() == b.root()
    assert a.leaf_hash(8) == leaf_hash(_entries(9)[8])


@pytest.mark.slow
def test_million_entry_tree() -> None:
    # Proof generation must stay cheap at this scale; the build is ~2 hashes per entry.
    n = (1 << 20) + 3
    tree = MerkleTree()
    entries = _entries(n)
    for start in range(0, n, 4096):
        tree.append(entries[start : start + 4096])
    root = tree.root()
    rng = random.Random(7)
    for index in [0, 1, n - 1, *rng.sample(range(n), 200)]:
        verify_inclusion(leaf_hash(entries[index]), index, n, tree.inclusion_proof(index), root)
    for old in [1, 2, 255, 256, 1 << 20, n - 1, *rng.sample(range(1, n), 50)]:
        verify_consistency(old, n, tree.consistency_proof(old), tree.root(old), root)
    # The tile export of the same tree reproduces the root without the tree.
    tiles = {parse_tile_path(path): data for path, data in export_resources(tree, None).items()}
    assert TileHashReader(n, tiles).root() == root
