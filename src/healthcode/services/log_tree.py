"""The log's Merkle tree as stored: hash tiles a row each, any subtree hash on demand.

The store keeps the tlog-tiles hash tiles (the node hashes at tree levels 0, 8, 16, ...), one
row a tile, a full tile's row with the 255 nodes inside it. The sequencer adds to them from the
tree's frontier alone (``grow``). A subtree hash at any level is a node of the tile it lies in
(``TileNodes``), so proofs and roots need only a handful of reads, whatever the size of the
log. The self-check compares every stored hash and node with the entries, tile by tile as they
stream (``StoredTreeCheck``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection

from healthcode.errors import StoreFault
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store.log import TileGrowth, TileMismatch
from healthcode.tlog import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, MerkleTree
from healthcode.tlog.batch import bundle_leaf_hashes
from healthcode.tlog.batch import leaf_hashes as batch_leaf_hashes
from healthcode.tlog.frontier import FullTile, TileGrower, frontier_widths, split_hashes
from healthcode.tlog.proofs import fold_nodes, range_nodes

# Leaf hashes the self-check holds at once, and so the most stored hashes it reads in one go:
# it streams the entries, and holding every leaf hash of a log of 50 M entries would take
# gigabytes. 65,536 leaves (256 tiles) hold about 5 MB, the stored rows read to compare them
# about 5 MB more, whatever the size of the log; and it is one read per level per 256 tiles.
_CHECKED_AT_ONCE = 1 << 16
_FOLDS_KEPT = 4096  # right-edge folds a reader keeps: a few per tree size proofs are asked at
_FULL = TILE_WIDTH * HASH_SIZE  # bytes of a full tile's hashes, and of the nodes inside it less 32


class TileNodes:
    """Every complete node of one tile (a prefix of one, for a partial tile), by height within
    it, each height's hashes in one bytes object: a full tile's 511 nodes in 9 objects, less
    memory than its 256 hashes as objects. A full tile's nodes are those stored with it, so
    reading one hashes nothing; a partial tile's (stored without) are hashed here, once, so a
    node at any level is a slice, not the Merkle root of up to 128 hashes per proof element."""

    __slots__ = ("_heights", "width")

    def __init__(self, hashes: bytes, nodes: bytes | None = None) -> None:
        self.width = min(len(hashes), _FULL) // HASH_SIZE
        hashes = hashes[: self.width * HASH_SIZE]
        if self.width == TILE_WIDTH and nodes is not None and len(nodes) == _FULL - HASH_SIZE:
            self._heights = [hashes]
            offset = 0
            for height in range(1, TILE_HEIGHT + 1):
                size = (TILE_WIDTH >> height) * HASH_SIZE
                self._heights.append(nodes[offset : offset + size])
                offset += size
            return
        tree = MerkleTree(split_hashes(hashes))
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
        # MTH of leaf ranges that are no one node (a tree's right edge), by (start, end): a
        # range below a signed size never changes, and every proof against one size asks the
        # same few, as `MerkleTree` keeps them. Cleared when full, as they are cheap to redo.
        self.folds: dict[tuple[int, int], bytes] = {}

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


class StoredTree:
    """``node(level, index)`` for complete subtrees, and ``range_hash`` for any range of a proof,
    read through one connection and a cache of tiles: the reader's own, which outlives the
    connection, or one for this tree alone. ``conn`` is the connection, or what opens one the
    first time a tile is not kept. A node the store should hold and does not (a tile lost, or
    short) is `log.tile_missing`."""

    def __init__(
        self, conn: Connection | Callable[[], Connection], tiles: TileCache | None = None
    ) -> None:
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
            raise StoreFault(
                "log.tile_missing",
                f"no stored subtree at level {level}, index {index}: tile"
                f" {first // TILE_WIDTH} at tree level {level - height} is missing or short",
            ) from None

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range of the RFC 9162 recursion (a ``RangeFn``): one node when
        its width is a power of two (such ranges are aligned), else a kept fold."""
        width = end - start
        if not width & (width - 1):
            level = width.bit_length() - 1
            return self.node(level, start >> level)
        folds = self._tiles.folds
        found = folds.get((start, end))
        if found is None:
            found = fold_nodes([self.node(level, i) for level, i in range_nodes(start, end)])
            if len(folds) >= _FOLDS_KEPT:
                folds.clear()
            folds[(start, end)] = found
        return found

    def _tile(self, level: int, index: int, needed: int) -> TileNodes:
        found = self._used.get((level, index))
        if found is not None and found.width >= needed:
            return found
        found = self._tiles.get(level, index, needed)
        if found is None:
            if not isinstance(self._conn, Connection):
                self._conn = self._conn()
            rows = log_repo.tiles(self._conn, level // TILE_HEIGHT, index, index + 1)
            found = TileNodes(rows[0][2], rows[0][3]) if rows else TileNodes(b"")
            self._tiles.put(level, index, found)
        self._used[(level, index)] = found
        return found


def grow(
    size: int, frontier: Mapping[int, bytes], leaves: Sequence[bytes] | bytes
) -> tuple[list[TileGrowth], dict[int, bytes]]:
    """What appending ``leaves`` (leaf hashes: a list, or concatenated as ``tlog.batch`` gives
    them) to the tree of ``size`` adds to the stored tiles: the hashes it adds to each tile (and
    the nodes inside each tile it completes), and the grown tree's frontier (its partial tile at
    each tile level, ``tlog.frontier``).

    Only the frontier is read, never the store. Each new leaf and each new node above is
    hashed once, when the tile under it fills (``TileGrower``); the kept partial tiles are
    not hashed again.
    """
    grower = TileGrower(size, frontier)
    completed = grower.append(leaves)
    end = grower.size
    grown = grower.frontier

    def had(level: int, index: int) -> int:
        """How many hashes tile ``index`` of ``level`` had in the tree of ``size``."""
        return min(max((size >> (TILE_HEIGHT * level)) - (index << TILE_HEIGHT), 0), TILE_WIDTH)

    growths: list[TileGrowth] = []
    for tile in completed:
        stored = had(tile.level, tile.index)
        growths.append(
            (tile.level, tile.index, stored, tile.data[stored * HASH_SIZE :], tile.nodes)
        )
    for level in frontier_widths(end):
        shift = TILE_HEIGHT * level
        if end >> shift != size >> shift:  # this level's partial tile has new hashes
            index = (end >> shift) >> TILE_HEIGHT
            stored = had(level, index)
            growths.append((level, index, stored, grown[level][stored * HASH_SIZE :], None))
    return growths, grown


def stored_leaves(conn: Connection, start: int, end: int) -> bytes:
    """The leaf hashes of entries [start, end) concatenated: a full bundle's hashed from its row
    as stored (``tlog.batch.bundle_leaf_hashes``: no entry is made an object), the bundle being
    filled's from its entry rows. Those up to the last stored, as `log_bundles.entries` reads
    them: LookupError for a missing entry before that, `log_bundles.BundleFault` for a
    malformed bundle or an entry stored twice."""
    runs: list[tuple[int, bytes]] = []  # (index of the first, hashes)
    full, rows = log_bundles.read(conn, start, end)
    for bundle in full:
        try:
            hashes = bundle_leaf_hashes(bundle.entries)
        except ValueError as error:
            raise bundle.fault(str(error)) from None
        bundle.check(len(hashes) // HASH_SIZE)
        low, high = max(start - bundle.first, 0), min(end - bundle.first, TILE_WIDTH)
        runs.append((bundle.first + low, hashes[low * HASH_SIZE : high * HASH_SIZE]))
    hashes = batch_leaf_hashes([body for _, _, body, _ in rows])
    runs.extend((row[0], hashes[i * HASH_SIZE : (i + 1) * HASH_SIZE]) for i, row in enumerate(rows))
    runs.sort(key=lambda run: run[0])
    expected = start
    for index, run in runs:
        if index < expected:
            raise log_bundles.BundleFault.twice(index)
        if index > expected:
            raise LookupError(f"log entries between {start} and {end} have a gap")
        expected += len(run) // HASH_SIZE
    return b"".join(run for _, run in runs)


def stored_frontier(conn: Connection, size: int) -> dict[int, bytes] | None:
    """The frontier of the tree of ``size`` as stored; None if a hash of it is missing, and
    `TileMismatch` if a partial tile's row holds more than its hashes in that tree: each
    level's partial tile is one row, and it must hold exactly those."""
    frontier: dict[int, bytes] = {}
    for level, width in frontier_widths(size).items():
        index = (size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT
        rows = log_repo.tiles(conn, level, index, index + 1)
        data = rows[0][2] if rows else b""
        if len(data) < width * HASH_SIZE:
            return None
        if len(data) > width * HASH_SIZE:
            raise TileMismatch.length(level, index, len(data), width)
        frontier[level] = data
    return frontier


class StoredTreeCheck:
    """Compares the stored tiles, at every tile level, with the tree of the entries' leaf
    hashes as the self-check streams them (``add`` in index order, then ``finish``): each
    hash, and the nodes stored inside each full tile. The sequencer grows the tree from its
    frontier and never reads a full tile back, so this is what finds a stored hash or node
    tampered with or deleted.

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
        for level in frontier_widths(self._size):
            index = (self._size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT
            self._compare(level, [(index, self._grower.partial(level), None)])

    def _flush(self) -> None:
        completed = self._grower.append(self._run)
        self._run = []
        # A run completes consecutive tiles at each level: one read per level.
        runs: dict[int, list[FullTile]] = {}
        for tile in completed:
            runs.setdefault(tile.level, []).append(tile)
        for level, tiles in runs.items():
            self._compare(level, [(tile.index, tile.hashes, tile.nodes) for tile in tiles])

    def _compare(self, level: int, expected: list[tuple[int, list[bytes], bytes | None]]) -> None:
        """Compare consecutive tiles of ``level``, each (index, hashes, nodes or None)."""
        first = expected[0][0]
        stored = {
            row[1]: row for row in log_repo.tiles(self._conn, level, first, first + len(expected))
        }
        tree_level = TILE_HEIGHT * level
        for index, hashes, nodes in expected:
            row = stored.get(index)
            data = row[2] if row else b""
            base = index << TILE_HEIGHT
            for offset, (want, have) in enumerate(zip(hashes, split_hashes(data), strict=False)):
                if want == have:
                    continue
                if level == 0:
                    self._report(
                        f"entry {base + offset} does not hash to the tree's leaf {base + offset}"
                    )
                else:
                    self._report(
                        f"the stored hash {base + offset} at tree level {tree_level} does not"
                        " match the entries under it"
                    )
            held = len(data) // HASH_SIZE
            if held < len(hashes):
                self._report(
                    f"a stored hash at tree level {tree_level} is missing among indices"
                    f" {base + held}..{base + len(hashes) - 1}"
                )
            elif len(data) > len(hashes) * HASH_SIZE:  # a partial one so halts the sequencer
                self._report(str(TileMismatch.length(level, index, len(data), len(hashes))))
            elif nodes is not None and row is not None and row[3] != nodes:
                self._report(
                    f"the nodes stored inside tile {index} at tree level {tree_level} do not"
                    " match the entries under it"
                )


def check_tiles_ahead(
    conn: Connection, size: int, report: Callable[[str], None], limit: int
) -> None:
    """Report each stored row (the first ``limit``) of a tile the tree of ``size`` has no hash
    of: tiles are written with the checkpoint over them, so no run wrote it, and the run that
    reaches it halts the log (`TileMismatch`). It reads no entry, so it runs whatever they are."""
    kept: list[int] = []  # how many tiles the tree has at each tile level that has a hash
    while size >> (TILE_HEIGHT * len(kept)):
        kept.append(((size >> (TILE_HEIGHT * len(kept))) + TILE_WIDTH - 1) // TILE_WIDTH)
    for level, index, found in log_repo.tiles_ahead(conn, kept, limit):
        report(str(TileMismatch.ahead(level, index, found, size)))
