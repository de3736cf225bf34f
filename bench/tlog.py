"""The transparency log: appends, proofs and merge delay, against pymerkle 7 and tlog-scales.

Entries are ``evidence_batch`` entries as the log holds them (~206 bytes, ``bench.tlog_store``;
a sample is checked against ``domain.log_entries.evidence_batch_entry``). Sizes:
``BENCH_LOG_ENTRIES`` (default 1,000,000), in batches of ``BENCH_LOG_BATCH`` (10,000).

1. Append, batch by batch, a root (a signed checkpoint where the implementation signs) after
   every batch:

   * ours, store-backed: ``services.transparency.append`` in one SQLite write transaction per
     batch, and ``Sequencer.integrate`` (tile-level hashes, a signed checkpoint), in a child
     process (``bench.tlog_store``) so its peak memory is its own: ``beside``, the sequencer in
     a thread of its own beside the appending one, as the server runs it beside the writers
     (a run as soon as the last ended and a batch committed since: it signs fewer checkpoints
     than there are batches, counted, and uses a second core), timed until a checkpoint holds
     every entry; and ``serial``, a run after each transaction and nothing overlapping, as the
     peers append (a root or checkpoint a batch, one thread). Each gets the issue's ratios;
   * ours, in memory: ``MerkleTree.append`` then ``root()``;
   * pymerkle ``SqliteTree``: ``append_entries`` then ``get_root()`` (one SQLite transaction
     per batch); pymerkle ``InmemoryTree``: the same, in memory;
   * tlog-scales ``TilesWriter``: ``add_leaf`` per entry, ``commit([Ed25519 signer])`` per
     batch, tiles in a temporary folder.

   Peers append ``BENCH_LOG_PEER_ENTRIES`` (default: all); fewer is a sample, named so. Every
   root must equal ours at the same size (a difference fails the benchmark). Each append, and
   each bound below, runs ``BENCH_LOG_ROUNDS`` times (3), from scratch, and its best round
   counts (``bench.tlog_appends``): the machine is shared, and one tenant's burst slows one round.
2. Proofs at the full size (``bench.tlog_proofs``; ``BENCH_LOG_PROOFS`` random inclusion and
   consistency proofs per implementation, default 2,000, at most ``BENCH_LOG_PROOF_SECONDS`` =
   5 s each, after 20 untimed ones to warm caches; consistency from a random size to the full
   one; one run, not rounds: caches warm as proofs are made, and the best of several runs
   would pick the warmest, ours keeping more tiles than tlog-scales' reader does): ours in
   memory and from the store (``LogReader.inclusion`` and ``.consistency``: one read
   transaction per proof, full tiles from the reader's cache as the server serves them),
   pymerkle both trees, tlog-scales ``TilesReader`` over its tiles; also our receipts
   (``LogReader.receipt``, tlog-proof text). Our proofs and receipts are verified, must equal
   tlog-scales' and pymerkle's inclusion paths hash for hash, and pymerkle's consistency proofs
   must verify against our roots.
3. The hashing bound: one leaf hash and one node hash per entry with ``hashlib``, and our
   append rates as a share of it (the issue's reference); and the batch hashing bound: a leaf
   hash per entry and the tree's nodes above them (one less than the entries) through
   ``tlog.batch`` (the C extension where built, as ours hash), batch by batch, and our rates as
   a share of that, the most our appends could reach. The SQLite storage floor
   (``bench.tlog_floor``): the bytes our store keeps for the log, written as plain blobs in as
   many transactions with the store's PRAGMAs, and the store-backed rate as a share of it (the
   most a durable SQLite append can reach on this disk, also as a multiple of pymerkle's
   ``SqliteTree``).
4. Merge delay (``bench.tlog_delay``): ``BENCH_LOG_DELAY_RATE`` writes/s (200) of
   ``BENCH_LOG_DELAY_BATCH`` entries (5) for ``BENCH_LOG_DELAY_SECONDS`` (20) while a
   sequencer loop runs every ``HEALTHCODE_SEQUENCER_SECONDS`` (0.25), on a fresh SQLite file
   and, if reachable, on PostgreSQL (``BENCH_LOG_POSTGRES``) in a schema of its own.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from tests.pg_schema import schema_database

from bench.harness import Report, env_int, postgres_reachable, timed
from bench.tlog_appends import appends
from bench.tlog_delay import DelayRun, merge_delay
from bench.tlog_proofs import proofs
from bench.tlog_store import entries as make_entries
from bench.tlog_store import entry, entry_fields, services_on
from healthcode.domain.log_entries import evidence_batch_entry
from healthcode.store.database import Database

NAME = "tlog"
POSTGRES_URL = os.environ.get(
    "BENCH_LOG_POSTGRES",
    os.environ.get("HEALTHCODE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)


# --- 1: the entries ---------------------------------------------------------------------------


def _check_entries(report: Report, n: int) -> None:
    rng = random.Random(7)
    sample = {0, 1, 49, 50, n - 1, *(rng.randrange(n) for _ in range(200))}
    wrong = [i for i in sorted(sample) if entry(i) != evidence_batch_entry(**entry_fields(i))]
    if wrong:
        report.fail(f"bench entries differ from evidence_batch_entry at {wrong[:5]}")


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
        tree, peers = appends(report, console, tmp, entries, batch, peer_n)
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
