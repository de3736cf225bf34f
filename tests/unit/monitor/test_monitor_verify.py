"""The monitor accepts an honest log: first runs, incremental runs, full re-runs, key pinning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from healthcode.services.monitor import MonitorError, verify_log
from healthcode.tlog import Ed25519Signer

from .fake_log import BASE_URL, FakeLog, seed


@pytest.mark.parametrize(
    "size", [0, 1, 255, 256, 257, 600, pytest.param(65793, marks=pytest.mark.slow)]
)
def test_a_first_run_verifies_every_entry(
    log: FakeLog, http: TestClient, state_path: Path, size: int
) -> None:
    log.grow(size)
    report = verify_log(BASE_URL, state_path, client=http)
    assert (report.size, report.root_hash) == (size, log.tree.root())
    assert report.previous_size is None and report.full
    assert report.entries_verified == size
    assert report.bundles_fetched == -(-size // 256)
    assert report.checkpoint == log.checkpoint
    state = json.loads(state_path.read_text())
    assert state["checkpoint"] == log.checkpoint and state["vkey"] == log.vkey


@pytest.mark.slow
def test_incremental_runs_follow_the_log_across_tile_boundaries(
    log: FakeLog, http: TestClient, state_path: Path, tmp_path: Path
) -> None:
    previous = None
    for size in [1, 255, 256, 300, 300, 65535, 65536, 65537, 70000]:
        log.grow(size - len(log.entries))
        report = verify_log(BASE_URL, state_path, client=http)
        assert (report.size, report.previous_size) == (size, previous)
        assert report.root_hash == log.tree.root()
        previous = size
    # Resuming from the frontier ends in exactly the state a fresh full check reaches.
    fresh = tmp_path / "fresh.json"
    verify_log(BASE_URL, fresh, client=http)
    assert json.loads(fresh.read_text()) == json.loads(state_path.read_text())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (0, 5),
        (1, 2),
        (255, 256),
        (256, 257),
        (257, 511),
        (511, 513),
        pytest.param(300, 65836, marks=pytest.mark.slow),
    ],
)
def test_resuming_at_any_size_matches_a_fresh_check(
    log: FakeLog, http: TestClient, state_path: Path, tmp_path: Path, old: int, new: int
) -> None:
    log.grow(old)
    verify_log(BASE_URL, state_path, client=http)
    log.grow(new - old)
    report = verify_log(BASE_URL, state_path, client=http)
    assert report.entries_verified == new - old // 256 * 256
    fresh = tmp_path / "fresh.json"
    verify_log(BASE_URL, fresh, client=http)
    assert json.loads(fresh.read_text()) == json.loads(state_path.read_text())


def test_gzipped_bundles_are_read(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.gzip_bundles = True
    log.grow(600)
    assert verify_log(BASE_URL, state_path, client=http).entries_verified == 600


def test_an_incremental_run_reads_only_bundles_new_since_the_last_run(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(300)
    verify_log(BASE_URL, state_path, client=http)
    log.grow(300)
    report = verify_log(BASE_URL, state_path, client=http)
    # Bundle 1 held 44 entries at size 300 and is read again whole, then bundle 2.
    assert (report.bundles_fetched, report.entries_verified) == (2, 600 - 256)
    assert not report.full
    again = verify_log(BASE_URL, state_path, client=http)
    assert (again.bundles_fetched, again.tiles_fetched, again.entries_verified) == (0, 0, 0)


def test_a_full_run_rereads_every_bundle_and_still_checks_consistency(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(700)
    verify_log(BASE_URL, state_path, client=http)
    log.grow(100)
    report = verify_log(BASE_URL, state_path, client=http, full=True)
    assert report.full and report.entries_verified == 800 and report.previous_size == 700


def test_a_sequential_run_gives_the_same_result(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(1000)
    report = verify_log(BASE_URL, state_path, client=http, workers=1)
    assert report.root_hash == log.tree.root()


def test_a_given_key_is_used_instead_of_the_served_one(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(10)
    log.key_text = "not a key at all\n"
    report = verify_log(BASE_URL, state_path, client=http, verifier_key=log.vkey)
    assert report.size == 10


def test_the_served_key_is_pinned_on_first_use(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(10)
    verify_log(BASE_URL, state_path, client=http)
    log.signer = Ed25519Signer(log.origin, seed("another log key"))
    log.key_text = log.vkey + "\n"
    log.grow(5)
    with pytest.raises(MonitorError) as caught:
        verify_log(BASE_URL, state_path, client=http)
    assert caught.value.code == "monitor.key_changed"
    # Accepting a rotated key is an explicit decision; consistency is still checked.
    report = verify_log(BASE_URL, state_path, client=http, verifier_key=log.vkey)
    assert (report.previous_size, report.size) == (10, 15)


def test_a_deleted_partial_tile_is_read_from_the_full_tile(
    log: FakeLog, http: TestClient, state_path: Path
) -> None:
    log.grow(300)
    old_checkpoint = log.checkpoint
    log.grow(300)
    # The log still serves the size-300 checkpoint but has pruned its partial resources.
    for path in ["tile/0/001.p/44", "tile/entries/001.p/44"]:
        del log.resources[path]
    log.checkpoint = old_checkpoint
    report = verify_log(BASE_URL, state_path, client=http)
    assert report.size == 300
    assert "tile/0/001" in log.requests and "tile/entries/001" in log.requests


def test_the_expected_origin_is_enforced(log: FakeLog, http: TestClient, state_path: Path) -> None:
    log.grow(3)
    with pytest.raises(MonitorError) as caught:
        verify_log(BASE_URL, state_path, client=http, origin="other.example/log")
    assert caught.value.code == "monitor.origin_mismatch"
    assert not state_path.exists()
