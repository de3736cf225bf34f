"""The shared 15-entry tessera log: verify it, then reproduce every file in it byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthcode.tlog import (
    Checkpoint,
    Ed25519Signer,
    Ed25519Verifier,
    MerkleTree,
    NoteError,
    NoteSignatureError,
    TileHashReader,
    decode_entry_bundle,
    export_resources,
    inclusion_proof,
    leaf_hash,
    make_tlog_proof,
    merkle_root,
    open_checkpoint,
    parse_tile_path,
    sign_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_tlog_proof,
)

# Every test here runs with the C batch hashing and with the Python fallback (conftest.py).
pytestmark = pytest.mark.usefixtures("hash_implementation")

REPO_ROOT = Path(__file__).resolve().parents[3]
LOG_DIR = REPO_ROOT.parent / "shared" / "testdata" / "tlog" / "tessera-log"
ORIGIN = "example.com/log/testdata"
VKEY = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
SKEY = "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg"
SIZES = range(16)


def _checkpoint_bytes(size: int) -> bytes:
    return (LOG_DIR / f"checkpoint.{size}").read_bytes()


def _resource_files() -> dict[str, bytes]:
    files = {
        p.relative_to(LOG_DIR).as_posix(): p.read_bytes()
        for p in (LOG_DIR / "tile").rglob("*")
        if p.is_file()
    }
    assert files, f"no tiles under {LOG_DIR}"
    return files


def _entries() -> list[bytes]:
    return decode_entry_bundle((LOG_DIR / "tile/entries/000.p/15").read_bytes(), 15)


def test_log_folder_is_present() -> None:
    assert LOG_DIR.is_dir(), f"tessera test log missing at {LOG_DIR}"
    assert (LOG_DIR / "checkpoint").read_bytes() == _checkpoint_bytes(15)


@pytest.mark.parametrize("size", SIZES)
def test_checkpoint_verifies_and_matches_bundles(size: int) -> None:
    verifier = Ed25519Verifier.from_vkey(VKEY)
    signed = open_checkpoint(_checkpoint_bytes(size), [verifier], origin=ORIGIN)
    assert signed.checkpoint.size == size
    bundle = f"tile/entries/000.p/{size}"
    entries = decode_entry_bundle((LOG_DIR / bundle).read_bytes(), size) if size else []
    assert merkle_root([leaf_hash(e) for e in entries]) == signed.checkpoint.root_hash
    if size:
        tile = parse_tile_path(f"tile/0/000.p/{size}")
        reader = TileHashReader(size, {tile: (LOG_DIR / tile.path()).read_bytes()})
        assert reader.root() == signed.checkpoint.root_hash


def test_every_resource_path_parses_canonically() -> None:
    for path in _resource_files():
        assert parse_tile_path(path).path() == path


def test_reproduce_log_byte_for_byte() -> None:
    signer = Ed25519Signer.from_skey(SKEY)
    assert signer.verifier().to_vkey() == VKEY
    entries = _entries()
    tree = MerkleTree()
    produced: dict[str, bytes] = {}
    for size in SIZES:
        if size:
            tree.append([entries[size - 1]])
        note = sign_checkpoint(Checkpoint(ORIGIN, size, tree.root()), [signer])
        assert note.encode() == _checkpoint_bytes(size), f"checkpoint.{size} differs"
        produced.update(export_resources(tree, entries, size, since=max(size - 1, 0)))
    assert produced == _resource_files()


def test_proofs_between_published_checkpoints() -> None:
    verifier = Ed25519Verifier.from_vkey(VKEY)
    heads = {n: open_checkpoint(_checkpoint_bytes(n), [verifier]).checkpoint for n in SIZES}
    tree = MerkleTree()
    tree.append(_entries())
    # Serve proofs from the published tiles only, as a store-backed log would.
    reader = TileHashReader(
        15, {parse_tile_path("tile/0/000.p/15"): (LOG_DIR / "tile/0/000.p/15").read_bytes()}
    )
    for n in range(1, 16):
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            verify_consistency(m, n, proof, heads[m].root_hash, heads[n].root_hash)
        for i in range(n):
            proof = inclusion_proof(i, n, reader.node)
            verify_inclusion(tree.leaf_hash(i), i, n, proof, heads[n].root_hash)


def test_tlog_proof_for_a_real_entry() -> None:
    verifier = Ed25519Verifier.from_vkey(VKEY)
    tree = MerkleTree()
    entries = _entries()
    tree.append(entries)
    note = _checkpoint_bytes(15).decode()
    text = make_tlog_proof(6, note, tree.node)
    result = verify_tlog_proof(text, b"seven", [verifier], origin=ORIGIN)
    assert result.index == 6 and result.checkpoint.size == 15
    with pytest.raises(NoteSignatureError):
        verify_tlog_proof(text.replace("\n15\n", "\n16\n"), b"seven", [verifier])
    with pytest.raises(NoteError):
        verify_tlog_proof(text + "garbage", b"seven", [verifier])
