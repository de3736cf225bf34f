"""RFC 9162 §2.1.1 hashing: prefixes, MTH against a literal recursive reference, compact ranges."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcode.tlog import (
    EMPTY_ROOT,
    LEAF_PREFIX,
    NODE_PREFIX,
    CompactRange,
    TreeRangeError,
    leaf_hash,
    leaf_hashes,
    merkle_root,
    node_hash,
)
from healthcode.tlog.hashing import split_point

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")


def reference_mth(leaves: list[bytes]) -> bytes:
    """MTH exactly as written in RFC 9162 §2.1.1, over entry data."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def test_prefixes_and_empty_root() -> None:
    assert LEAF_PREFIX == b"\x00"
    assert NODE_PREFIX == b"\x01"
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 6962 test vector: the hash of the empty leaf.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_node_hash_is_domain_separated() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != leaf_hash(a + b)
    assert node_hash(a, b) != node_hash(b, a)


@pytest.mark.parametrize("n", range(0, 40))
def test_merkle_root_matches_reference(n: int) -> None:
    leaves = [bytes([i]) * (i % 5) for i in range(n)]
    assert merkle_root([leaf_hash(x) for x in leaves]) == reference_mth(leaves)
    assert merkle_root(leaf_hashes(leaves)) == reference_mth(leaves)


@given(st.lists(st.binary(max_size=8), max_size=300))
def test_merkle_root_level_by_level_is_the_rfc_tree(leaves: list[bytes]) -> None:
    hashes = leaf_hashes(leaves)
    assert hashes == [leaf_hash(x) for x in leaves]
    compact = CompactRange()
    compact.extend(hashes)
    assert merkle_root(hashes) == compact.root() == reference_mth(leaves)


def test_merkle_root_rejects_bad_leaf() -> None:
    with pytest.raises(TreeRangeError, match="32 bytes, got 5"):
        merkle_root([leaf_hash(b"a"), b"short"])


@given(st.lists(st.binary(max_size=8), max_size=80))
def test_compact_range_tracks_every_prefix(leaves: list[bytes]) -> None:
    acc = CompactRange()
    assert acc.root() == EMPTY_ROOT
    for i, leaf in enumerate(leaves):
        acc.append(leaf_hash(leaf))
        assert acc.size == i + 1
        assert acc.root() == reference_mth(leaves[: i + 1])


def test_split_point() -> None:
    assert [split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]
    assert split_point(1 << 63) == 1 << 62
    with pytest.raises(TreeRangeError):
        split_point(1)


def test_compact_range_rejects_bad_leaf() -> None:
    with pytest.raises(TreeRangeError, match="32 bytes"):
        CompactRange().append(b"short")
