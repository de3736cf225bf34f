"""One crash trial: a real server under concurrent writes, killed with SIGKILL, restarted, checked.

The writes (crash/writes.py) are signed evidence batches (idempotent by source and batch id) and
chains of a person's positive test, the official's order citing it and the person's appeal
against that order, the order and the appeal each sent with an ``Idempotency-Key``; several
threads post them over HTTP, and a write counts as acknowledged when its answer arrived. The
server dies by `kill -9` at a random moment, or at a named point of its write path
(services/crashpoints.py: intake, orders and appeals before and after commit, the sequencer
signing). After a restart every write is sent again with the same key (a client retrying), and
the trial checks:

- every acknowledged write is stored and retries duplicated nothing: each stored batch holds
  exactly its records and every record belongs to exactly one batch; each chain's evidence is
  cited by exactly one order and that order contested by exactly one appeal, the acknowledged
  ones, named by their idempotency keys; every retry of an order or appeal answered with the
  status and body of its first answer;
- `healthcode log self-check` passes: every entry recomputes from the rows it records, every
  batch's Merkle root from its records, the log has no gap and its root is the last signed
  checkpoint's;
- the log is consistent with every checkpoint served before the crash (RFC 9162 proofs from
  the restarted server, verified here against the signed roots);
- SQLite's `PRAGMA integrity_check` is `ok`.
"""

from __future__ import annotations

import base64
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from sqlalchemy import Connection, create_engine, text
from tests.served import BIN, STORED_ENTRIES, free_port

from crash.writes import Writes
from healthcode.tlog import Ed25519Verifier, ProofError, open_checkpoint, verify_consistency

WRITERS = 4


@dataclass
class Trial:
    backend: str  # sqlite | postgres
    database_url: str | None  # None: SQLite in the data dir
    data_dir: Path
    rng: random.Random
    crash_point: str | None  # a named point (with its count), else a random moment
    problems: list[str] = field(default_factory=list)
    summary: str = ""
    writes: Writes | None = None  # once planned

    # --- the server -----------------------------------------------------------------------

    def env(self, port: int, crash: bool) -> dict[str, str]:
        env = {**os.environ, "HEALTHCODE_DATA_DIR": str(self.data_dir), "PORT": str(port),
               "HOST": "127.0.0.1", "HEALTHCODE_SEQUENCER_SECONDS": "0.1"}  # fmt: skip
        env.pop("HEALTHCODE_CRASH_POINT", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        else:
            env.pop("DATABASE_URL", None)
        if crash and self.crash_point:
            env["HEALTHCODE_CRASH_POINT"] = self.crash_point
        return env

    def start(self, port: int, *, crash: bool) -> subprocess.Popen[bytes] | None:
        """The running server; None if, armed, it reached its crash point while starting (the
        sequencer signs at start)."""
        server = subprocess.Popen(
            [BIN, "serve"], env=self.env(port, crash),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                if crash and self.crash_point and server.returncode == -signal.SIGKILL:
                    return None
                raise RuntimeError(f"the server exited with {server.returncode} at start")
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return server
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        server.kill()
        raise RuntimeError("the server did not start")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [BIN, *args], env=self.env(0, crash=False), capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip

    # --- the trial ------------------------------------------------------------------------

    def run(self) -> bool:
        built = self.cli("demo", "--people", "60")
        if built.returncode != 0:
            self.problems.append(f"demo: {built.stderr[-300:]}")
            return False
        writes = self.writes = Writes.plan(self.residents(), self.rng, self.data_dir)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = self.start(port, crash=True)
        seen: list[str] = []  # checkpoint notes served before the crash
        try:
            if server is not None:
                self.load(server, base, writes, seen)
            self.summary = f"{writes.summary()}, {len(seen)} checkpoints seen"
            restarted = self.start(port, crash=False)
            assert restarted is not None
            try:
                writes.resend(base)
                self.wait_signed(base)
                with self.connect() as conn:
                    writes.check(conn)
                self.check(base, seen)
            finally:
                restarted.terminate()
                restarted.wait(timeout=30)
        finally:
            self.problems[:0] = writes.problems
        return not self.problems

    def load(
        self, server: subprocess.Popen[bytes], base: str, writes: Writes, seen: list[str]
    ) -> None:
        """Writers post the writes and an observer keeps the checkpoints served, until the
        server dies at its crash point or is killed at a random moment."""
        stop = threading.Event()
        todo = writes.tasks(self.rng)
        lock = threading.Lock()

        def writer() -> None:
            with httpx2.Client(base_url=base, timeout=5) as client:
                while not stop.is_set():
                    with lock:
                        if not todo:
                            return
                        task = todo.pop()
                    try:
                        writes.post(client, task, before_crash=True)
                    except httpx2.HTTPError:
                        return  # the server is gone

        def observer() -> None:
            while not stop.is_set():
                try:
                    answer = httpx2.get(f"{base}/log/checkpoint", timeout=2)
                except httpx2.HTTPError:
                    return
                if answer.status_code == 200 and (not seen or seen[-1] != answer.text):
                    seen.append(answer.text)
                time.sleep(0.05)

        threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
        threads.append(threading.Thread(target=observer))
        for thread in threads:
            thread.start()
        if self.crash_point:
            # It kills itself at the point; if the load ends first and the point never comes
            # (a quiet sequencer signs nothing more), it is killed a moment later instead.
            writers = threads[:-1]
            while server.poll() is None and any(thread.is_alive() for thread in writers):
                time.sleep(0.02)
            try:
                server.wait(timeout=1)
            except subprocess.TimeoutExpired:
                server.send_signal(signal.SIGKILL)
                server.wait(timeout=30)
        else:
            time.sleep(self.rng.uniform(0.05, 1.0))
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    def residents(self) -> list[str]:
        with self.connect() as conn:
            rows = conn.execute(
                text("SELECT person_key FROM persons WHERE home_area LIKE '4101%'")
            ).all()
        return [row[0] for row in rows]

    def wait_signed(self, base: str) -> None:
        deadline = time.monotonic() + 60
        with self.connect() as conn:
            entries = conn.execute(text(STORED_ENTRIES)).scalar_one()
        while time.monotonic() < deadline:
            answer = httpx2.get(f"{base}/log/checkpoint", timeout=5)
            if answer.status_code == 200 and int(answer.text.split("\n")[1]) >= entries:
                return
            time.sleep(0.1)
        with self.connect() as conn:
            halts = conn.execute(text("SELECT reason FROM log_halts")).scalars().all()
        self.problems.append(
            f"the restarted sequencer did not sign the whole log ({entries} entries)"
            + (f"; the log halted: {halts[0][:300]}" if halts else "")
        )

    # --- the checks -----------------------------------------------------------------------

    def check(self, base: str, seen: list[str]) -> None:
        checked = self.cli("log", "self-check")
        if checked.returncode != 0:
            self.problems.append(f"self-check: {(checked.stdout + checked.stderr)[-400:]}")
        self.check_consistency(base, seen)
        if self.database_url is None:
            with sqlite3.connect(self.data_dir / "healthcode.db") as conn:
                result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                self.problems.append(f"integrity_check: {result}")

    def check_consistency(self, base: str, seen: list[str]) -> None:
        verifier = Ed25519Verifier.from_vkey(httpx2.get(f"{base}/log/key").text.strip())
        latest = open_checkpoint(httpx2.get(f"{base}/log/checkpoint").text, [verifier])
        new = latest.checkpoint
        for note in seen:
            old = open_checkpoint(note, [verifier]).checkpoint
            if old.size > new.size:
                self.problems.append(f"the log shrank from {old.size} to {new.size}")
                continue
            if old.size == 0:
                continue
            answer = httpx2.get(f"{base}/log/consistency/{old.size}/{new.size}")
            proof = [base64.b64decode(line) for line in answer.text.split()]
            try:
                verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
            except ProofError as error:
                self.problems.append(f"checkpoint {old.size} forked: {error}")

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to the trial's store, on an engine of its own (the server has its own)."""
        engine = create_engine(self.database_url or f"sqlite:///{self.data_dir / 'healthcode.db'}")
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()
