"""C2SP tlog-tiles: path syntax, tiles of a size, tile contents, nodes from tiles, bundles."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode.tlog import (
    BundleError,
    MerkleTree,
    TileError,
    TileHashReader,
    TilePath,
    TilePathError,
    TreeRangeError,
    consistency_proof,
    consistency_proof_plan,
    decode_entry_bundle,
    encode_entry_bundle,
    entry_bundles_for_size,
    export_resources,
    inclusion_proof,
    inclusion_proof_plan,
    parse_tile_path,
    tile_data,
    tile_for_node,
    tiles_for_plan,
    tiles_for_size,
)
from healthcode.tlog.tilepath import encode_tile_index
from healthcode.tlog.tiles import perfect_layers, perfect_root

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")


@cache
def big_tree() -> MerkleTree:
    tree = MerkleTree()
    tree.append(i.to_bytes(4, "big") for i in range(70_000))
    return tree


def test_index_encoding_examples() -> None:
    assert encode_tile_index(1234067) == "x001/x234/067"
    assert encode_tile_index(0) == "000"
    assert encode_tile_index(999) == "999"
    assert encode_tile_index(1000) == "x001/000"
    assert TilePath(0, 1234067).path() == "tile/0/x001/x234/067"
    assert TilePath(2, 5, 17).path() == "tile/2/005.p/17"
    assert TilePath(0, 3, 255, entries=True).path() == "tile/entries/003.p/255"
    assert str(TilePath(63, 0)) == "tile/63/000"


@pytest.mark.parametrize(
    ("path", "tile"),
    [
        ("tile/0/000", TilePath(0, 0)),
        ("tile/0/x001/x234/067", TilePath(0, 1234067)),
        ("tile/1/000.p/17", TilePath(1, 0, 17)),
        ("tile/63/999", TilePath(63, 999)),
        ("tile/entries/000.p/15", TilePath(0, 0, 15, entries=True)),
        ("tile/entries/x001/000", TilePath(0, 1000, entries=True)),
        ("tile/0/x018/x446/x744/x073/x709/x551/615", TilePath(0, (1 << 64) - 1)),
    ],
)
def test_parse_valid_paths(path: str, tile: TilePath) -> None:
    assert parse_tile_path(path) == tile
    assert tile.path() == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile",
        "tile/0",
        "tile/0/",
        "/tile/0/000",
        "tile/0/000/",
        "tiles/0/000",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/a/000",
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/x000",
        "tile/0/x001",
        "tile/0/001/002",
        "tile/0/x000/001",
        "tile/0/X001/000",
        "tile/0/x01/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/05",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/1/2",
        "tile/0/000.q/1",
        "tile/0/x001.p/5/000",
        "tile/entries/000.p/256",
        "tile/entry/000",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/+12",
        "tile/0/１２３",
        "tile/0/000\n",
    ],
)
def test_parse_rejects_malformed_paths(path: str) -> None:
    with pytest.raises(TilePathError) as info:
        parse_tile_path(path)
    assert info.value.code == "tlog.tile_path_invalid"


@given(
    st.integers(min_value=0, max_value=63),
    st.integers(min_value=0, max_value=(1 << 64) - 1),
    st.integers(min_value=1, max_value=256),
    st.booleans(),
)
def test_path_roundtrip(level: int, index: int, width: int, entries: bool) -> None:
    tile = TilePath(0 if entries else level, index, width, entries)
    assert parse_tile_path(tile.path()) == tile


def test_bad_tile_fields() -> None:
    for level, index, width in [(64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)]:
        with pytest.raises(TilePathError):
            TilePath(level, index, width)
    with pytest.raises(TilePathError):
        TilePath(1, 0, entries=True)


def test_spec_example_sizes() -> None:
    tiles = list(tiles_for_size(70_000))
    full = Counter(t.level for t in tiles if not t.is_partial)
    partial = {t.level: t.width for t in tiles if t.is_partial}
    assert full == {0: 273, 1: 1}
    assert partial == {0: 112, 1: 17, 2: 1}
    assert list(tiles_for_size(256)) == [TilePath(0, 0), TilePath(1, 0, 1)]
    assert list(tiles_for_size(0)) == []
    assert list(entry_bundles_for_size(257)) == [
        TilePath(0, 0, entries=True),
        TilePath(0, 1, 1, entries=True),
    ]


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=0, max_value=300_000), min_size=1, max_size=6))
def test_incremental_tiles_cover_the_full_set(steps: list[int]) -> None:
    sizes = sorted(set(steps))
    seen: set[TilePath] = set()
    previous = 0
    for size in sizes:
        new = set(tiles_for_size(size, previous))
        assert not new & seen
        seen |= new
        previous = size
    final = set(tiles_for_size(sizes[-1]))
    assert final <= seen
    # Anything seen but not final is a superseded partial tile.
    assert all(t.is_partial for t in seen - final)


def test_tile_contents_and_reader_match_tree() -> None:
    tree = big_tree()
    for tile in tiles_for_size(tree.size):
        data = tile_data(tree, tile)
        assert len(data) == 32 * tile.width
        base = tile.level * 8
        assert data[:32] == tree.node(base, tile.start)
    reader = TileHashReader(tree.size, {t: tile_data(tree, t) for t in tiles_for_size(tree.size)})
    assert reader.root() == tree.root()
    for level in range(0, 17):
        count = tree.size >> level
        for index in {0, count // 2, count - 1}:
            assert reader.node(level, index) == tree.node(level, index)


def test_proofs_from_tiles_match_tree() -> None:
    tree = big_tree()
    size = 69_999
    plan = inclusion_proof_plan(12_345, size)
    needed = tiles_for_plan(plan, size)
    # Only the tiles the plan names are handed over: the reader must not need more.
    reader = TileHashReader(size, {t: tile_data(tree, t) for t in needed})
    assert inclusion_proof(12_345, size, reader.node) == tree.inclusion_proof(12_345, size)
    cplan = consistency_proof_plan(300, size)
    reader2 = TileHashReader(size, {t: tile_data(tree, t) for t in tiles_for_plan(cplan, size)})
    assert consistency_proof(300, size, reader2.node) == tree.consistency_proof(300, size)
    small = TileHashReader(size, {t: tile_data(tree, t) for t in reader.tiles_for_root()})
    assert small.root() == tree.root(size)


def test_reader_errors() -> None:
    tree = big_tree()
    reader = TileHashReader(1000)
    with pytest.raises(TileError, match=r"tile tile/0/001 is needed"):
        reader.node(0, 300)
    with pytest.raises(TreeRangeError):
        reader.node(0, 1000)
    with pytest.raises(TileError, match="must be 8192 bytes"):
        reader.add(TilePath(0, 0), b"\x00" * 32)
    with pytest.raises(TileError, match="entry bundle"):
        reader.add(TilePath(0, 0, entries=True), b"")
    # A narrower tile never replaces a wider one at the same position.
    reader.add(TilePath(0, 3, 232), tile_data(tree, TilePath(0, 3, 232)))
    reader.add(TilePath(0, 3, 5), tile_data(tree, TilePath(0, 3, 5)))
    assert reader.node(0, 999) == tree.node(0, 999)
    with pytest.raises(TileError):
        tile_data(tree, TilePath(0, 0, entries=True))


def test_tile_for_node() -> None:
    assert tile_for_node(0, 5, 1000) == TilePath(0, 0)
    assert tile_for_node(3, 124, 1000) == TilePath(0, 3, 232)
    assert tile_for_node(8, 2, 1000) == TilePath(1, 0, 3)
    assert tile_for_node(9, 0, 1024) == TilePath(1, 0, 4)
    with pytest.raises(TreeRangeError):
        tile_for_node(3, 125, 1000)


def test_bundles_roundtrip_and_strictness() -> None:
    entries = [b"", b"a", b"\x00" * 65535]
    data = encode_entry_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a"
    assert decode_entry_bundle(data, 3) == entries
    for bad, message in [
        (data[:-1], "truncated"),
        (data + b"\x00", "length prefix"),
        (b"", "empty"),
        (b"\x00\x05abc", "truncated"),
    ]:
        with pytest.raises(BundleError, match=message) as info:
            decode_entry_bundle(bad)
        assert info.value.code == "tlog.bundle_invalid"
    with pytest.raises(BundleError, match="expected 2"):
        decode_entry_bundle(data, 2)
    with pytest.raises(BundleError, match="more than 256"):
        decode_entry_bundle(b"\x00\x00" * 257)
    assert len(decode_entry_bundle(b"\x00\x00" * 256)) == 256
    with pytest.raises(BundleError, match="over 65535"):
        encode_entry_bundle([b"\x00" * 65536])
    with pytest.raises(BundleError):
        encode_entry_bundle([])
    with pytest.raises(BundleError):
        encode_entry_bundle([b""] * 257)


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=256))
def test_bundle_property(entries: list[bytes]) -> None:
    assert decode_entry_bundle(encode_entry_bundle(entries), len(entries)) == entries


def test_export_resources() -> None:
    entries = [b"e%d" % i for i in range(600)]
    tree = MerkleTree()
    tree.append(entries)
    res = export_resources(tree, entries, 520)
    assert sorted(res) == [
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/8",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/8",
    ]
    assert decode_entry_bundle(res["tile/entries/002.p/8"], 8) == entries[512:520]
    # Level 1 still has 2 complete nodes at both sizes, so its partial tile is unchanged.
    assert sorted(export_resources(tree, None, 600, since=520)) == ["tile/0/002.p/88"]
    with pytest.raises(TreeRangeError):
        export_resources(tree, entries, 601)
    with pytest.raises(TreeRangeError):
        export_resources(tree, entries[:10], 20)


@pytest.mark.parametrize("count", [1, 2, 4, 256, 1024])
def test_perfect_layers_are_the_tree_above(count: int) -> None:
    tree = MerkleTree()
    tree.append(i.to_bytes(4, "big") for i in range(count))
    hashes = list(tree.level_hashes(0, 0, count))
    layers = perfect_layers(hashes)
    assert layers == [
        list(tree.level_hashes(h, 0, count >> h)) for h in range(1, count.bit_length())
    ]
    assert perfect_root(hashes) == tree.root()
    with pytest.raises(ValueError):  # not a power of two
        perfect_layers(hashes * 3)


def test_perfect_layers_hash_damaged_hashes_as_given() -> None:
    # A hash of another length (a store damaged before migration 0014) is hashed as it is.
    hashes = [bytes([i]) * 32 for i in range(4)]
    hashes[1] = b"short"

    def node(a: bytes, b: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + a + b).digest()

    low = [node(hashes[0], hashes[1]), node(hashes[2], hashes[3])]
    assert perfect_layers(hashes) == [low, [node(*low)]]
