"""`export_log`: the log as static files, byte for byte what `GET /log/...` serves, written
incrementally, verified by the monitor through a plain static file server, and refused into a
directory that holds another log."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from healthcode.errors import InputRejected
from healthcode.services.log_export import export_log
from healthcode.services.monitor import verify_log
from healthcode.services.monitor_errors import MonitorError
from healthcode.store import log_bundles
from healthcode.tlog import Checkpoint, sign_checkpoint
from healthcode.web.app import create_app
from tests.conftest import make_services
from tests.static_files import static_server
from tests.town import Town


def _files(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def grow(town: Town, size: int) -> int:
    """Write test results until the log has at least ``size`` entries; sign; the new size."""
    person = town.person("alice")
    n = 0
    while True:
        with town.services.db.read() as conn:
            if log_bundles.next_index(conn) >= size:
                break
        town.clock.advance(minutes=1)
        town.test(person, town.clock.now(), "negative" if n % 2 else "positive")
        n += 1
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    return signed.size


def test_export_is_what_the_api_serves_and_verifies_from_a_static_server(
    town: Town, tmp_path: Path
) -> None:
    services = town.services
    out = tmp_path / "export"
    first_size = grow(town, 40)
    report = export_log(services.log, out)
    assert (report.size, report.previous_size, report.checkpoint_written) == (
        first_size,
        None,
        True,
    )
    api = TestClient(create_app(services, run_scheduler=False))
    exported = _files(out)
    assert {"checkpoint", "key", "tile/0/000.p/" + str(first_size)} <= set(exported)
    for path, data in exported.items():
        assert api.get(f"/log/{path}").content == data, path
    assert not [p for p in exported if ".tmp" in p]
    assert (out / "checkpoint").stat().st_mode & 0o444 == 0o444  # for the web server to read

    with static_server(out) as url:
        state = tmp_path / "monitor.json"
        first = verify_log(url, state)  # the key too comes from the directory
        assert (first.size, first.previous_size) == (first_size, None)

        # Nothing new: nothing written, not even the checkpoint.
        again = export_log(services.log, out)
        assert (again.written, again.checkpoint_written, again.previous_size) == (
            0,
            False,
            first_size,
        )

        # Past a tile's width: the full tile and bundle appear; the partial ones stay.
        second_size = grow(town, 300)
        report = export_log(services.log, out)
        assert report.previous_size == first_size and report.written >= 4
        exported = _files(out)
        assert {"tile/0/000", "tile/entries/000", f"tile/0/000.p/{first_size}"} <= set(exported)
        for path, data in exported.items():
            assert api.get(f"/log/{path}").content == data, path
        second = verify_log(url, state)
        assert (second.size, second.previous_size) == (second_size, first_size)

        # A tampered tile in the static copy is caught.
        tile = out / "tile/0/000"
        honest = tile.read_bytes()
        tile.write_bytes(honest[:40] + bytes([honest[40] ^ 1]) + honest[41:])
        with pytest.raises(MonitorError) as caught:
            verify_log(url, state, full=True)
        assert caught.value.code == "monitor.tile_mismatch"
        tile.write_bytes(honest)
        bundle = out / "tile/entries/000"
        data = bundle.read_bytes()
        bundle.write_bytes(data[:40] + bytes([data[40] ^ 1]) + data[41:])
        with pytest.raises(MonitorError) as caught:
            verify_log(url, state, full=True)
        assert caught.value.code == "monitor.entry_mismatch"


def test_export_refuses_a_directory_holding_another_log(
    town: Town,
    tmp_path: Path,
    database,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    grow(town, 5)
    out = tmp_path / "export"
    export_log(town.services.log, out)
    before = _files(out)
    # Another deployment (its own log key) pointed at the same directory. A store that has
    # signed refuses to start without its key files (keys.missing): the other's are this one's
    # but for the log's signing key.
    shutil.copytree(tmp_path / "data" / "keys", tmp_path / "other-data" / "keys")
    (tmp_path / "other-data" / "keys" / "log-signing.ed25519").write_bytes(os.urandom(32))
    other = make_services(database, clock, tmp_path / "other-data")
    with pytest.raises(InputRejected) as caught:
        export_log(other.log, out)
    assert caught.value.code == "log.export_key_mismatch"  # its key does not sign this log
    (out / "checkpoint").write_text("not a checkpoint\n")
    with pytest.raises(InputRejected) as caught:
        export_log(town.services.log, out)
    assert caught.value.code == "log.export_conflict"
    # Signed by this log's key, but a tree this log is not: a fork, not a prefix.
    signer = town.services.sequencer.signer
    forked = Checkpoint(town.services.log.origin, 3, bytes(32))
    (out / "checkpoint").write_text(sign_checkpoint(forked, [signer]))
    with pytest.raises(InputRejected) as caught:
        export_log(town.services.log, out)
    assert caught.value.code == "log.export_conflict"
    assert {p: d for p, d in _files(out).items() if p != "checkpoint"} == {
        p: d for p, d in before.items() if p != "checkpoint"
    }
