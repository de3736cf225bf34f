"""A real server on 127.0.0.1 over a demo city built by `healthcode demo`, for end-to-end tests
that talk HTTP to it (the monitor, the browser)."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

BIN = Path(sys.executable).parent / "healthcode"
_LINK = re.compile(r"^\s+(?P<who>[^:]+): (?P<url>http://\S+)$", re.MULTILINE)

# How many entries the log has stored: 256 a full bundle's row, and a row each of the rest.
STORED_ENTRIES = (
    "SELECT (SELECT count(*) FROM log_entries) + 256 * (SELECT count(*) FROM log_bundles)"
)


@dataclass(frozen=True)
class ServedCity:
    base: str  # http://127.0.0.1:port
    db: Path  # the SQLite file
    links: dict[str, str]  # who -> sign-in link, as `healthcode demo` printed them
    env: dict[str, str]  # the environment the server runs with (for more CLI calls)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_size(base: str) -> int:
    answer = httpx2.get(f"{base}/log/checkpoint")
    return int(answer.text.split("\n")[1]) if answer.status_code == 200 else -1


@contextmanager
def served_city(data_dir: Path, *, people: int) -> Iterator[ServedCity]:
    """Build the demo city into `data_dir` and serve it until the block ends; returns once
    every entry the build wrote is in a signed checkpoint."""
    port = free_port()
    env = {**os.environ, "HEALTHCODE_DATA_DIR": str(data_dir), "PORT": str(port),
           "HOST": "127.0.0.1"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    built = subprocess.run(
        [BIN, "demo", "--people", str(people)],
        env={**env, "COLUMNS": "10000"},  # one link a line
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    links = {m["who"]: m["url"] for m in _LINK.finditer(built.stdout)}
    server = subprocess.Popen(
        [BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    db = data_dir / "healthcode.db"
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
        with sqlite3.connect(db) as conn:
            entries = conn.execute(STORED_ENTRIES).fetchone()[0]
        while signed_size(base) < entries:
            assert time.monotonic() < deadline, "the sequencer did not catch up"
            time.sleep(0.2)
        yield ServedCity(base, db, links, env)
    finally:
        server.terminate()
        server.wait(timeout=30)
