"""The monitor catches every way a log can lie: entries, tiles, checkpoints, forks, bad HTTP."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from healthcode.services.monitor import MonitorError, verify_log
from healthcode.tlog import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    decode_entry_bundle,
    encode_entry_bundle,
    leaf_hash,
    sign_checkpoint,
)

from .fake_log import BASE_URL, FakeLog, make_entries, seed


def refused(http: TestClient, state_path: Path, code: str, **kwargs: Any) -> MonitorError:
    before = state_path.read_bytes() if state_path.exists() else None
    with pytest.raises(MonitorError) as caught:
        verify_log(BASE_URL, state_path, client=http, **kwargs)
    assert caught.value.code == code, caught.value
    # A failed run never moves the baseline.
    assert (state_path.read_bytes() if state_path.exists() else None) == before
    return caught.value


def edit_bundle(log: FakeLog, path: str, edit: Callable[[list[bytes]], object]) -> None:
    entries = decode_entry_bundle(log.resources[path])
    edit(entries)
    log.resources[path] = encode_entry_bundle(entries)


def test_one_flipped_byte_in_one_entry(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)

    def flip(entries: list[bytes]) -> None:
        entries[77] = bytes([entries[77][0] ^ 1]) + entries[77][1:]

    edit_bundle(log, "tile/entries/001", flip)
    error = refused(http, state_path, "monitor.entry_mismatch")
    assert "entry 333 (in tile/entries/001)" in error.message
    assert f"holds {leaf_hash(log.entries[333]).hex()} at position 77" in error.message


def test_a_deleted_entry(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)
    edit_bundle(log, "tile/entries/000", lambda entries: entries.pop(5))
    error = refused(http, state_path, "monitor.bundle_invalid")
    assert "tile/entries/000" in error.message and "255 entries, expected 256" in error.message


def test_two_swapped_entries(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)

    def swap(entries: list[bytes]) -> None:
        entries[10], entries[20] = entries[20], entries[10]

    edit_bundle(log, "tile/entries/002.p/88", swap)
    error = refused(http, state_path, "monitor.entry_mismatch")
    assert "entry 522 (in tile/entries/002.p/88)" in error.message


def test_a_changed_hash_in_a_level_0_tile(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)
    tile = bytearray(log.resources["tile/0/001"])
    tile[32 * 9] ^= 0xFF
    log.resources["tile/0/001"] = bytes(tile)
    error = refused(http, state_path, "monitor.tile_mismatch")
    assert "tile/0/001 holds" in error.message and "at position 9" in error.message
    assert leaf_hash(log.entries[256 + 9]).hex() in error.message


def test_a_changed_hash_in_a_level_1_tile(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)
    tile = bytearray(log.resources["tile/1/000.p/2"])
    tile[40] ^= 1
    log.resources["tile/1/000.p/2"] = bytes(tile)
    error = refused(http, state_path, "monitor.tile_mismatch")
    assert "tile/1/000.p/2" in error.message and "at position 1" in error.message


def test_a_tile_of_the_wrong_length(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)
    log.resources["tile/0/000"] += b"\x00"
    error = refused(http, state_path, "monitor.tile_invalid")
    assert "tile/0/000 is 8193 bytes, expected 8192" in error.message


def test_a_changed_checkpoint_root(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)
    other = log.tree.root(599)
    log.checkpoint = sign_checkpoint(Checkpoint(log.origin, 600, other), [log.signer])
    error = refused(http, state_path, "monitor.root_mismatch")
    assert f"but the checkpoint of size 600 has root {other.hex()}" in error.message
    assert log.tree.root().hex() in error.message


def test_a_checkpoint_with_a_bad_signature(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(10)
    body, _, sig_line = log.checkpoint.rpartition("\n\n")
    name, b64 = sig_line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 1
    log.checkpoint = f"{body}\n\n{name} {base64.b64encode(bytes(raw)).decode()}\n"
    refused(http, state_path, "monitor.signature_invalid")


def test_a_checkpoint_signed_by_another_key(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(10)
    stranger = Ed25519Signer(log.origin, seed("stranger"))
    log.checkpoint = sign_checkpoint(Checkpoint(log.origin, 10, log.tree.root()), [stranger])
    refused(http, state_path, "monitor.signature_invalid")


@pytest.mark.parametrize("garbage", ["junk", "junk\n", "\n", "— x\n"])
def test_trailing_garbage_after_the_checkpoint(
    log: FakeLog, http: TestClient, state_path: Path, garbage: str
) -> None:
    log.grow(10)
    log.checkpoint += garbage
    refused(http, state_path, "monitor.checkpoint_invalid")


def test_a_missing_bundle(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(600)
    del log.resources["tile/entries/001"]
    error = refused(http, state_path, "monitor.http")
    assert "tile/entries/001 returned HTTP 404" in error.message


def test_a_missing_checkpoint(log: FakeLog, http: TestClient, state_path: Path) -> None:
    error = refused(http, state_path, "monitor.http")
    assert "log/checkpoint returned HTTP 404" in error.message


def test_an_empty_checkpoint(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(1)
    log.checkpoint = "\n"
    refused(http, state_path, "monitor.checkpoint_invalid")


def test_a_garbled_key(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(3)
    log.key_text = "two words\n"
    refused(http, state_path, "monitor.key_invalid")


def forked(log: FakeLog, entries: list[bytes]) -> None:
    """Make ``log`` serve a different history, consistently signed by the same key."""
    fork = FakeLog(log.origin, log.signer)
    fork.append(entries)
    fork.publish()
    log.resources, log.checkpoint = fork.resources, fork.checkpoint


def test_a_fork_that_rewrites_one_old_entry(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(300)
    verify_log(BASE_URL, state_path, client=http)
    seen = log.checkpoint
    entries = [*log.entries, *make_entries(200, 300)]
    entries[260] = b"rewritten"
    forked(log, entries)
    error = refused(http, state_path, "monitor.inconsistent")
    assert "the checkpoint of size 500 is not consistent with the checkpoint of size 300 " in (
        error.message
    )
    assert "seen before" in error.message
    assert error.evidence == (seen, log.checkpoint)


def test_a_fork_at_the_same_size(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(300)
    verify_log(BASE_URL, state_path, client=http)
    forked(log, make_entries(300, tag="other"))
    error = refused(http, state_path, "monitor.inconsistent")
    assert "checkpoint of size 300 seen before" in error.message


def test_a_log_that_shrinks(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(300)
    verify_log(BASE_URL, state_path, client=http)
    forked(log, log.entries[:200])
    error = refused(http, state_path, "monitor.inconsistent")
    assert "size 200 is not consistent with the checkpoint of size 300" in error.message


def test_a_rewritten_entry_in_a_reread_bundle(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(300)
    verify_log(BASE_URL, state_path, client=http)
    log.grow(300)

    def rewrite(entries: list[bytes]) -> None:
        entries[4] = b"rewritten"

    edit_bundle(log, "tile/entries/001", rewrite)
    error = refused(http, state_path, "monitor.entry_mismatch")
    assert "entry 260 (in tile/entries/001)" in error.message


def test_a_corrupted_state_file(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(300)
    verify_log(BASE_URL, state_path, client=http)
    text = state_path.read_text()
    state_path.write_text(text.replace('"frontier": {\n    "0": "', '"frontier": {\n    "0": "AA'))
    refused(http, state_path, "monitor.state_invalid")
    state_path.write_text("{}")
    refused(http, state_path, "monitor.state_invalid")


def test_required_cosignatures_must_be_present(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(3)
    witness = CosignatureSigner("witness.example/w1", seed("witness")).verifier().to_vkey()
    error = refused(
        http, state_path, "monitor.cosignatures_missing", witness_keys=[witness], min_cosignatures=1
    )
    assert "carries 0 trusted cosignatures (none), 1 required" in error.message
    error = refused(http, state_path, "monitor.key_invalid", witness_keys=[log.vkey])
    assert "witness key" in error.message
