"""RFC 9162 §2.1.3 inclusion and §2.1.4 consistency proofs: generation and verification.

Generation is store-agnostic: it asks a ``NodeHashFn`` for hashes of *complete*
(perfect, aligned) subtrees only, so an in-memory tree, a database, or a set of
tlog-tiles can all serve it. Incomplete right-edge subtrees are folded here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import TypeVar

from healthcode.tlog.errors import ProofError, TreeRangeError
from healthcode.tlog.hashing import EMPTY_ROOT, HASH_SIZE, MAX_TREE_SIZE, NODE_PREFIX

__all__ = [
    "MAX_PROOF_LENGTH",
    "NodeHashFn",
    "NodeId",
    "ProofPlan",
    "RangeFn",
    "consistency_path",
    "consistency_proof",
    "consistency_proof_plan",
    "fold_nodes",
    "inclusion_path",
    "inclusion_proof",
    "inclusion_proof_plan",
    "range_nodes",
    "root_from_inclusion_proof",
    "root_plan",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

NodeId = tuple[int, int]
"""``(level, index)``: the complete subtree over leaves ``[index << level, (index+1) << level)``."""

T = TypeVar("T")

NodeHashFn = Callable[[int, int], bytes]
"""Returns the hash of the complete subtree ``(level, index)``; raises if unavailable."""

ProofPlan = list[tuple[NodeId, ...]]
"""One tuple per proof element: the complete subtrees whose right fold is that element."""

# A uint64 tree is at most 64 levels deep, so no valid proof is longer.
MAX_PROOF_LENGTH = 64

_sha256 = hashlib.sha256


def _check_size(size: int, what: str = "tree size") -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise TreeRangeError(f"{what} {size} is outside uint64")


def range_nodes(start: int, end: int) -> tuple[NodeId, ...]:
    """Decompose ``[start, end)`` into complete subtrees, largest first.

    Only ranges that occur in the RFC 9162 recursion are accepted: ``start`` must
    be aligned to the smallest power of two >= ``end - start``. For those ranges
    MTH(D[start:end]) is the right fold of the returned nodes.
    """
    width = end - start
    if width <= 0:
        raise TreeRangeError(f"empty node range [{start}, {end})")
    if start % (1 << (width - 1).bit_length()):
        raise TreeRangeError(f"range [{start}, {end}) is not a Merkle subtree")
    nodes: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return tuple(nodes)


def fold_nodes(hashes: Sequence[bytes]) -> bytes:
    """Right-fold node hashes: ``H(h0, H(h1, ... H(h[n-2], h[n-1])))``."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(NODE_PREFIX + h + acc).digest()
    return acc


def _resolve(plan: ProofPlan, get_node: NodeHashFn) -> list[bytes]:
    return [fold_nodes([get_node(level, index) for level, index in ids]) for ids in plan]


def root_plan(size: int) -> tuple[NodeId, ...]:
    """Complete subtrees whose right fold is MTH(D[0:size]) (``size`` >= 1)."""
    _check_size(size)
    if size == 0:
        raise TreeRangeError("the empty tree has no nodes; its root is EMPTY_ROOT")
    return range_nodes(0, size)


def subtree_root(size: int, get_node: NodeHashFn) -> bytes:
    """Return MTH(D[0:size]) from complete-subtree hashes."""
    if size == 0:
        return EMPTY_ROOT
    return fold_nodes([get_node(level, index) for level, index in root_plan(size)])


RangeFn = Callable[[int, int], T]
"""What a proof element is made of, given the leaf range ``[start, end)`` it covers."""


def inclusion_path(index: int, size: int, of_range: RangeFn[T]) -> list[T]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf side first: one ``of_range`` per
    element, called with the leaf range the element is the Merkle tree hash of."""
    _check_size(size)
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf index {index} is outside a tree of size {size}")
    path: list[T] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + (
            1 << ((hi - lo - 1).bit_length() - 1)
        )  # split_point(hi - lo), inlined: the hot loop
        if index < mid:
            path.append(of_range(mid, hi))
            hi = mid
        else:
            path.append(of_range(lo, mid))
            lo = mid
    path.reverse()
    return path


def consistency_path(old_size: int, new_size: int, of_range: RangeFn[T]) -> list[T]:
    """PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1): one ``of_range`` per element, as
    ``inclusion_path``.

    ``old_size == 0`` yields an empty proof: tlog-witness requires the proof from
    an empty tree to be empty (``verify_consistency`` refuses that case, since
    such a proof shows nothing).
    """
    _check_size(new_size, "new size")
    if not 0 <= old_size <= new_size:
        raise TreeRangeError(f"old size {old_size} is outside [0, {new_size}]")
    if old_size in (0, new_size):
        return []
    path: list[T] = []
    lo, hi, m = 0, new_size, old_size
    old_is_subtree = True
    while m != hi - lo:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # split_point(hi - lo), inlined: the hot loop
        if m <= k:
            path.append(of_range(lo + k, hi))
            hi = lo + k
        else:
            path.append(of_range(lo, lo + k))
            lo += k
            m -= k
            old_is_subtree = False
    if not old_is_subtree:
        path.append(of_range(lo, hi))
    path.reverse()
    return path


def inclusion_proof_plan(index: int, size: int) -> ProofPlan:
    """Nodes needed for PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf side first."""
    return inclusion_path(index, size, range_nodes)


def consistency_proof_plan(old_size: int, new_size: int) -> ProofPlan:
    """Nodes needed for PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1)."""
    return consistency_path(old_size, new_size, range_nodes)


def inclusion_proof(index: int, size: int, get_node: NodeHashFn) -> list[bytes]:
    """Return the RFC 9162 inclusion proof for leaf ``index`` in the tree of ``size``."""
    return _resolve(inclusion_proof_plan(index, size), get_node)


def consistency_proof(old_size: int, new_size: int, get_node: NodeHashFn) -> list[bytes]:
    """Return the RFC 9162 consistency proof from ``old_size`` to ``new_size``."""
    return _resolve(consistency_proof_plan(old_size, new_size), get_node)


def _check_hashes(proof: Sequence[bytes]) -> None:
    if len(proof) > MAX_PROOF_LENGTH:
        raise ProofError(f"proof has {len(proof)} hashes, more than {MAX_PROOF_LENGTH}")
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise ProofError(f"proof hash {i} is {len(h)} bytes, expected {HASH_SIZE}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Recompute the root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-5)."""
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ProofError(f"tree size {size} is outside uint64")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf)} bytes, expected {HASH_SIZE}")
    _check_hashes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = _sha256(NODE_PREFIX + p + r).digest()
            if not fn & 1:
                # The node is the last one at its level: it is promoted unchanged.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an RFC 9162 §2.1.3.2 inclusion proof; raise ``ProofError`` if it fails.

    The tree size is not bound by the proof alone (e.g. leaf 0 has the same path
    shape in trees of size 3 and 4); it is bound by the signed checkpoint.
    """
    computed = root_from_inclusion_proof(leaf, index, size, proof)
    if not hmac.compare_digest(computed, root):
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the given root")


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> None:
    """Check an RFC 9162 §2.1.4.2 consistency proof; raise ``ProofError`` if it fails.

    ``old_size == 0`` is rejected: any tree extends the empty tree, so a proof
    from it shows nothing, and callers must treat that case explicitly.
    """
    if not 0 <= old_size <= MAX_TREE_SIZE or not 0 <= new_size <= MAX_TREE_SIZE:
        raise ProofError("tree sizes must be uint64")
    if new_size < old_size:
        raise ProofError(f"new size {new_size} is smaller than old size {old_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal but the consistency proof is not empty")
        if not hmac.compare_digest(old_root, new_root):
            raise ProofError("sizes are equal but the roots differ")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_hashes(proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree, so its root is the proof's implicit start.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than expected")
        if fn & 1 or fn == sn:
            fr = _sha256(NODE_PREFIX + c + fr).digest()
            sr = _sha256(NODE_PREFIX + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than expected")
    if not hmac.compare_digest(fr, old_root):
        raise ProofError(f"consistency proof does not match the root of size {old_size}")
    if not hmac.compare_digest(sr, new_root):
        raise ProofError(f"consistency proof does not match the root of size {new_size}")
