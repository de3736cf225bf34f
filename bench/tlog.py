"""The transparency log: appends, proofs and merge delay, against pymerkle 7 and tlog-scales.

Entries are ``evidence_batch`` entries as the log holds them (~206 bytes, ``bench.tlog_store``;
a sample is checked against ``domain.log_entries.evidence_batch_entry``). Sizes:
``BENCH_LOG_ENTRIES`` (default 1,000,000), in batches of ``BENCH_LOG_BATCH`` (10,000).

1. Append, batch by batch, a root (a signed checkpoint where the implementation signs) after
   every batch:

   * ours, store-backed: ``services.transparency.append`` in one SQLite write transaction per
     batch, then ``Sequencer.integrate`` (tile-level hashes, a signed checkpoint), in a child
     process (``bench.tlog_store``) so its peak memory is its own;
   * ours, in memory: ``MerkleTree.append`` then ``root()``;
   * pymerkle ``SqliteTree``: ``append_entries`` then ``get_root()`` (one SQLite transaction
     per batch); pymerkle ``InmemoryTree``: the same, in memory;
   * tlog-scales ``TilesWriter``: ``add_leaf`` per entry, ``commit([Ed25519 signer])`` per
     batch, tiles in a temporary folder.

   Peers append ``BENCH_LOG_PEER_ENTRIES`` (default: all); fewer is a sample, named so. Every
   root must equal ours at the same size (a difference fails the benchmark).
2. Proofs at the full size (``bench.tlog_proofs``; ``BENCH_LOG_PROOFS`` random inclusion and
   consistency proofs per implementation, default 2,000, at most ``BENCH_LOG_PROOF_SECONDS`` = 5 s
   each, after 20 untimed ones to warm caches; consistency from a random size to the full one): ours
   in memory and from the store (``LogReader.inclusion`` and ``.consistency``: one read transaction
   per proof, full tiles from the reader's cache as the server serves them), pymerkle both trees,
   tlog-scales ``TilesReader`` over its tiles; also our receipts (``LogReader.receipt``, tlog-proof
   text). Our proofs and receipts are verified, must equal tlog-scales' and pymerkle's inclusion
   paths hash for hash, and pymerkle's consistency proofs must verify against our roots.
3. The hashing bound: one leaf hash and one node hash per entry with ``hashlib``, and our
   append rates as a share of it (the issue's reference); and the batch hashing bound: a leaf
   hash per entry and the tree's nodes above them (one less than the entries) through
   ``tlog.batch`` (the C extension where built, as ours hash), batch by batch, and our rates as
   a share of that, the most our appends could reach.
4. Merge delay (``bench.tlog_delay``): ``BENCH_LOG_DELAY_RATE`` writes/s (200) of
   ``BENCH_LOG_DELAY_BATCH`` entries (5) for ``BENCH_LOG_DELAY_SECONDS`` (20) while a
   sequencer loop runs every ``HEALTHCODE_SEQUENCER_SECONDS`` (0.25), on a fresh SQLite file
   and, if reachable, on PostgreSQL (``BENCH_LOG_POSTGRES``) in a schema of its own.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymerkle import InmemoryTree, SqliteTree
from rich.console import Console
from tests.pg_schema import schema_database
from tlog_scales.signing import PlainEd25519Signer
from tlog_scales.tlog import Checkpoint as PeerCheckpoint
from tlog_scales.writer import TilesWriter

from bench.harness import Report, env_int, postgres_reachable, run_child, timed
from bench.tlog_delay import DelayRun, merge_delay
from bench.tlog_proofs import proofs
from bench.tlog_store import entries as make_entries
from bench.tlog_store import entry, entry_fields, services_on
from healthcode.domain.log_entries import evidence_batch_entry
from healthcode.store.database import Database
from healthcode.tlog import (
    HASH_SIZE,
    Ed25519Signer,
    MerkleTree,
    open_checkpoint,
)
from healthcode.tlog import batch as tlog_batch

NAME = "tlog"
ORIGIN = "bench.example/log"
SEED = bytes(range(32))  # the peers' signing key; ours come from the services' key files
MIB = 1 << 20
POSTGRES_URL = os.environ.get(
    "BENCH_LOG_POSTGRES",
    os.environ.get("HEALTHCODE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)


def _batches(items: Sequence[bytes], size: int) -> Iterator[Sequence[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sized(name: str, count: int, total: int) -> str:
    return name if count == total else f"{name} (sample of {count:,})"


# --- 1 and 3: appending ---------------------------------------------------------------------


def _check_entries(report: Report, n: int) -> None:
    rng = random.Random(7)
    sample = {0, 1, 49, 50, n - 1, *(rng.randrange(n) for _ in range(200))}
    wrong = [i for i in sorted(sample) if entry(i) != evidence_batch_entry(**entry_fields(i))]
    if wrong:
        report.fail(f"bench entries differ from evidence_batch_entry at {wrong[:5]}")


def _hash_bound(entries: Sequence[bytes]) -> float:
    """Seconds for one leaf hash and one node hash per entry, nothing else."""
    sha = hashlib.sha256

    def go() -> bytes:
        previous = b"\0" * 32
        for body in entries:
            leaf = sha(b"\x00" + body).digest()
            previous = sha(b"\x01" + previous + leaf).digest()
        return previous

    return timed(go)[1]


def _batch_hash_bound(entries: Sequence[bytes], batch_size: int) -> float:
    """Seconds for the leaf hashes and the nodes above them, through ``tlog.batch`` a batch at a
    time, each batch's hashes one bytes object: nothing else."""

    def go() -> None:
        for chunk in _batches(entries, batch_size):
            level = tlog_batch.leaf_hashes(chunk)
            while len(level) > HASH_SIZE:
                paired = len(level) // (2 * HASH_SIZE) * (2 * HASH_SIZE)
                level = tlog_batch.node_layer(memoryview(level)[:paired]) + level[paired:]

    return timed(go)[1]


def _ours_in_memory(entries: Sequence[bytes], batch: int) -> tuple[MerkleTree, float]:
    def go() -> MerkleTree:
        tree = MerkleTree()
        for chunk in _batches(entries, batch):
            tree.append(chunk)
            tree.root()
        return tree

    return timed(go)


def _pymerkle(tree: InmemoryTree | SqliteTree, entries: Sequence[bytes], batch: int) -> float:
    def go() -> None:
        for chunk in _batches(entries, batch):
            tree.append_entries(chunk)
            tree.get_root()

    return timed(go)[1]


def _tlog_scales(root: Path, entries: Sequence[bytes], batch: int) -> float:
    signer = PlainEd25519Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(SEED))
    writer = TilesWriter.create(root, ORIGIN)

    def go() -> None:
        for chunk in _batches(entries, batch):
            for body in chunk:
                writer.add_leaf(body)
            writer.commit([signer])

    return timed(go)[1]


def _check_root(report: Report, who: str, root: bytes, tree: MerkleTree, size: int) -> None:
    if root != tree.root(size):
        report.fail(
            f"{who}: root at size {size:,} is {root.hex()}, ours is {tree.root(size).hex()}"
        )


def _appends(
    report: Report,
    console: Console,
    tmp: Path,
    entries: list[bytes],
    tree_seconds: float,
    tree: MerkleTree,
    batch: int,
    peer_n: int,
) -> tuple[dict[str, float], dict[str, Any]]:
    n = len(entries)
    rates: dict[str, float] = {}
    peers: dict[str, Any] = {}

    console.print("hashing bound (hashlib, 1 leaf + 1 node hash per entry)")
    bound = report.measure("hashing bound entries/s", n / _hash_bound(entries), "entries/s")
    built = tlog_batch.C is not None
    which = "C over OpenSSL" if built else "the Python fallback: the C extension is not built"
    console.print(f"batch hashing bound (tlog.batch, {which})")
    batch_bound = report.measure(
        f"batch hashing bound ({'C' if built else 'Python'}) entries/s",
        n / _batch_hash_bound(entries, batch),
        "entries/s",
    )
    rates["ours in memory"] = report.measure(
        "ours in-memory append (MerkleTree) entries/s", n / tree_seconds, "entries/s"
    )

    console.print(f"ours, store-backed on SQLite, {n:,} entries in a child process")
    child = run_child(
        "bench.tlog_store", [str(tmp / "store.db"), str(tmp / "data"), str(n), str(batch)]
    )
    out = child.output
    rates["ours store"] = report.measure(
        "ours store-backed append (SQLite, transactions + Sequencer) entries/s",
        n / out["seconds"],
        "entries/s",
    )
    report.measure("  in write transactions (transparency.append)", out["append_seconds"], "s")
    report.measure(
        "  in Sequencer.integrate (tiles + signed checkpoint)", out["integrate_seconds"], "s"
    )
    report.measure("  checkpoints signed", out["checkpoints"])
    report.measure("  child wall (start-up and entry making included)", child.seconds, "s")
    report.measure("  child peak RSS", child.peak_rss / MIB, "MiB")
    _check_root(report, "our store", bytes.fromhex(out["root"]), tree, n)
    if not out["note_ok"]:
        report.fail("our store's last checkpoint note does not open with the log's key")
    report.measure(
        "share of hashing bound: ours in memory", 100 * rates["ours in memory"] / bound, "%"
    )
    report.measure(
        "share of hashing bound: ours store-backed", 100 * rates["ours store"] / bound, "%"
    )
    for who, key in (("in memory", "ours in memory"), ("store-backed", "ours store")):
        report.measure(
            f"share of batch hashing bound: ours {who}", 100 * rates[key] / batch_bound, "%"
        )

    sample = entries[:peer_n]
    console.print(f"pymerkle SqliteTree, {peer_n:,} entries")
    sqlite_tree = SqliteTree(str(tmp / "pymerkle.db"))
    seconds = _pymerkle(sqlite_tree, sample, batch)
    rates["pymerkle sqlite"] = report.measure(
        _sized("pymerkle SqliteTree append entries/s", peer_n, n), peer_n / seconds, "entries/s"
    )
    _check_root(report, "pymerkle SqliteTree", sqlite_tree.get_root(), tree, peer_n)
    peers["pymerkle sqlite"] = sqlite_tree

    console.print(f"pymerkle InmemoryTree, {peer_n:,} entries")
    memory_tree = InmemoryTree()
    seconds = _pymerkle(memory_tree, sample, batch)
    rates["pymerkle memory"] = report.measure(
        _sized("pymerkle InmemoryTree append entries/s", peer_n, n), peer_n / seconds, "entries/s"
    )
    _check_root(report, "pymerkle InmemoryTree", memory_tree.get_root(), tree, peer_n)
    peers["pymerkle memory"] = memory_tree

    console.print(f"tlog-scales TilesWriter, {peer_n:,} entries")
    tiles = tmp / "tiles"
    seconds = _tlog_scales(tiles, sample, batch)
    rates["tlog-scales"] = report.measure(
        _sized("tlog-scales TilesWriter append entries/s", peer_n, n),
        peer_n / seconds,
        "entries/s",
    )
    note = (tiles / "checkpoint").read_text()
    _check_root(report, "tlog-scales", PeerCheckpoint.from_text(note).root_hash, tree, peer_n)
    try:  # its checkpoint is a C2SP signed note: ours must open it with the same key
        verifier = Ed25519Signer(ORIGIN, SEED).verifier()
        opened = open_checkpoint(note, [verifier], origin=ORIGIN).checkpoint
        if opened.size != peer_n:
            report.fail(f"tlog-scales' checkpoint says size {opened.size}, not {peer_n}")
    except Exception as exc:  # a TlogError, reported with the others
        report.fail(f"our open_checkpoint rejects tlog-scales' checkpoint: {exc}")
    peers["tlog-scales"] = tiles
    peers["store"] = (tmp / "store.db", tmp / "data")

    def ratio(name: str, ours: str, peer: str, goal: str) -> None:
        value = report.ratio(name, rates[ours], rates[peer], goal=goal)
        if value < float(goal.split()[-1]):
            console.print(f"[yellow]{name}: {value:.2f}×, below the goal of {goal}×[/]")

    ratio(
        "append: ours store-backed / pymerkle SqliteTree", "ours store", "pymerkle sqlite", ">= 10"
    )
    ratio(
        "append: ours in memory / pymerkle InmemoryTree",
        "ours in memory",
        "pymerkle memory",
        ">= 10",
    )
    ratio("append: ours store-backed / tlog-scales", "ours store", "tlog-scales", ">= 5")
    return rates, peers


# --- 4: merge delay -------------------------------------------------------------------------


def _delay(report: Report, console: Console, backend: str, db: Database, data_dir: Path) -> None:
    seconds = float(env_int("BENCH_LOG_DELAY_SECONDS", 20))
    rate = float(env_int("BENCH_LOG_DELAY_RATE", 200))
    batch = env_int("BENCH_LOG_DELAY_BATCH", 5)
    interval = float(os.environ.get("HEALTHCODE_SEQUENCER_SECONDS", "0.25"))
    console.print(
        f"merge delay on {backend}: {rate:g} writes/s of {batch} entries for "
        f"{seconds:g} s, sequencer every {interval:g} s"
    )
    run: DelayRun = merge_delay(
        services_on(db, data_dir), seconds=seconds, rate=rate, batch=batch, interval=interval
    )
    name = f"merge delay {backend}"
    report.measure(f"{name}: median", run.median(), "s")
    report.measure(f"{name}: p99", run.p99(), "s")
    report.measure(f"{name}: max", max(run.delays), "s")
    for what in ("p99", "max"):
        report.goals[f"{name}: {what}"] = "<= 1 s"
    report.measure(f"  {backend} writes committed", run.writes)
    report.measure(f"  {backend} writes/s achieved (offered {rate:g})", run.write_rate, "writes/s")
    report.measure(f"  {backend} checkpoints signed", run.checkpoints)
    integrations = sorted(run.integrations)
    report.measure(
        f"  {backend} Sequencer.integrate median", integrations[len(integrations) // 2], "s"
    )
    report.measure(f"  {backend} Sequencer.integrate max", integrations[-1], "s")
    if not run.root_ok:
        report.fail(f"merge delay on {backend}: the last checkpoint's root is not the entries'")
    if max(run.delays) > 1:
        console.print(f"[yellow]{name}: max {max(run.delays):.2f} s, above the target of 1 s[/]")


def _delays(report: Report, console: Console, tmp: Path) -> None:
    db = Database(f"sqlite:///{tmp / 'delay.db'}")
    db.create_all()
    try:
        _delay(report, console, "SQLite", db, tmp / "delay-data")
    finally:
        db.dispose()
    if not postgres_reachable(POSTGRES_URL):
        console.print(f"PostgreSQL is not reachable at {POSTGRES_URL}: its merge delay is skipped")
        return
    with schema_database(POSTGRES_URL, "bench_tlog") as pg:
        _delay(report, console, "PostgreSQL", pg, tmp / "delay-data-pg")


# --- run ------------------------------------------------------------------------------------


def run(report: Report, console: Console) -> None:
    n = env_int("BENCH_LOG_ENTRIES", 1_000_000)
    batch = env_int("BENCH_LOG_BATCH", 10_000)
    peer_n = min(n, env_int("BENCH_LOG_PEER_ENTRIES", n))
    _check_entries(report, n)
    console.print(f"making {n:,} entries")
    entries, seconds = timed(lambda: make_entries(0, n))
    report.measure("entries", n)
    report.measure("batch (entries per transaction / checkpoint)", batch)
    report.measure("mean entry size", sum(map(len, entries)) / n, "bytes")
    report.measure("entry making (not timed below)", seconds, "s")

    with tempfile.TemporaryDirectory(
        prefix="bench-tlog-", dir=os.environ.get("BENCH_LOG_TMP")
    ) as t:
        tmp = Path(t)
        console.print(f"ours in memory (MerkleTree), {n:,} entries")
        tree, tree_seconds = _ours_in_memory(entries, batch)
        _, peers = _appends(report, console, tmp, entries, tree_seconds, tree, batch, peer_n)
        del entries
        proofs(report, console, tree, peers, peer_n)
        del tree, peers
        _delays(report, console, tmp)


if __name__ == "__main__":  # pragma: no cover - python -m bench.tlog
    from bench.__main__ import main

    start = time.perf_counter()
    code = main(["--only", NAME, *sys.argv[1:]])
    print(f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    sys.exit(code)
