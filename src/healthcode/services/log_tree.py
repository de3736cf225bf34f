"""The log's Merkle tree as stored: node hashes at tile levels, any subtree hash on demand.

The store keeps the hashes at tree levels 0, 8, 16, ... — exactly the contents of tlog-tiles
hash tiles. A subtree hash at another level is the root of the 2^k stored hashes under it,
so proofs and roots need only a handful of reads, whatever the size of the log.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from healthcode.services.monitor_tiles import frontier_widths
from healthcode.store import log as log_repo
from healthcode.tlog import HASH_SIZE, TILE_HEIGHT, MerkleTree, merkle_root

TILE_WIDTH = 1 << TILE_HEIGHT
_CHECKED_AT_ONCE = 1 << 16  # leaves hashed into one in-memory tree by the self-check


class TileCache:
    """Tile hashes kept in memory (bounded, least recently used first out), so that serving
    proofs and receipts need not read them again. Stored hashes are never rewritten, only
    appended to, so a tile read once is a valid prefix for ever: a full tile never changes, and
    a partial one is read again only when a request needs more of it than was kept.

    Only readers that serve the log use it; the self-check always reads the store, so a stored
    hash that was tampered with is still found.
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


def grow(
    size: int, frontier: Mapping[int, bytes], leaves: Sequence[bytes]
) -> tuple[list[tuple[int, int, bytes]], dict[int, bytes]]:
    """What appending ``leaves`` to the tree of ``size`` adds: every new node hash at a tile
    level, as (tree level, index, hash) rows, and the grown tree's frontier (its partial tile
    at each tile level, as in ``monitor_tiles``).

    Only the frontier is read, never the store: at each tile level the frontier's hashes and the
    new ones make a run that starts at a tile boundary, so the roots of the tiles it completes
    are its tree's nodes at height 8, and they are the level above's new hashes. Every new node
    is hashed once.
    """
    rows: list[tuple[int, int, bytes]] = []
    grown: dict[int, bytes] = {}
    fresh, first = list(leaves), size  # the level's new hashes and the index of the first
    level = 0
    while (size + len(leaves)) >> (TILE_HEIGHT * level):
        rows.extend((TILE_HEIGHT * level, first + offset, h) for offset, h in enumerate(fresh))
        kept = frontier.get(level, b"")
        run = [kept[i : i + HASH_SIZE] for i in range(0, len(kept), HASH_SIZE)] + fresh
        full = len(run) >> TILE_HEIGHT
        if len(run) > full << TILE_HEIGHT:
            grown[level] = b"".join(run[full << TILE_HEIGHT :])
        first = (first - len(run) + len(fresh)) >> TILE_HEIGHT
        fresh = list(MerkleTree(run).level_hashes(TILE_HEIGHT, 0, full)) if full else []
        level += 1
    return rows, grown


def stored_frontier(conn: Connection, size: int) -> dict[int, bytes] | None:
    """The frontier of the tree of ``size`` as stored; None if a hash of it is missing."""
    frontier: dict[int, bytes] = {}
    for level, width in frontier_widths(size).items():
        count = size >> (TILE_HEIGHT * level)
        hashes = log_repo.hashes(conn, TILE_HEIGHT * level, count - width, count)
        if len(hashes) != width:
            return None
        frontier[level] = b"".join(hashes)
    return frontier


def stored_level_problems(conn: Connection, leaves: Sequence[bytes]) -> list[str]:
    """Where the stored hashes above level 0 differ from the tree of ``leaves`` (the leaf
    hashes of entries [0, n), as the self-check recomputes them). The sequencer grows the tree
    from its frontier and never reads a full tile back, so this is what finds one tampered with.
    """
    problems: list[str] = []
    below = list(leaves)
    level = 1
    while len(leaves) >> (TILE_HEIGHT * level):
        count = len(below) >> TILE_HEIGHT
        expected: list[bytes] = []
        for start in range(0, count << TILE_HEIGHT, _CHECKED_AT_ONCE):
            part = below[start : min(start + _CHECKED_AT_ONCE, count << TILE_HEIGHT)]
            expected.extend(MerkleTree(part).level_hashes(TILE_HEIGHT, 0, len(part) >> TILE_HEIGHT))
        stored = log_repo.hashes(conn, TILE_HEIGHT * level, 0, count)
        for index, want in enumerate(expected):
            if index >= len(stored) or stored[index] != want:
                problems.append(
                    f"the stored hash {index} at tree level {TILE_HEIGHT * level} does not match"
                    " the entries under it"
                )
        below = expected  # each level against the entries, not against a stored level below
        level += 1
    return problems
