"""A tree's frontier (its partial tile at each C2SP tlog-tiles level) and growing its tiles from it.

The frontier of a tree of size n holds, at each tile level L, the ``floor(n / 256**L) mod 256``
hashes of its partial tile. The root needs nothing else, and every later tile either extends
one of them or lies to their right, so a tree can be grown, rebuilt or checked tile by tile in
memory bounded by one partial tile per level, however long the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from healthcode.tlog import batch
from healthcode.tlog.batch import split_hashes
from healthcode.tlog.hashing import HASH_SIZE
from healthcode.tlog.tilepath import TILE_HEIGHT, TILE_WIDTH, TilePath
from healthcode.tlog.tiles import TileHashReader

__all__ = [
    "FullTile",
    "TileGrower",
    "frontier_root",
    "frontier_tiles",
    "frontier_widths",
    "split_hashes",
]


def frontier_widths(size: int) -> dict[int, int]:
    """Width of the partial tile at each level of a tree of ``size`` (levels without one
    omitted)."""
    widths: dict[int, int] = {}
    level = 0
    while size >> (TILE_HEIGHT * level):
        width = (size >> (TILE_HEIGHT * level)) & (TILE_WIDTH - 1)
        if width:
            widths[level] = width
        level += 1
    return widths


def frontier_tiles(size: int, frontier: Mapping[int, bytes]) -> list[tuple[TilePath, bytes]]:
    """The frontier as ``(partial tile, contents)`` pairs."""
    return [
        (TilePath(level, (size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT, width), frontier[level])
        for level, width in frontier_widths(size).items()
    ]


def frontier_root(size: int, frontier: Mapping[int, bytes]) -> bytes:
    """MTH of the tree of ``size`` from its frontier alone."""
    return TileHashReader(size, frontier_tiles(size, frontier)).root()


@dataclass(frozen=True)
class FullTile:
    """A tile that an append completed: its 256 hashes (``data``, concatenated) and their root,
    which is hash ``index`` of tile level ``level + 1``, and every node between: ``nodes`` is the
    255 hashes of heights 1 to 8 within the tile, each height left to right, lowest first (the
    root last)."""

    level: int
    index: int
    data: bytes
    nodes: bytes

    @property
    def hashes(self) -> list[bytes]:
        return split_hashes(self.data)

    @property
    def root(self) -> bytes:
        return self.nodes[-HASH_SIZE:]


class TileGrower:
    """The tiles of a tree grown by appending leaf hashes, from the frontier of the tree so far.

    Each level's hashes gather in its partial tile; when it fills, its nodes are hashed once (255
    node hashes, kept in the ``FullTile``) and its root becomes the next hash of the level
    above. No inner node of a partial tile is hashed, so appending in small runs costs no more
    than appending at once. A partial tile is its hashes concatenated, so leaf hashes given as
    one bytes object (``batch.leaf_hashes``) are never made an object each.
    """

    def __init__(self, size: int = 0, frontier: Mapping[int, bytes] | None = None) -> None:
        given = frontier or {}
        self._size = size
        widths = frontier_widths(size)
        self._partial: list[bytearray] = []
        for level in range(max(widths, default=-1) + 1):
            hashes = bytearray(given.get(level, b""))
            if len(hashes) != widths.get(level, 0) * HASH_SIZE:
                raise ValueError(f"the frontier at level {level} is not that of size {size}")
            self._partial.append(hashes)

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> dict[int, bytes]:
        """The partial tiles now, level by level: the state a later grower resumes from."""
        return {level: bytes(self._partial[level]) for level in frontier_widths(self._size)}

    def partial(self, level: int) -> list[bytes]:
        """The hashes of the partial tile at ``level`` (empty if it has none)."""
        return split_hashes(self._partial[level]) if level < len(self._partial) else []

    def append(self, leaves: Sequence[bytes] | bytes) -> list[FullTile]:
        """Append leaf hashes, a list of them or all of them concatenated; the tiles they
        complete, lowest level first, each in order."""
        fresh = leaves if isinstance(leaves, bytes) else b"".join(leaves)
        if len(fresh) % HASH_SIZE:
            raise ValueError(f"leaf hashes are {HASH_SIZE} bytes each, not {len(fresh)} in all")
        completed: list[FullTile] = []
        count = len(fresh) // HASH_SIZE
        full = TILE_WIDTH * HASH_SIZE
        level = 0
        while fresh:
            if level == len(self._partial):
                self._partial.append(bytearray())
            partial = self._partial[level]
            index = (self._size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT
            roots = bytearray()
            taken = 0
            while taken < len(fresh):
                room = full - len(partial)
                partial += memoryview(fresh)[taken : taken + room]
                taken += room
                if len(partial) == full:
                    data = bytes(partial)
                    nodes = batch.perfect_layers(data)
                    completed.append(FullTile(level, index, data, nodes))
                    roots += nodes[-HASH_SIZE:]
                    index += 1
                    partial = bytearray()
            self._partial[level] = partial
            fresh = bytes(roots)
            level += 1
        self._size += count
        return completed
