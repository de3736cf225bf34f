"""`healthcode log verify` against a real running server: 0 on an honest log, non-zero after a
stored entry is tampered with."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

BIN = Path(sys.executable).parent / "healthcode"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signed_size(base: str) -> int:
    answer = httpx2.get(f"{base}/log/checkpoint")
    return int(answer.text.split("\n")[1]) if answer.status_code == 200 else -1


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    env = {
        **os.environ,
        "HEALTHCODE_DATA_DIR": str(tmp_path / "data"),
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [BIN, "demo", "--people", "150"], env=env, check=True, capture_output=True, timeout=300
    )
    server = subprocess.Popen(
        [BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        db = tmp_path / "data" / "healthcode.db"
        with sqlite3.connect(db) as conn:
            entries = conn.execute("SELECT count(*) FROM log_entries").fetchone()[0]
        while _signed_size(base) < entries:
            assert time.monotonic() < deadline, "the sequencer did not catch up"
            time.sleep(0.2)
        yield f"{base}/log/", db
    finally:
        server.terminate()
        server.wait(timeout=30)


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
    with sqlite3.connect(db) as conn:
        (body,) = conn.execute("SELECT body FROM log_entries WHERE idx = 5").fetchone()
        flipped = body[:8] + bytes([body[8] ^ 1]) + body[9:]
        conn.execute("UPDATE log_entries SET body = ? WHERE idx = 5", (flipped,))
    tampered = subprocess.run(
        [BIN, "log", "verify", url, "--state", str(state), "--full"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tampered.returncode != 0
    assert "entry 5" in tampered.stdout + tampered.stderr
