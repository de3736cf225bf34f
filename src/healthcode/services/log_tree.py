"""The log's Merkle tree as stored: node hashes at tile levels, any subtree hash on demand.

The store keeps the hashes at tree levels 0, 8, 16, ... — exactly the contents of tlog-tiles
hash tiles. A subtree hash at another level is the root of the 2^k stored hashes under it,
so proofs and roots need only a handful of reads, whatever the size of the log.
"""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.store import log as log_repo
from healthcode.tlog import TILE_HEIGHT, merkle_root

TILE_WIDTH = 1 << TILE_HEIGHT


class StoredTree:
    """``node(level, index)`` for complete subtrees, read through one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._cache: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        cached = self._cache.get((level, index))
        if cached is not None:
            return cached
        base = level - level % TILE_HEIGHT
        span = 1 << (level - base)
        below = log_repo.hashes(self._conn, base, index * span, (index + 1) * span)
        if len(below) != span:
            raise LookupError(f"no stored subtree at level {level}, index {index}")
        value = below[0] if span == 1 else merkle_root(below)
        self._cache[(level, index)] = value
        return value


def integrate(conn: Connection, old_size: int, new_leaves: list[bytes]) -> int:
    """Store the leaf hashes of entries [old_size, old_size + n) and every tile-level node
    they complete; returns the new size."""
    new_size = old_size + len(new_leaves)
    log_repo.insert_hashes(conn, 0, old_size, new_leaves)
    level = 0
    while True:
        above = level + TILE_HEIGHT
        before, after = old_size >> above, new_size >> above
        if after == before:
            return new_size
        made = [
            merkle_root(log_repo.hashes(conn, level, index * TILE_WIDTH, (index + 1) * TILE_WIDTH))
            for index in range(before, after)
        ]
        log_repo.insert_hashes(conn, above, before, made)
        level = above
