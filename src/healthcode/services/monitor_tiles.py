"""Rebuilds a log's hash tiles and root from its entries, comparing them with the served tiles."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from healthcode.tlog import (
    HASH_SIZE,
    LEAF_PREFIX,
    NODE_PREFIX,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileHashReader,
    TilePath,
    tiles_for_size,
)

__all__ = [
    "Mismatch",
    "TreeRebuilder",
    "frontier_root",
    "frontier_tiles",
    "frontier_widths",
]

_sha256 = hashlib.sha256


def frontier_widths(size: int) -> dict[int, int]:
    """Width of the partial tile at each level of a tree of ``size`` (levels without one omitted).

    These partial tiles are the tree's *frontier*: the root needs no other tile, and every
    later tile either extends one of them or lies to their right.
    """
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


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _perfect_root(hashes: Sequence[bytes]) -> bytes:
    prefix = NODE_PREFIX
    layer = list(hashes)
    while len(layer) > 1:
        layer = [
            _sha256(prefix + a + b).digest() for a, b in zip(layer[0::2], layer[1::2], strict=True)
        ]
    return layer[0]


@dataclass(frozen=True)
class Mismatch:
    """A served tile whose hash at ``position`` differs from the one rebuilt from entries."""

    tile: TilePath
    position: int
    expected: bytes
    got: bytes
    bundle: TilePath | None = None  # set for level 0: the bundle the entry came from

    @property
    def entry_index(self) -> int | None:
        return None if self.bundle is None else self.tile.start + self.position

    def describe(self) -> str:
        where = f"{self.tile} holds {self.got.hex()} at position {self.position}"
        if self.bundle is None:
            return f"{where}, but the lower level rebuilds it as {self.expected.hex()}"
        return (
            f"entry {self.entry_index} (in {self.bundle}) hashes to {self.expected.hex()}, "
            f"but {where}"
        )


def _first_difference(tile: TilePath, rebuilt: Sequence[bytes], served: bytes) -> Mismatch | None:
    if b"".join(rebuilt) == served:
        return None
    for position, (expected, got) in enumerate(zip(rebuilt, _split(served), strict=True)):
        if expected != got:
            return Mismatch(tile, position, expected, got)
    raise AssertionError("joined hashes differ but no hash does")


class TreeRebuilder:
    """Streams entry bundles in order, rebuilding every tile above them level by level.

    It starts either from nothing (``since == 0``) or from the verified frontier of an
    earlier tree of size ``since``: the first bundle is then the one holding entry
    ``since`` (re-read whole), and each higher level resumes from its frontier tile. Only
    tiles at or right of that frontier are fetched and compared; memory stays at one
    partial tile per level however long the log is.
    """

    def __init__(
        self,
        size: int,
        since: int,
        frontier: Mapping[int, bytes],
        fetch_tile: Callable[[TilePath], bytes],
    ) -> None:
        if not 0 <= since <= size:
            raise ValueError(f"need 0 <= since ({since}) <= size ({size})")
        self._size = size
        self._since = since
        self._fetch_tile = fetch_tile
        self._next_bundle = since >> TILE_HEIGHT
        # The entries of the first bundle seen before must hash as they did then.
        self._seen = _split(frontier.get(0, b""))
        self._buffers: list[list[bytes]] = [[] for _ in range(max(frontier, default=0) + 1)]
        for level, hashes in frontier.items():
            self._buffers[level] = _split(hashes)
        self.first_mismatch: Mismatch | None = None
        self.changed_entry: tuple[int, bytes, bytes] | None = None
        self.entries_hashed = 0

    def _record(self, mismatch: Mismatch | None) -> None:
        if mismatch is not None and self.first_mismatch is None:
            self.first_mismatch = mismatch

    def add_bundle(self, bundle: TilePath, entries: Sequence[bytes], served_tile: bytes) -> None:
        """Hash one bundle's entries and check them against the level-0 tile served for it."""
        if bundle.index != self._next_bundle:
            raise ValueError(f"expected bundle {self._next_bundle}, got {bundle}")
        self._next_bundle += 1
        prefix = LEAF_PREFIX
        leaves = [_sha256(prefix + entry).digest() for entry in entries]
        self.entries_hashed += len(leaves)
        if self._seen:
            for position, (before, now) in enumerate(zip(self._seen, leaves, strict=False)):
                if before != now and self.changed_entry is None:
                    self.changed_entry = (bundle.start + position, before, now)
            self._seen = []
        tile = TilePath(0, bundle.index, bundle.width)
        mismatch = _first_difference(tile, leaves, served_tile)
        if mismatch is not None:
            mismatch = Mismatch(tile, mismatch.position, mismatch.expected, mismatch.got, bundle)
        self._record(mismatch)
        if bundle.width == TILE_WIDTH:
            self._buffers[0] = []
            self._push(1, bundle.index, _perfect_root(leaves))
        else:
            self._buffers[0] = leaves

    def _push(self, level: int, index: int, node: bytes) -> None:
        """Append the hash of node ``index`` at tile level ``level``; close full tiles upward."""
        while len(self._buffers) <= level:
            self._buffers.append([])
        buffer = self._buffers[level]
        if len(buffer) != index & (TILE_WIDTH - 1):
            raise AssertionError(f"level {level} buffer out of step at node {index}")
        buffer.append(node)
        if len(buffer) == TILE_WIDTH:
            tile = TilePath(level, index >> TILE_HEIGHT)
            self._record(_first_difference(tile, buffer, self._fetch_tile(tile)))
            self._buffers[level] = []
            self._push(level + 1, tile.index, _perfect_root(buffer))

    def finish(self) -> bytes:
        """Compare the new partial tiles above level 0 and return the rebuilt root."""
        if self._next_bundle != -(-self._size // TILE_WIDTH) and self._size != self._since:
            raise ValueError(f"bundles up to {self._next_bundle} given for size {self._size}")
        widths = frontier_widths(self._size)
        for level, width in widths.items():
            have = len(self._buffers[level]) if level < len(self._buffers) else 0
            if have != width:
                raise AssertionError(f"level {level} rebuilt {have} hashes, expected {width}")
        for tile in tiles_for_size(self._size, self._since):
            if tile.level and tile.is_partial:
                served = self._fetch_tile(tile)
                self._record(_first_difference(tile, self._buffers[tile.level], served))
        return frontier_root(self._size, self.frontier)

    @property
    def frontier(self) -> dict[int, bytes]:
        """The rebuilt partial tiles, level by level: the state a later run resumes from."""
        return {level: b"".join(self._buffers[level]) for level in frontier_widths(self._size)}
