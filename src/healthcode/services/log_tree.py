"""The log's Merkle tree as stored: node hashes at tile levels, any subtree hash on demand.

The store keeps the hashes at tree levels 0, 8, 16, ... — exactly the contents of tlog-tiles
hash tiles. The sequencer adds to them from the tree's frontier alone (``grow``). A subtree
hash at another level is a node of the tile it lies in (``TileNodes``), so proofs and roots
need only a handful of reads, whatever the size of the log. The self-check compares every
stored hash with the entries, tile by tile as they stream (``StoredTreeCheck``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection

from healthcode.store import log as log_repo
from healthcode.tlog import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, MerkleTree
from healthcode.tlog.frontier import TileGrower, frontier_widths

# Leaf hashes the self-check holds at once, and so the most stored hashes it reads in one go:
# it streams the entries, and holding every leaf hash of a log of 50 M entries would take
# gigabytes. 65,536 leaves (256 tiles) hold about 5 MB, the stored rows read to compare them
# about 10 MB more, whatever the size of the log; and it is one read per level per 256 tiles.
_CHECKED_AT_ONCE = 1 << 16


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


def _stored(conn: Connection, level: int, start: int, end: int) -> list[bytes] | None:
    """The stored hashes [start, end) at tile level ``level``; None if any is missing."""
    try:
        found = log_repo.hashes(conn, TILE_HEIGHT * level, start, end)
    except LookupError:  # a gap: a row deleted
        return None
    return found if len(found) == end - start else None


def stored_frontier(conn: Connection, size: int) -> dict[int, bytes] | None:
    """The frontier of the tree of ``size`` as stored; None if a hash of it is missing."""
    frontier: dict[int, bytes] = {}
    for level, width in frontier_widths(size).items():
        count = size >> (TILE_HEIGHT * level)
        hashes = _stored(conn, level, count - width, count)
        if hashes is None:
            return None
        frontier[level] = b"".join(hashes)
    return frontier


class StoredTreeCheck:
    """Compares the stored hashes, at every tile level, with the tree of the entries' leaf
    hashes as the self-check streams them (``add`` in index order, then ``finish``). The
    sequencer grows the tree from its frontier and never reads a full tile back, so this is
    what finds a stored hash tampered with or deleted.

    Tiles are rebuilt as the leaves come (``TileGrower``), and each is compared with the store
    as it is completed, so memory stays at ``_CHECKED_AT_ONCE`` leaves and one partial tile per
    level. Each level is checked against the entries, not against the stored level below.
    """

    def __init__(self, conn: Connection, size: int, report: Callable[[str], None]) -> None:
        self._conn = conn
        self._size = size
        self._report = report
        self._grower = TileGrower()
        self._run: list[bytes] = []

    def add(self, leaf: bytes) -> None:
        """The leaf hash of the next entry below the checked size."""
        self._run.append(leaf)
        if len(self._run) == _CHECKED_AT_ONCE:
            self._flush()

    def finish(self) -> None:
        """Compare what is left: the last run and the partial tiles."""
        self._flush()
        if self._grower.size != self._size:
            raise ValueError(f"{self._grower.size} leaves given for a tree of size {self._size}")
        for level, width in frontier_widths(self._size).items():
            count = self._size >> (TILE_HEIGHT * level)
            self._compare(level, count - width, self._grower.partial(level))

    def _flush(self) -> None:
        completed = self._grower.append(self._run)
        self._run = []
        # A run completes consecutive tiles at each level: one read per level.
        runs: dict[int, tuple[int, list[bytes]]] = {}
        for tile in completed:
            first, hashes = runs.setdefault(tile.level, (tile.index << TILE_HEIGHT, []))
            hashes.extend(tile.hashes)
        for level, (first, hashes) in runs.items():
            self._compare(level, first, hashes)

    def _compare(self, level: int, first: int, expected: list[bytes]) -> None:
        stored = _stored(self._conn, level, first, first + len(expected))
        if stored is None and len(expected) > TILE_WIDTH:
            # Read again tile by tile: the report names the tile, and the others are checked.
            for start in range(0, len(expected), TILE_WIDTH):
                self._compare(level, first + start, expected[start : start + TILE_WIDTH])
            return
        if stored is None:
            self._report(
                f"a stored hash at tree level {TILE_HEIGHT * level} is missing among indices"
                f" {first}..{first + len(expected) - 1}"
            )
            return
        for index, (want, got) in enumerate(zip(expected, stored, strict=True), start=first):
            if want == got:
                continue
            if level == 0:
                self._report(f"entry {index} does not hash to the tree's leaf {index}")
            else:
                self._report(
                    f"the stored hash {index} at tree level {TILE_HEIGHT * level} does not match"
                    " the entries under it"
                )
