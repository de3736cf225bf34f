"""The log's Merkle tree as stored: node hashes at tile levels, any subtree hash on demand.

The store keeps the hashes at tree levels 0, 8, 16, ... — exactly the contents of tlog-tiles
hash tiles. The sequencer adds to them from the tree's frontier alone (``grow``). A subtree
hash at another level is a node of the tile it lies in (``TileNodes``), so proofs and roots
need only a handful of reads, whatever the size of the log.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from healthcode.store import log as log_repo
from healthcode.tlog import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, MerkleTree
from healthcode.tlog.frontier import TileGrower, frontier_widths

_CHECKED_AT_ONCE = 1 << 16  # leaves hashed into one in-memory tree by the self-check


class TileNodes:
    """Every complete node of one tile (a prefix of one, for a partial tile), by height within
    it, each height's hashes in one bytes object: a full tile's 511 nodes in 9 objects, less
    memory than its 256 hashes as objects. Built once when the tile is read, so a node at any
    level is a slice, not the Merkle root of up to 128 hashes per proof element."""

    __slots__ = ("_heights", "width")

    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.width = len(hashes)
        tree = MerkleTree(hashes)
        self._heights = [
            b"".join(tree.level_hashes(height, 0, self.width >> height))
            for height in range(TILE_HEIGHT + 1)
            if self.width >> height
        ]

    def node(self, height: int, index: int) -> bytes:
        """The node over hashes [index << height, (index + 1) << height) of the tile."""
        layer = self._heights[height] if height < len(self._heights) else b""
        found = layer[index * HASH_SIZE : (index + 1) * HASH_SIZE]
        if len(found) != HASH_SIZE:
            raise LookupError(f"no complete node at height {height}, index {index} of the tile")
        return found


class TileCache:
    """Tiles kept in memory (bounded, least recently used first out), so that serving proofs
    and receipts need not read them again. Stored hashes are never rewritten, only appended to,
    so a tile read once is a valid prefix for ever: a full tile never changes, and a partial one
    is read again only when a request needs more of it than was kept.

    Only readers that serve the log keep one; the self-check always reads the store, so a
    stored hash that was tampered with is still found.
    """

    def __init__(self, max_tiles: int = 4096) -> None:
        self._tiles: OrderedDict[tuple[int, int], TileNodes] = OrderedDict()
        self._max = max_tiles
        self._lock = threading.Lock()

    def get(self, level: int, index: int, needed: int) -> TileNodes | None:
        """The tile, if at least `needed` of its hashes are kept."""
        with self._lock:
            found = self._tiles.get((level, index))
            if found is None or found.width < needed:
                return None
            self._tiles.move_to_end((level, index))
            return found

    def put(self, level: int, index: int, tile: TileNodes) -> None:
        with self._lock:
            kept = self._tiles.get((level, index))
            if kept is None or kept.width < tile.width:
                self._tiles[(level, index)] = tile
            while len(self._tiles) > self._max:
                self._tiles.popitem(last=False)


class TileNotKept(LookupError):
    """A tree without a connection needed a tile its cache does not hold."""


class StoredTree:
    """``node(level, index)`` for complete subtrees, read through one connection and a cache of
    tiles: the reader's own, which outlives the connection, or one for this tree alone. Without
    a connection, only what the cache holds (else `TileNotKept`)."""

    def __init__(self, conn: Connection | None, tiles: TileCache | None = None) -> None:
        self._conn = conn
        self._tiles = TileCache() if tiles is None else tiles
        # The tiles this tree has used: a proof asks several nodes of each, and this saves the
        # shared cache's lock and recency update for all but the first.
        self._used: dict[tuple[int, int], TileNodes] = {}

    def node(self, level: int, index: int) -> bytes:
        height = level % TILE_HEIGHT
        first = index << height  # the first hash under the node, at tile level ``level - height``
        offset = first % TILE_WIDTH
        tile = self._tile(level - height, first // TILE_WIDTH, offset + (1 << height))
        try:
            return tile.node(height, offset >> height)
        except LookupError:
            raise LookupError(f"no stored subtree at level {level}, index {index}") from None

    def _tile(self, level: int, index: int, needed: int) -> TileNodes:
        found = self._used.get((level, index))
        if found is not None and found.width >= needed:
            return found
        found = self._tiles.get(level, index, needed)
        if found is None:
            if self._conn is None:
                raise TileNotKept(f"tile {index} at tree level {level} is not kept")
            start = index * TILE_WIDTH
            found = TileNodes(log_repo.hashes(self._conn, level, start, start + TILE_WIDTH))
            self._tiles.put(level, index, found)
        self._used[(level, index)] = found
        return found


def grow(
    size: int, frontier: Mapping[int, bytes], leaves: Sequence[bytes]
) -> tuple[list[tuple[int, int, bytes]], dict[int, bytes]]:
    """What appending ``leaves`` to the tree of ``size`` adds: every new node hash at a tile
    level, as (tree level, index, hash) rows, and the grown tree's frontier (its partial tile
    at each tile level, ``tlog.frontier``).

    Only the frontier is read, never the store. Each new leaf and each new hash above is
    hashed once, when the tile under it fills (``TileGrower``); the kept partial tiles are
    not hashed again.
    """
    grower = TileGrower(size, frontier)
    completed = grower.append(leaves)
    rows = [(0, size + offset, leaf) for offset, leaf in enumerate(leaves)]
    rows.extend((TILE_HEIGHT * (tile.level + 1), tile.index, tile.root) for tile in completed)
    return rows, grower.frontier


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
