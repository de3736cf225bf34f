"""RFC 9162 §2.1.1 leaf and node hashes many at a time, each batch one bytes object of hashes.

A ``hashlib`` call costs about 0.5 µs from Python, several times what OpenSSL takes to hash a
log entry, so hashing one call a hash caps a log near a million entries a second however little
else it does. The C extension ``_sha256batch`` runs the loops in C over OpenSSL's SHA-256
(0.18 µs a 210-byte entry, 0.11 µs a node: docs/transparency-log.md, "Hashing in C"). Where it
is not built (no compiler or no OpenSSL headers at install) the same functions run here in
Python with hashlib: the same bytes, the same errors (types), slower.

Each function returns the hashes concatenated, 32 bytes each, so that no Python object is made
a hash; ``split_hashes`` makes them a list where an API needs one.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain

from healthcode.tlog.tilepath import TILE_WIDTH

__all__ = [
    "PYTHON",
    "C",
    "Implementation",
    "bundle_leaf_hashes",
    "frame_bundle",
    "leaf_hashes",
    "node_layer",
    "perfect_layers",
    "split_hashes",
]

Buffer = bytes | bytearray | memoryview
_HASH = 32
# RFC 9162 §2.1.1, as hashing.LEAF_PREFIX and NODE_PREFIX (which import this module).
_LEAF, _NODE = b"\x00", b"\x01"
_MAX_ENTRY = 0xFFFF  # a bundle entry's 2-byte length
_sha256 = hashlib.sha256


@dataclass(frozen=True)
class Implementation:
    """One implementation of the batch functions (see ``_sha256batch.c`` for each)."""

    name: str
    leaf_hashes: Callable[[Iterable[Buffer]], bytes]
    bundle_leaf_hashes: Callable[[Buffer], bytes]
    node_layer: Callable[[Buffer], bytes]
    perfect_layers: Callable[[Buffer], bytes]
    frame_bundle: Callable[[Iterable[Buffer]], bytes]


def _leaf_hashes(entries: Iterable[Buffer]) -> bytes:
    sha, prefix = _sha256, _LEAF
    # The entries as they were when called, as in C, whatever an entry's __buffer__ does.
    return b"".join([sha(prefix + entry).digest() for entry in tuple(entries)])


def _bundle_leaf_hashes(bundle: Buffer) -> bytes:
    data = memoryview(bundle).cast("B")
    spans: list[tuple[int, int]] = []
    pos, end = 0, len(data)
    while pos < end:  # the framing first, as in C: nothing is hashed from a malformed bundle
        if end - pos < 2:
            raise ValueError(f"bundle is truncated inside a length prefix at byte {pos}")
        length = data[pos] << 8 | data[pos + 1]
        if end - pos - 2 < length:
            raise ValueError(
                f"bundle entry {len(spans)} at byte {pos} is truncated: {length} bytes declared,"
                f" {end - pos - 2} left"
            )
        spans.append((pos + 2, pos + 2 + length))
        pos += 2 + length
    sha, prefix = _sha256, _LEAF
    return b"".join([sha(prefix + data[start:stop]).digest() for start, stop in spans])


def _node_layer(hashes: Buffer) -> bytes:
    data = bytes(hashes)
    if len(data) % _HASH:
        raise ValueError(f"{len(data)} bytes are not a whole number of 32-byte hashes")
    if len(data) % (2 * _HASH):
        raise ValueError(f"an odd number of hashes ({len(data) // _HASH}) has no layer above it")
    sha, prefix = _sha256, _NODE
    return b"".join(
        [sha(prefix + data[i : i + 2 * _HASH]).digest() for i in range(0, len(data), 2 * _HASH)]
    )


def _perfect_layers(hashes: Buffer) -> bytes:
    layer = bytes(hashes)
    count = len(layer) // _HASH
    if len(layer) % _HASH or count == 0 or count & (count - 1):
        raise ValueError(f"{len(layer)} bytes are not a power-of-two number of 32-byte hashes")
    layers = []
    while len(layer) > _HASH:
        layer = _node_layer(layer)
        layers.append(layer)
    return b"".join(layers)


def _frame_bundle(entries: Iterable[Buffer]) -> bytes:
    out = bytearray()
    for i, entry in enumerate(tuple(entries)):
        size = memoryview(entry).nbytes  # TypeError for what is not bytes-like, as in C
        if size > _MAX_ENTRY:
            raise ValueError(f"entry {i} is {size} bytes, over {_MAX_ENTRY}")
        out += size.to_bytes(2, "big")
        out += entry
    return bytes(out)


PYTHON = Implementation(
    "python", _leaf_hashes, _bundle_leaf_hashes, _node_layer, _perfect_layers, _frame_bundle
)

C: Implementation | None
try:
    from healthcode.tlog import _sha256batch
except ImportError:  # not built: see setup.py
    C = None
else:
    C = Implementation(
        "c",
        _sha256batch.leaf_hashes,
        _sha256batch.bundle_leaf_hashes,
        _sha256batch.node_layer,
        _sha256batch.perfect_layers,
        _sha256batch.frame_bundle,
    )

# The module's functions, looked up when called (``batch.leaf_hashes(...)``), so that a test can
# swap in either implementation.
_chosen = C or PYTHON
leaf_hashes = _chosen.leaf_hashes
bundle_leaf_hashes = _chosen.bundle_leaf_hashes
node_layer = _chosen.node_layer
perfect_layers = _chosen.perfect_layers
frame_bundle = _chosen.frame_bundle

# struct splits a tile's worth of hashes in one call, four times as fast as slicing in a loop.
_TILE_OF_HASHES = struct.Struct(f"{_HASH}s" * TILE_WIDTH)


def split_hashes(data: Buffer) -> list[bytes]:
    """Concatenated hashes as a list of 32-byte ``bytes`` (a short last piece, if any, kept)."""
    count = len(data) // _HASH
    whole = count - count % TILE_WIDTH
    out = list(chain.from_iterable(_TILE_OF_HASHES.iter_unpack(memoryview(data)[: whole * _HASH])))
    if count > whole:
        out += struct.unpack_from(f"{_HASH}s" * (count - whole), data, whole * _HASH)
    if len(data) % _HASH:
        out.append(bytes(data[count * _HASH :]))
    return out
