"""C2SP tlog-tiles resources: which tiles and bundles a tree has, their bytes, nodes from tiles."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence

from healthcode.tlog import batch
from healthcode.tlog.batch import split_hashes
from healthcode.tlog.errors import BundleError, TileError, TreeRangeError
from healthcode.tlog.hashing import EMPTY_ROOT, HASH_SIZE, MAX_TREE_SIZE, node_hash
from healthcode.tlog.proofs import NodeId, ProofPlan, root_plan, subtree_root
from healthcode.tlog.tilepath import TILE_HEIGHT, TILE_WIDTH, TilePath
from healthcode.tlog.tree import MerkleTree

__all__ = [
    "MAX_ENTRY_SIZE",
    "TileHashReader",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "entry_bundles_for_size",
    "export_resources",
    "perfect_layers",
    "perfect_root",
    "tile_data",
    "tile_for_node",
    "tiles_for_nodes",
    "tiles_for_plan",
    "tiles_for_size",
]

MAX_ENTRY_SIZE = 0xFFFF
_LENGTH = struct.Struct(">H")


def _check_sizes(size: int, since: int) -> None:
    if not 0 <= since <= size <= MAX_TREE_SIZE:
        raise TreeRangeError(f"need 0 <= since ({since}) <= size ({size}) < 2^64")


def _resources(size: int, since: int, level: int, entries: bool) -> Iterator[TilePath]:
    shift = TILE_HEIGHT * level
    count, old_count = size >> shift, since >> shift
    for n in range(old_count >> TILE_HEIGHT, count >> TILE_HEIGHT):
        yield TilePath(level, n, TILE_WIDTH, entries)
    width = count & (TILE_WIDTH - 1)
    # The partial tile is new only if the number of nodes at this level changed.
    if width and count != old_count:
        yield TilePath(level, count >> TILE_HEIGHT, width, entries)


def tiles_for_size(size: int, since: int = 0) -> Iterator[TilePath]:
    """Hash tiles of a tree of ``size`` that a tree of ``since`` did not already have.

    With ``since=0`` this is every tile: full ones plus, per level, the partial
    tile of width ``floor(size / 256**L) mod 256`` when non-zero.
    """
    _check_sizes(size, since)
    level = 0
    while size >> (TILE_HEIGHT * level):
        yield from _resources(size, since, level, False)
        level += 1


def entry_bundles_for_size(size: int, since: int = 0) -> Iterator[TilePath]:
    """Entry bundles of a log of ``size`` that a log of ``since`` did not already have."""
    _check_sizes(size, since)
    return _resources(size, since, 0, True)


def tile_for_node(level: int, index: int, size: int) -> TilePath:
    """The tile, at its published width for ``size``, from which node ``(level, index)`` comes."""
    if level < 0 or index < 0 or not 0 <= size <= MAX_TREE_SIZE:
        raise TreeRangeError(f"bad node ({level}, {index}) or size {size}")
    tile_level, height = divmod(level, TILE_HEIGHT)
    base = TILE_HEIGHT * tile_level
    last = ((index + 1) << height) - 1
    complete = size >> base
    if last >= complete:
        raise TreeRangeError(f"node ({level}, {index}) is not complete in a tree of size {size}")
    n = (index << height) >> TILE_HEIGHT
    if n < complete >> TILE_HEIGHT:
        return TilePath(tile_level, n)
    return TilePath(tile_level, n, complete & (TILE_WIDTH - 1))


def tiles_for_nodes(nodes: Iterable[NodeId], size: int) -> list[TilePath]:
    """The distinct tiles needed to serve ``nodes`` at ``size``, sorted."""
    return sorted({tile_for_node(level, index, size) for level, index in nodes})


def tiles_for_plan(plan: ProofPlan, size: int) -> list[TilePath]:
    """The distinct tiles needed to resolve a proof plan at ``size``, sorted."""
    return tiles_for_nodes((node for group in plan for node in group), size)


def tile_data(tree: MerkleTree, tile: TilePath) -> bytes:
    """Tile contents: the concatenated 32-byte hashes at Merkle level ``8 * L``."""
    if tile.entries:
        raise TileError("entry bundles are built from entries, not tree hashes")
    hashes = tree.level_hashes(TILE_HEIGHT * tile.level, tile.start, tile.start + tile.width)
    return b"".join(hashes)


def perfect_layers(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """RFC 9162 §2.1 the nodes above a power-of-two number of node hashes, one layer a height,
    lowest first, the root alone in the last (a full tile: 255 hashes in 8 layers)."""
    if len(hashes) < 2:
        return []
    if any(len(h) != HASH_SIZE for h in hashes):
        # Hashed as given, pair by pair, as before the batches: a store damaged before migration
        # 0014 still migrates, and the self-check then reports the damage.
        layer = list(hashes)
        layers = []
        while len(layer) > 1:
            layer = [node_hash(a, b) for a, b in zip(layer[0::2], layer[1::2], strict=True)]
            layers.append(layer)
        return layers
    nodes = split_hashes(batch.perfect_layers(b"".join(hashes)))
    layers, start, width = [], 0, len(hashes) // 2
    while width:
        layers.append(nodes[start : start + width])
        start, width = start + width, width // 2
    return layers


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1 MTH of a power-of-two number of node hashes (a full tile: 255 hashes)."""
    return _perfect_root(b"".join(hashes))


def _perfect_root(data: bytes) -> bytes:
    """``perfect_root`` of concatenated hashes."""
    return data if len(data) == HASH_SIZE else batch.perfect_layers(data)[-HASH_SIZE:]


class TileHashReader:
    """Serves complete-subtree hashes of a tree of ``size`` from tile contents.

    ``node`` is a ``NodeHashFn``, so the reader plugs straight into
    ``inclusion_proof``, ``consistency_proof`` and ``subtree_root``. Tiles are
    not trusted: check ``root()`` against a verified checkpoint before relying
    on hashes from tiles fetched elsewhere.
    """

    def __init__(
        self,
        size: int,
        tiles: Mapping[TilePath, bytes] | Iterable[tuple[TilePath, bytes]] = (),
    ) -> None:
        if not 0 <= size <= MAX_TREE_SIZE:
            raise TreeRangeError(f"tree size {size} is outside uint64")
        self._size = size
        self._tiles: dict[tuple[int, int], bytes] = {}
        items = tiles.items() if isinstance(tiles, Mapping) else tiles
        for tile, data in items:
            self.add(tile, data)

    @property
    def size(self) -> int:
        return self._size

    def add(self, tile: TilePath, data: bytes) -> None:
        """Add one tile; a wider tile at the same position replaces a narrower one."""
        if tile.entries:
            raise TileError(f"{tile} is an entry bundle, not a hash tile")
        if len(data) != tile.width * HASH_SIZE:
            raise TileError(f"{tile} must be {tile.width * HASH_SIZE} bytes, got {len(data)}")
        key = (tile.level, tile.index)
        current = self._tiles.get(key)
        if current is None or len(current) < len(data):
            self._tiles[key] = bytes(data)

    def node(self, level: int, index: int) -> bytes:
        tile = tile_for_node(level, index, self._size)
        data = self._tiles.get((tile.level, tile.index))
        height = level % TILE_HEIGHT
        first = (index << height) - tile.start
        end = first + (1 << height)
        if data is None or len(data) < end * HASH_SIZE:
            raise TileError(f"tile {tile} is needed for node ({level}, {index})")
        return _perfect_root(data[first * HASH_SIZE : end * HASH_SIZE])

    def root(self) -> bytes:
        """MTH of the whole tree, computed from the tiles."""
        return EMPTY_ROOT if self._size == 0 else subtree_root(self._size, self.node)

    def tiles_for_root(self) -> list[TilePath]:
        """The tiles ``root()`` reads."""
        return [] if self._size == 0 else tiles_for_nodes(root_plan(self._size), self._size)


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Concatenate entries, each prefixed with its big-endian uint16 length."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise BundleError(f"a bundle holds 1..{TILE_WIDTH} entries, got {len(entries)}")
    try:
        return batch.frame_bundle(entries)
    except ValueError as exc:  # an entry over MAX_ENTRY_SIZE, named by its index
        raise BundleError(str(exc)) from None


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Split a bundle into entries; reject truncation and more than 256 (or ``width``) entries."""
    entries: list[bytes] = []
    pos, end = 0, len(data)
    while pos < end:
        if len(entries) == TILE_WIDTH:
            raise BundleError(f"bundle has more than {TILE_WIDTH} entries")
        if end - pos < _LENGTH.size:
            raise BundleError(f"bundle is truncated inside a length prefix at byte {pos}")
        (length,) = _LENGTH.unpack_from(data, pos)
        pos += _LENGTH.size
        if end - pos < length:
            raise BundleError(f"bundle entry {len(entries)} is truncated")
        entries.append(bytes(data[pos : pos + length]))
        pos += length
    if not entries:
        raise BundleError("bundle is empty")
    if width is not None and len(entries) != width:
        raise BundleError(f"bundle has {len(entries)} entries, expected {width}")
    return entries


def export_resources(
    tree: MerkleTree,
    entries: Sequence[bytes] | None,
    size: int | None = None,
    since: int = 0,
) -> dict[str, bytes]:
    """Every tile (and, given ``entries``, every bundle) new at ``size`` since ``since``.

    Keys are paths relative to the log prefix. ``entries[i]`` must be the entry
    whose leaf hash is ``tree.leaf_hash(i)``; it is not re-hashed here.
    """
    n = tree.size if size is None else size
    if n > tree.size:
        raise TreeRangeError(f"size {n} exceeds the tree size {tree.size}")
    out = {tile.path(): tile_data(tree, tile) for tile in tiles_for_size(n, since)}
    if entries is not None:
        if len(entries) < n:
            raise TreeRangeError(f"{len(entries)} entries given for a tree of size {n}")
        for bundle in entry_bundles_for_size(n, since):
            out[bundle.path()] = encode_entry_bundle(
                entries[bundle.start : bundle.start + bundle.width]
            )
    return out
