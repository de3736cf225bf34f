"""A tree's frontier (its partial tile at each C2SP tlog-tiles level) and growing its tiles from it.

The frontier of a tree of size n holds, at each tile level L, the ``floor(n / 256**L) mod 256``
hashes of its partial tile. The root needs nothing else, and every later tile either extends
one of them or lies to their right, so a tree can be grown, rebuilt or checked tile by tile in
memory bounded by one partial tile per level, however long the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from healthcode.tlog.hashing import HASH_SIZE
from healthcode.tlog.tilepath import TILE_HEIGHT, TILE_WIDTH, TilePath
from healthcode.tlog.tiles import TileHashReader, perfect_layers

__all__ = [
    "FullTile",
    "TileGrower",
    "frontier_root",
    "frontier_tiles",
    "frontier_widths",
    "split_hashes",
]


def split_hashes(data: bytes) -> list[bytes]:
    """Tile contents (or any concatenation of hashes) as its 32-byte hashes."""
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


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
    """A tile that an append completed: its 256 hashes and their root, which is hash ``index``
    of tile level ``level + 1``, and every node between: ``nodes`` is the 255 hashes of
    heights 1 to 8 within the tile, each height left to right, lowest first (the root last)."""

    level: int
    index: int
    hashes: list[bytes]
    nodes: bytes

    @property
    def root(self) -> bytes:
        return self.nodes[-HASH_SIZE:]


class TileGrower:
    """The tiles of a tree grown by appending leaf hashes, from the frontier of the tree so far.

    Each level's hashes gather in its partial tile; when it fills, its nodes are hashed once (255
    node hashes, kept in the ``FullTile``) and its root becomes the next hash of the level
    above. No inner node of a partial tile is hashed, so appending in small runs costs no more
    than appending at once.
    """

    def __init__(self, size: int = 0, frontier: Mapping[int, bytes] | None = None) -> None:
        given = frontier or {}
        self._size = size
        widths = frontier_widths(size)
        self._partial: list[list[bytes]] = []
        for level in range(max(widths, default=-1) + 1):
            hashes = split_hashes(given.get(level, b""))
            if len(hashes) != widths.get(level, 0):
                raise ValueError(f"the frontier at level {level} is not that of size {size}")
            self._partial.append(hashes)

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> dict[int, bytes]:
        """The partial tiles now, level by level: the state a later grower resumes from."""
        return {level: b"".join(self._partial[level]) for level in frontier_widths(self._size)}

    def partial(self, level: int) -> list[bytes]:
        """The hashes of the partial tile at ``level`` (empty if it has none)."""
        return list(self._partial[level]) if level < len(self._partial) else []

    def append(self, leaves: Sequence[bytes]) -> list[FullTile]:
        """Append leaf hashes; the tiles they complete, lowest level first, each in order."""
        completed: list[FullTile] = []
        fresh: Sequence[bytes] = leaves
        level = 0
        while fresh:
            if level == len(self._partial):
                self._partial.append([])
            partial = self._partial[level]
            index = (self._size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT
            roots: list[bytes] = []
            taken = 0
            while taken < len(fresh):
                room = TILE_WIDTH - len(partial)
                partial.extend(fresh[taken : taken + room])
                taken += room
                if len(partial) == TILE_WIDTH:
                    layers = perfect_layers(partial)
                    nodes = b"".join([b"".join(layer) for layer in layers])
                    completed.append(FullTile(level, index, partial, nodes))
                    roots.append(layers[-1][0])
                    index += 1
                    partial = []
            self._partial[level] = partial
            fresh = roots
            level += 1
        self._size += len(leaves)
        return completed
