"""RFC 9162 §2.1.3 / §2.1.4 proofs: generation against the RFC recursion, Hypothesis properties."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from healthcode.tlog import (
    MerkleTree,
    ProofError,
    TreeRangeError,
    consistency_proof,
    consistency_proof_plan,
    inclusion_proof,
    inclusion_proof_plan,
    leaf_hash,
    merkle_root,
    root_from_inclusion_proof,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)
from healthcode.tlog.proofs import MAX_PROOF_LENGTH, range_nodes

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")


@cache
def build(n: int) -> tuple[MerkleTree, tuple[bytes, ...]]:
    # Distinct leaves, so swapping a left/right order can never hash the same.
    leaves = tuple(leaf_hash(b"leaf-%d" % i) for i in range(n))
    return MerkleTree(leaves), leaves


def ref_path(m: int, leaves: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 9162 §2.1.3.1 writes it."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, leaves[:k]), merkle_root(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), merkle_root(leaves[:k])]


def ref_subproof(m: int, leaves: tuple[bytes, ...], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 9162 §2.1.4.1 writes it."""
    n = len(leaves)
    if m == n:
        return [] if b else [merkle_root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), merkle_root(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), merkle_root(leaves[:k])]


@pytest.mark.parametrize("n", range(1, 34))
def test_generation_matches_rfc_recursion(n: int) -> None:
    tree, leaves = build(n)
    for m in range(n):
        assert tree.inclusion_proof(m) == ref_path(m, leaves)
    for m in range(1, n + 1):
        assert tree.consistency_proof(m) == ref_subproof(m, leaves, True)


def test_store_backed_generation_uses_only_complete_nodes() -> None:
    tree, _ = build(300)
    asked: list[tuple[int, int]] = []

    def get_node(level: int, index: int) -> bytes:
        # A store only has complete subtrees; assert we never ask for anything else.
        assert (index + 1) << level <= 300
        asked.append((level, index))
        return tree.node(level, index)

    assert inclusion_proof(123, 300, get_node) == tree.inclusion_proof(123)
    assert consistency_proof(77, 300, get_node) == tree.consistency_proof(77)
    assert subtree_root(300, get_node) == tree.root()
    planned = {node for group in inclusion_proof_plan(123, 300) for node in group}
    assert planned <= set(asked)
    assert consistency_proof_plan(0, 300) == []
    assert consistency_proof_plan(300, 300) == []


def test_range_nodes_rejects_unaligned_ranges() -> None:
    assert range_nodes(8, 13) == ((2, 2), (0, 12))
    with pytest.raises(TreeRangeError):
        range_nodes(3, 5)
    with pytest.raises(TreeRangeError):
        range_nodes(4, 4)


def test_generation_out_of_range() -> None:
    tree, _ = build(10)
    with pytest.raises(TreeRangeError, match="leaf index 10 is outside a tree of size 10"):
        tree.inclusion_proof(10)
    with pytest.raises(TreeRangeError):
        tree.inclusion_proof(-1)
    with pytest.raises(TreeRangeError, match="old size 11"):
        consistency_proof(11, 10, tree.node)
    with pytest.raises(TreeRangeError):
        tree.consistency_proof(3, 11)
    with pytest.raises(TreeRangeError):
        inclusion_proof(0, 1 << 64, tree.node)


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=60)
@given(sizes)
def test_every_inclusion_proof_verifies(n: int) -> None:
    tree, leaves = build(n)
    root = tree.root()
    for i in range(n):
        verify_inclusion(leaves[i], i, n, tree.inclusion_proof(i), root)


@given(sizes, st.data())
def test_consistency_proofs_verify_and_compose(p: int, data: st.DataObject) -> None:
    tree, _ = build(p)
    n = data.draw(st.integers(min_value=1, max_value=p), label="n")
    m = data.draw(st.integers(min_value=1, max_value=n), label="m")
    verify_consistency(m, n, tree.consistency_proof(m, n), tree.root(m), tree.root(n))
    verify_consistency(n, p, tree.consistency_proof(n, p), tree.root(n), tree.root(p))
    verify_consistency(m, p, tree.consistency_proof(m, p), tree.root(m), tree.root(p))


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@given(st.integers(min_value=2, max_value=300), st.data())
def test_inclusion_bit_flips_fail(n: int, data: st.DataObject) -> None:
    tree, leaves = build(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    proof, root = tree.inclusion_proof(i), tree.root()
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    j = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="element")
    bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
    with pytest.raises(ProofError):
        verify_inclusion(leaves[i], i, n, bad, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[i], i, n, proof, _flip(root, bit))
    with pytest.raises(ProofError):
        verify_inclusion(_flip(leaves[i], bit), i, n, proof, root)


@given(st.integers(min_value=2, max_value=300), st.data())
def test_inclusion_other_index_fails(n: int, data: st.DataObject) -> None:
    tree, leaves = build(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    other = data.draw(st.integers(min_value=-1, max_value=n + 1), label="other")
    assume(other != i)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[i], other, n, tree.inclusion_proof(i), tree.root())


@given(st.integers(min_value=1, max_value=300), st.data())
def test_inclusion_other_size_fails_against_that_sizes_root(n: int, data: st.DataObject) -> None:
    tree, leaves = build(301)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    other = data.draw(st.integers(min_value=i + 1, max_value=301), label="other size")
    assume(other != n)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[i], i, other, tree.inclusion_proof(i, n), tree.root(other))


def test_inclusion_proof_does_not_bind_the_size_alone() -> None:
    # RFC 9162 verification only follows the path shape: leaf 0 has the same
    # shape in trees of 3 and 4 leaves. The signed checkpoint binds size to root.
    tree, leaves = build(4)
    verify_inclusion(leaves[0], 0, 4, tree.inclusion_proof(0, 3), tree.root(3))


@given(st.integers(min_value=2, max_value=300), st.data())
def test_consistency_tampering_fails(n: int, data: st.DataObject) -> None:
    tree, _ = build(301)
    m = data.draw(st.integers(min_value=1, max_value=n - 1), label="m")
    proof = tree.consistency_proof(m, n)
    r1, r2 = tree.root(m), tree.root(n)
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    j = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="element")
    bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
    with pytest.raises(ProofError):
        verify_consistency(m, n, bad, r1, r2)
    with pytest.raises(ProofError):
        verify_consistency(m, n, proof, _flip(r1, bit), r2)
    with pytest.raises(ProofError):
        verify_consistency(m, n, proof, r1, _flip(r2, bit))
    with pytest.raises(ProofError):
        verify_consistency(m, n, proof[:-1], r1, r2)
    with pytest.raises(ProofError):
        verify_consistency(m, n, [*proof, proof[0]], r1, r2)
    m2 = data.draw(st.integers(min_value=1, max_value=n), label="other m")
    if m2 != m:
        with pytest.raises(ProofError):
            verify_consistency(m2, n, proof, tree.root(m2), r2)
    n2 = data.draw(st.integers(min_value=m, max_value=301), label="other n")
    if n2 != n:
        with pytest.raises(ProofError):
            verify_consistency(m, n2, proof, r1, tree.root(n2))


def test_verification_guards() -> None:
    tree, leaves = build(5)
    root = tree.root()
    proof = tree.inclusion_proof(2)
    with pytest.raises(ProofError, match="31 bytes, expected 32"):
        verify_inclusion(leaves[2], 2, 5, [proof[0][:31], *proof[1:]], root)
    with pytest.raises(ProofError, match="more than 64"):
        verify_inclusion(leaves[2], 2, 5, [proof[0]] * (MAX_PROOF_LENGTH + 1), root)
    with pytest.raises(ProofError, match="outside uint64"):
        verify_inclusion(leaves[2], 2, 1 << 64, proof, root)
    with pytest.raises(ProofError, match="outside a tree of size 5"):
        verify_inclusion(leaves[2], 5, 5, proof, root)
    assert root_from_inclusion_proof(leaves[2], 2, 5, proof) == root
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 5, [], tree.root(0), root)
    with pytest.raises(ProofError, match="smaller"):
        verify_consistency(5, 4, [], root, tree.root(4))
    verify_consistency(5, 5, [], root, root)
