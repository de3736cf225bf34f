"""`MerkleTree`'s proofs, made in closed form, equal the store-agnostic RFC 9162 recursion of
`tlog.proofs` (which tests/unit/tlog/test_tlog_proofs.py checks against the RFC's own text) for
every leaf, old size and new size of small trees, and for sampled ones of a tree past 2**16
leaves (about half of the sizes drawn past it), and its edges."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode.tlog import MerkleTree, TreeRangeError, consistency_proof, inclusion_proof

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")

SMALL = 160
LARGE = (1 << 16) + (1 << 12) + 77  # sizes past a 2**16 subtree with a ragged right edge


@cache
def tree(size: int) -> MerkleTree:
    return MerkleTree([i.to_bytes(32, "big") for i in range(size)])


def test_every_proof_of_small_trees_equals_the_recursion() -> None:
    t = tree(SMALL)
    for n in range(1, SMALL + 1):
        for i in range(n):
            assert t.inclusion_proof(i, n) == inclusion_proof(i, n, t.node), (i, n)
        for m in range(n + 1):
            assert t.consistency_proof(m, n) == consistency_proof(m, n, t.node), (m, n)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_sampled_proofs_of_a_large_tree_equal_the_recursion(data: st.DataObject) -> None:
    t = tree(LARGE)
    n = data.draw(st.integers(1, LARGE) | st.integers(1 << 16, LARGE), label="new size")
    m = data.draw(st.integers(0, n), label="old size")
    assert t.consistency_proof(m, n) == consistency_proof(m, n, t.node)
    i = data.draw(st.integers(0, n - 1), label="leaf")
    assert t.inclusion_proof(i, n) == inclusion_proof(i, n, t.node)


def test_edges_of_a_large_tree() -> None:
    t = tree(LARGE)
    edges = {1, 2, 3, 255, 256, 257, 1 << 16, (1 << 16) + 1, LARGE - 1, LARGE}
    for n in edges:
        for m in edges | {0}:
            if m <= n:
                assert t.consistency_proof(m, n) == consistency_proof(m, n, t.node), (m, n)
        for i in {0, n // 2, n - 1}:
            assert t.inclusion_proof(i, n) == inclusion_proof(i, n, t.node), (i, n)


def test_bad_sizes_and_indices_are_refused_as_the_recursion_refuses_them() -> None:
    t = tree(SMALL)
    with pytest.raises(TreeRangeError, match=f"leaf index {SMALL} is outside a tree of size"):
        t.inclusion_proof(SMALL)
    with pytest.raises(TreeRangeError, match="leaf index -1 is outside"):
        t.inclusion_proof(-1, 10)
    with pytest.raises(TreeRangeError, match=r"old size 11 is outside \[0, 10\]"):
        t.consistency_proof(11, 10)
    with pytest.raises(TreeRangeError, match="old size -1"):
        t.consistency_proof(-1)
    with pytest.raises(TreeRangeError, match="tree size"):
        t.consistency_proof(1, SMALL + 1)
