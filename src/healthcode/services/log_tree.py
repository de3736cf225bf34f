"""The log's Merkle tree as stored: node hashes at tile levels, any subtree hash on demand.

The store keeps the hashes at tree levels 0, 8, 16, ... — exactly the contents of tlog-tiles
hash tiles. A subtree hash at another level is the root of the 2^k stored hashes under it,
so proofs and roots need only a handful of reads, whatever the size of the log.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import Connection

from healthcode.store import log as log_repo
from healthcode.tlog import TILE_HEIGHT, merkle_root

TILE_WIDTH = 1 << TILE_HEIGHT


class TileCache:
    """Tile hashes kept in memory (bounded, least recently used first out), so that serving
    proofs and receipts need not read them again. Stored hashes are never rewritten, only
    appended to, so a tile read once is a valid prefix for ever: a full tile never changes, and
    a partial one is read again only when a request needs more of it than was kept.

    Only readers that serve the log use it; the sequencer and the self-check always read the
    store, so a stored hash that was tampered with is still found.
    """

    def __init__(self, max_tiles: int = 4096) -> None:
        self._tiles: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()
        self._max = max_tiles
        self._lock = threading.Lock()

    def get(self, level: int, index: int, needed: int) -> list[bytes] | None:
        """The tile's hashes, if at least `needed` of them are kept."""
        with self._lock:
            found = self._tiles.get((level, index))
            if found is None or len(found) < needed:
                return None
            self._tiles.move_to_end((level, index))
            return found

    def put(self, level: int, index: int, hashes: list[bytes]) -> None:
        with self._lock:
            kept = self._tiles.get((level, index))
            if kept is None or len(kept) < len(hashes):
                self._tiles[(level, index)] = hashes
            while len(self._tiles) > self._max:
                self._tiles.popitem(last=False)


class StoredTree:
    """``node(level, index)`` for complete subtrees, read through one connection (and, for a
    reader that serves the log, through its cache of full tiles)."""

    def __init__(self, conn: Connection, tiles: TileCache | None = None) -> None:
        self._conn = conn
        self._tiles = tiles
        self._cache: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        cached = self._cache.get((level, index))
        if cached is not None:
            return cached
        base = level - level % TILE_HEIGHT
        span = 1 << (level - base)
        first = index * span
        if self._tiles is None:
            below = log_repo.hashes(self._conn, base, first, first + span)
        else:
            offset = first % TILE_WIDTH
            tile = self._tile(base, first // TILE_WIDTH, offset + span)
            below = tile[offset : offset + span]
        if len(below) != span:
            raise LookupError(f"no stored subtree at level {level}, index {index}")
        value = below[0] if span == 1 else merkle_root(below)
        self._cache[(level, index)] = value
        return value

    def _tile(self, level: int, index: int, needed: int) -> list[bytes]:
        assert self._tiles is not None
        found = self._tiles.get(level, index, needed)
        if found is None:
            start = index * TILE_WIDTH
            found = log_repo.hashes(self._conn, level, start, start + TILE_WIDTH)
            self._tiles.put(level, index, found)
        return found


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
