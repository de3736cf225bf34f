"""tlog/batch.py: the C extension and the Python fallback give the same bytes as hashlib written
out here, and refuse the same inputs with the same errors."""

from __future__ import annotations

import hashlib
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.batch_hashing import implementation

from healthcode.tlog import BundleError, batch, encode_entry_bundle
from healthcode.tlog.batch import Implementation, split_hashes

BOTH = ["c", "python"]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaves_reference(entries: list[bytes]) -> bytes:
    return b"".join(sha(b"\x00" + bytes(entry)) for entry in entries)


def layer_reference(hashes: bytes) -> bytes:
    return b"".join(sha(b"\x01" + hashes[i : i + 64]) for i in range(0, len(hashes), 64))


def frame_reference(entries: list[bytes]) -> bytes:
    return b"".join(len(entry).to_bytes(2, "big") + bytes(entry) for entry in entries)


def both() -> tuple[Implementation, Implementation]:
    return implementation("c"), implementation("python")


# Entries of any length up to the bundle limit, built from a short pattern so that long ones
# are cheap to draw; most short, as log entries are.
entry = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.integers(0, 0xFFFF), st.binary(min_size=1, max_size=40)).map(
        lambda drawn: (drawn[1] * (drawn[0] // len(drawn[1]) + 1))[: drawn[0]]
    ),
)
entries = st.lists(entry, max_size=40)
hashes = st.integers(0, 300).flatmap(lambda n: st.binary(min_size=32 * n, max_size=32 * n))


@settings(max_examples=60)
@given(entries)
def test_leaf_hashes(drawn: list[bytes]) -> None:
    c, python = both()
    want = leaves_reference(drawn)
    assert c.leaf_hashes(drawn) == python.leaf_hashes(drawn) == want
    # Any bytes-like entry, and any iterable of them.
    mixed = [
        bytearray(e) if i % 3 == 1 else memoryview(e) if i % 3 else e for i, e in enumerate(drawn)
    ]
    assert c.leaf_hashes(mixed) == python.leaf_hashes(iter(mixed)) == want
    assert c.leaf_hashes(iter(drawn)) == want


@settings(max_examples=60)
@given(entries)
def test_frame_bundle_and_bundle_leaf_hashes(drawn: list[bytes]) -> None:
    c, python = both()
    bundle = c.frame_bundle(drawn)
    assert bundle == python.frame_bundle(drawn) == frame_reference(drawn)
    if 1 <= len(drawn) <= 256:
        assert bundle == encode_entry_bundle(drawn)
    hashed = c.bundle_leaf_hashes(bundle)
    assert hashed == python.bundle_leaf_hashes(bundle) == leaves_reference(drawn)
    assert len(hashed) // 32 == len(drawn)
    assert c.bundle_leaf_hashes(bytearray(bundle)) == hashed
    assert c.bundle_leaf_hashes(memoryview(b"xx" + bundle)[2:]) == hashed


def where_truncated(bundle: bytes) -> str:
    """The error for a truncated bundle, found by walking its framing here."""
    pos = index = 0
    while pos < len(bundle):
        if len(bundle) - pos < 2:
            return f"bundle is truncated inside a length prefix at byte {pos}"
        length = int.from_bytes(bundle[pos : pos + 2], "big")
        if len(bundle) - pos - 2 < length:
            return (
                f"bundle entry {index} at byte {pos} is truncated: {length} bytes declared,"
                f" {len(bundle) - pos - 2} left"
            )
        pos, index = pos + 2 + length, index + 1
    raise AssertionError("the bundle is whole")


@settings(max_examples=100)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=10), st.data())
def test_a_truncated_bundle_is_refused_naming_the_byte(
    drawn: list[bytes], data: st.DataObject
) -> None:
    whole = frame_reference(drawn)
    cut = data.draw(st.integers(0, len(whole) - 1), label="cut")
    short = whole[:cut]
    if cut in {sum(2 + len(e) for e in drawn[:i]) for i in range(len(drawn))}:
        # Cut between entries: the bundle is whole, of fewer entries.
        for implementation_ in both():
            assert implementation_.bundle_leaf_hashes(short) == leaves_reference(
                split_bundle(short)
            )
        return
    message = where_truncated(short)
    for implementation_ in both():
        with pytest.raises(ValueError) as raised:
            implementation_.bundle_leaf_hashes(short)
        assert str(raised.value) == message


def split_bundle(bundle: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(bundle):
        length = int.from_bytes(bundle[pos : pos + 2], "big")
        out.append(bundle[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return out


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        (b"\x00", "bundle is truncated inside a length prefix at byte 0"),
        (b"\x00\x01a\x00", "bundle is truncated inside a length prefix at byte 3"),
        (b"\x00\x05abc", "bundle entry 0 at byte 0 is truncated: 5 bytes declared, 3 left"),
        (b"\x00\x04abc", "bundle entry 0 at byte 0 is truncated: 4 bytes declared, 3 left"),
        (
            b"\x00\x00\xff\xff",
            "bundle entry 1 at byte 2 is truncated: 65535 bytes declared, 0 left",
        ),
    ],
)
@pytest.mark.parametrize("name", BOTH)
def test_malformed_bundles(name: str, bundle: bytes, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        implementation(name).bundle_leaf_hashes(bundle)
    assert str(raised.value) == message


@pytest.mark.parametrize("name", BOTH)
def test_empty_inputs(name: str) -> None:
    chosen = implementation(name)
    assert chosen.leaf_hashes([]) == b""
    assert chosen.bundle_leaf_hashes(b"") == b""
    assert chosen.node_layer(b"") == b""
    assert chosen.frame_bundle([]) == b""
    assert chosen.perfect_layers(b"h" * 32) == b""


@settings(max_examples=60)
@given(hashes)
def test_node_layer(drawn: bytes) -> None:
    c, python = both()
    even = drawn[: len(drawn) // 64 * 64]
    assert c.node_layer(even) == python.node_layer(even) == layer_reference(even)
    assert c.node_layer(memoryview(drawn)[: len(even)]) == layer_reference(even)
    assert c.node_layer(bytearray(even)) == layer_reference(even)


@given(st.integers(0, 10), st.binary(min_size=32, max_size=32))
def test_perfect_layers(height: int, seed: bytes) -> None:
    c, python = both()
    given_hashes = b"".join(sha(seed + i.to_bytes(4, "big")) for i in range(1 << height))
    want, layer = [], given_hashes
    while len(layer) > 32:
        layer = layer_reference(layer)
        want.append(layer)
    assert c.perfect_layers(given_hashes) == python.perfect_layers(given_hashes) == b"".join(want)


@pytest.mark.parametrize("name", BOTH)
def test_large_batches_hashed_without_the_gil_are_the_same(name: str) -> None:
    # Above 4,096 node hashes the C code releases the GIL: the same bytes there too.
    chosen = implementation(name)
    data = os.urandom(32 * 16384)
    assert chosen.node_layer(data) == layer_reference(data)
    layers, layer = [], data
    while len(layer) > 32:
        layer = layer_reference(layer)
        layers.append(layer)
    assert chosen.perfect_layers(data) == b"".join(layers)
    many = [data[i : i + 37] for i in range(0, 37 * 5000, 37)]
    assert chosen.bundle_leaf_hashes(frame_reference(many)) == leaves_reference(many)


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("count", [1, 3, 5, 255, 257])
def test_odd_node_counts_are_refused(name: str, count: int) -> None:
    with pytest.raises(ValueError, match=f"odd number of hashes \\({count}\\)"):
        implementation(name).node_layer(b"h" * 32 * count)


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("size", [1, 31, 33, 63, 65, 95])
def test_lengths_not_of_whole_hashes_are_refused(name: str, size: int) -> None:
    chosen = implementation(name)
    with pytest.raises(ValueError, match=f"^{size} bytes are not a whole number"):
        chosen.node_layer(b"h" * size)
    with pytest.raises(ValueError, match=f"^{size} bytes are not a power-of-two"):
        chosen.perfect_layers(b"h" * size)


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("count", [0, 3, 6, 255, 257])
def test_perfect_layers_needs_a_power_of_two(name: str, count: int) -> None:
    with pytest.raises(ValueError, match="not a power-of-two number"):
        implementation(name).perfect_layers(b"h" * 32 * count)


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("bad", [[1], ["text"], [b"ok", None], 5, None])
def test_entries_that_are_not_bytes_are_refused(name: str, bad: object) -> None:
    chosen = implementation(name)
    with pytest.raises(TypeError):
        chosen.leaf_hashes(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        chosen.frame_bundle(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", BOTH)
@pytest.mark.parametrize("function", ["bundle_leaf_hashes", "node_layer", "perfect_layers"])
def test_buffers_that_are_not_bytes_are_refused(name: str, function: str) -> None:
    with pytest.raises(TypeError):
        getattr(implementation(name), function)("not bytes")


@pytest.mark.parametrize("name", BOTH)
def test_an_entry_too_long_for_a_bundle_is_named(name: str) -> None:
    chosen = implementation(name)
    fine = [b"a", b"b" * 0xFFFF]
    assert chosen.frame_bundle(fine) == frame_reference(fine)
    with pytest.raises(ValueError, match=r"^entry 2 is 65536 bytes, over 65535$"):
        chosen.frame_bundle([*fine, b"c" * 0x10000])


def test_encode_entry_bundle_keeps_its_errors() -> None:
    with pytest.raises(BundleError, match="entry 1 is 65536 bytes"):
        encode_entry_bundle([b"", b"x" * 0x10000])
    with pytest.raises(BundleError, match=r"1\.\.256 entries"):
        encode_entry_bundle([b""] * 257)


@given(st.binary(max_size=32 * 600))
def test_split_hashes(data: bytes) -> None:
    assert split_hashes(data) == [data[i : i + 32] for i in range(0, len(data), 32)]
    assert all(type(piece) is bytes for piece in split_hashes(bytearray(data)))


def test_the_module_functions_are_the_c_ones_where_built() -> None:
    chosen = batch.C or batch.PYTHON
    assert batch.leaf_hashes is chosen.leaf_hashes
    assert batch.node_layer is chosen.node_layer


@pytest.mark.skipif(sys.version_info < (3, 12), reason="a Python __buffer__ needs Python 3.12")
@pytest.mark.parametrize("name", BOTH)
def test_entries_changed_by_a_buffer_request_are_read_safely(name: str) -> None:
    # Code run by an entry's buffer request (a Python __buffer__) changes the list and another
    # entry under the C loops: they read the entries as given, and never past the result.
    chosen = implementation(name)
    entries: list[object] = []
    resized = bytearray(b"x" * 1000)

    class Clears:
        def __buffer__(self, flags: int) -> memoryview:
            entries.clear()
            del resized[10:]
            return memoryview(b"cleared")

    entries[:] = [b"a" * 100, Clears(), bytes(range(200))]
    want = leaves_reference([b"a" * 100, b"cleared", bytes(range(200))])
    assert chosen.leaf_hashes(entries) == want  # type: ignore[arg-type]
    entries[:], resized[:] = [resized, Clears()], b"x" * 1000
    if name == "c":  # framed in two passes: the length it took first no longer holds
        with pytest.raises(RuntimeError, match="changed length"):
            chosen.frame_bundle(entries)  # type: ignore[arg-type]
