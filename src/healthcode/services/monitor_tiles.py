"""Rebuilds a log's hash tiles and root from its entries, comparing them with the served tiles."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from healthcode.tlog import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TilePath,
    leaf_hashes,
    tiles_for_size,
)
from healthcode.tlog.frontier import TileGrower, frontier_root, split_hashes
from healthcode.tlog.tiles import perfect_root

__all__ = ["Mismatch", "TreeRebuilder"]


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
    for position, (expected, got) in enumerate(zip(rebuilt, split_hashes(served), strict=True)):
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
        self._seen = split_hashes(frontier.get(0, b""))
        # Level 0 is rebuilt a bundle at a time (the first one re-read whole), so the grower
        # holds the tree of bundle roots: its level k is tile level k + 1.
        self._leaves = list(self._seen)
        self._above = TileGrower(
            since >> TILE_HEIGHT, {level - 1: hashes for level, hashes in frontier.items() if level}
        )
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
        leaves = leaf_hashes(entries)  # in one batch (tlog/batch.py), in C where built
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
            self._leaves = []
            for full in self._above.append([perfect_root(leaves)]):
                above = TilePath(full.level + 1, full.index)
                self._record(_first_difference(above, full.hashes, self._fetch_tile(above)))
        else:
            self._leaves = leaves

    def finish(self) -> bytes:
        """Compare the new partial tiles above level 0 and return the rebuilt root."""
        if self._next_bundle != -(-self._size // TILE_WIDTH) and self._size != self._since:
            raise ValueError(f"bundles up to {self._next_bundle} given for size {self._size}")
        if (self._above.size, len(self._leaves)) != divmod(self._size, TILE_WIDTH):
            raise AssertionError(f"the rebuilt tree is not of size {self._size}")
        for tile in tiles_for_size(self._size, self._since):
            if tile.level and tile.is_partial:
                served = self._fetch_tile(tile)
                rebuilt = self._above.partial(tile.level - 1)
                self._record(_first_difference(tile, rebuilt, served))
        return frontier_root(self._size, self.frontier)

    @property
    def frontier(self) -> dict[int, bytes]:
        """The rebuilt partial tiles, level by level: the state a later run resumes from."""
        above = {level + 1: hashes for level, hashes in self._above.frontier.items()}
        return {0: b"".join(self._leaves), **above} if self._leaves else above
