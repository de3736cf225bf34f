"""RFC 9162 §2.1.1 Merkle Tree Hash (MTH): leaf and interior node hashing with SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from healthcode.tlog import batch
from healthcode.tlog.batch import split_hashes
from healthcode.tlog.errors import TreeRangeError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "MAX_TREE_SIZE",
    "NODE_PREFIX",
    "CompactRange",
    "leaf_hash",
    "leaf_hashes",
    "merkle_root",
    "node_hash",
    "split_point",
]

HASH_SIZE = 32
# Domain separation between leaves and interior nodes (RFC 9162 §2.1.1) is what
# stops a second-preimage attack presenting an interior node as a leaf.
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
# Tree sizes and indices are uint64 on the wire (checkpoints, tiles, proofs).
MAX_TREE_SIZE = (1 << 64) - 1

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Return SHA-256(0x00 || data), the RFC 9162 hash of a log entry."""
    return _sha256(LEAF_PREFIX + data).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """``leaf_hash`` of each entry, in order, hashed in one batch (``tlog/batch.py``)."""
    return split_hashes(batch.leaf_hashes(entries))


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the RFC 9162 interior node hash."""
    return _sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (``n`` >= 2)."""
    if n < 2:
        raise TreeRangeError(f"split point needs at least 2 leaves, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """Incremental MTH over appended leaf hashes, keeping O(log n) state.

    The state is the list of perfect-subtree roots of the binary decomposition of
    the current size (largest first), so appending is amortised one node hash and
    the root is a right-to-left fold of at most 64 hashes.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash (not entry data)."""
        if len(leaf) != HASH_SIZE:
            raise TreeRangeError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        if self._size >= MAX_TREE_SIZE:
            raise TreeRangeError("tree is full (uint64 size)")
        peaks = self._peaks
        peaks.append(leaf)
        size = self._size
        # Each trailing one bit of the old size is a peak that now has a sibling.
        while size & 1:
            right = peaks.pop()
            peaks[-1] = _sha256(NODE_PREFIX + peaks[-1] + right).digest()
            size >>= 1
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """Return MTH of everything appended so far (``EMPTY_ROOT`` when empty)."""
        peaks = self._peaks
        if not peaks:
            return EMPTY_ROOT
        acc = peaks[-1]
        for peak in reversed(peaks[:-1]):
            acc = _sha256(NODE_PREFIX + peak + acc).digest()
        return acc


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[0:n]) for a list of leaf hashes (RFC 9162 §2.1.1).

    Computed level by level: each level hashes its nodes in pairs, and a last node without a
    sibling moves up unchanged. That is the RFC's recursive definition (the left subtree of
    every split is perfect, so the unpaired nodes are exactly its right edge), with one hash
    per interior node, a level one batch (``batch.node_layer``).
    """
    hashes = list(leaf_hashes)
    if not hashes:
        return EMPTY_ROOT
    sizes = set(map(len, hashes))
    if sizes != {HASH_SIZE}:
        size = min(sizes - {HASH_SIZE})
        raise TreeRangeError(f"leaf hash must be {HASH_SIZE} bytes, got {size}")
    level = b"".join(hashes)
    while len(level) > HASH_SIZE:
        paired = len(level) // (2 * HASH_SIZE) * (2 * HASH_SIZE)
        level = batch.node_layer(memoryview(level)[:paired]) + level[paired:]
    return level
