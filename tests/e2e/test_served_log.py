"""`healthcode log verify` against a real running server: 0 on an honest log, non-zero after a
stored entry is tampered with."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthcode.tlog import decode_entry_bundle
from tests.served import BIN, served_city


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with served_city(tmp_path / "data", people=150) as city:
        yield f"{city.base}/log/", city.db


def test_log_verify_against_a_running_server(served: tuple[str, Path], tmp_path: Path) -> None:
    url, db = served
    state = tmp_path / "monitor.json"
    honest = subprocess.run(
        [BIN, "log", "verify", url, "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert "verified at size" in honest.stdout
    with sqlite3.connect(db) as conn:  # byte 8 of entry 5, in the demo's first full bundle
        (data,) = conn.execute("SELECT entries FROM log_bundles WHERE idx = 0").fetchone()
        at = sum(2 + len(body) for body in decode_entry_bundle(data)[:5]) + 2 + 8
        flipped = data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]
        conn.execute("UPDATE log_bundles SET entries = ? WHERE idx = 0", (flipped,))
    tampered = subprocess.run(
        [BIN, "log", "verify", url, "--state", str(state), "--full"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tampered.returncode != 0
    assert "entry 5" in tampered.stdout + tampered.stderr
