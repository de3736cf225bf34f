"""Step 2 of ``bench.tlog``: inclusion and consistency proofs at the full size, ours (in memory
and from the store, with receipts) against pymerkle's two trees and tlog-scales, each checked
against ours; see ``bench/tlog.py``'s docstring."""

from __future__ import annotations

import gc
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from pymerkle import InmemoryTree, SqliteTree
from rich.console import Console
from tlog_scales.backend import LocalBackend
from tlog_scales.reader import TilesReader

from bench.harness import Report, env_int
from bench.tlog_store import entry, services_on
from healthcode.bootstrap import Services
from healthcode.store.database import Database
from healthcode.tlog import (
    MerkleTree,
    ProofError,
    TlogError,
    verify_consistency,
    verify_inclusion,
    verify_tlog_proof,
)

WARMUP = 20
CHECKED = 500  # proofs per implementation checked against ours

Proof = Any  # list[bytes] (RFC 9162) or a pymerkle proof object


def _time_proofs(
    make: Callable[[int], Proof], args: Sequence[int], warmup: Sequence[int], budget: float
) -> tuple[list[Proof], float]:
    """Proofs for ``args`` in order until the budget runs out; returns them and proofs/s."""
    for arg in warmup:
        make(arg)
    gc.collect()  # not a collection of what the appends left, inside one implementation's time
    done: list[Proof] = []
    start = time.perf_counter()
    deadline = start + budget
    for arg in args:
        done.append(make(arg))
        if time.perf_counter() > deadline:
            break
    return done, len(done) / (time.perf_counter() - start)


class _Proofs:
    def __init__(self, report: Report, console: Console, tree: MerkleTree, n: int) -> None:
        self.report, self.console, self.tree, self.n = report, console, tree, n
        rng = random.Random(2026)
        count = env_int("BENCH_LOG_PROOFS", 2_000)
        self.budget = float(os.environ.get("BENCH_LOG_PROOF_SECONDS", "5"))
        self.indices = [rng.randrange(n) for _ in range(count)]
        self.olds = [rng.randrange(1, n) for _ in range(count)]
        self.warm_indices = [rng.randrange(n) for _ in range(WARMUP)]
        self.warm_olds = [rng.randrange(1, n) for _ in range(WARMUP)]
        self.rates: dict[str, float] = {}
        self.ours_inclusion: list[list[bytes]] = []
        self.ours_consistency: list[list[bytes]] = []

    def measure(
        self,
        who: str,
        inclusion: Callable[[int], Proof],
        consistency: Callable[[int], Proof],
        size: int,
    ) -> tuple[list[Proof], list[Proof]]:
        at = "" if size == self.n else f" at {size:,}"
        indices = [i % size for i in self.indices]
        olds = [1 + (m - 1) % (size - 1) for m in self.olds]
        self.console.print(f"proofs: {who}{at}")
        warm = [i % size for i in self.warm_indices]
        proofs, rate = _time_proofs(inclusion, indices, warm, self.budget)
        self.rates[f"{who} inclusion"] = self.report.measure(
            f"{who} inclusion proofs/s{at}", rate, "proofs/s"
        )
        warm = [1 + (m - 1) % (size - 1) for m in self.warm_olds]
        made, rate = _time_proofs(consistency, olds, warm, self.budget)
        self.rates[f"{who} consistency"] = self.report.measure(
            f"{who} consistency proofs/s{at}", rate, "proofs/s"
        )
        self.report.measure(f"  {who} inclusion proofs timed", len(proofs))
        self.report.measure(f"  {who} consistency proofs timed", len(made))
        return proofs, made

    def check_same(
        self, who: str, inclusion: list[list[bytes]], consistency: list[list[bytes]], size: int
    ) -> None:
        if size != self.n:
            return  # our proofs are at the full size; the sampled peer's roots were checked
        wrong = sum(a != b for a, b in zip(inclusion[:CHECKED], self.ours_inclusion, strict=False))
        wrong += sum(
            a != b for a, b in zip(consistency[:CHECKED], self.ours_consistency, strict=False)
        )
        if wrong:
            self.report.fail(f"{who}: {wrong} proofs differ from ours")

    def verify_ours(self, inclusion: list[list[bytes]], consistency: list[list[bytes]]) -> None:
        tree, n, root = self.tree, self.n, self.tree.root()
        try:
            for i, proof in zip(self.indices, inclusion[:CHECKED], strict=False):
                verify_inclusion(tree.leaf_hash(i), i, n, proof, root)
            for m, proof in zip(self.olds, consistency[:CHECKED], strict=False):
                verify_consistency(m, n, proof, tree.root(m), root)
        except ProofError as exc:
            self.report.fail(f"our proof does not verify: {exc}")
        self.ours_inclusion = inclusion[:CHECKED]
        self.ours_consistency = consistency[:CHECKED]

    def check_pymerkle(
        self, who: str, inclusion: list[Any], consistency: list[Any], size: int
    ) -> None:
        """pymerkle's inclusion path is the leaf hash, then RFC 9162's path; its consistency
        proofs have their own shape, so they are checked with its verifier against our roots."""
        tree = self.tree
        indices = [i % size for i in self.indices]
        olds = [1 + (m - 1) % (size - 1) for m in self.olds]
        wrong = 0
        for i, proof in zip(indices, inclusion[:CHECKED], strict=False):
            expected = [tree.leaf_hash(i), *tree.inclusion_proof(i, size)]
            wrong += proof.path != expected
        for m, proof in zip(olds, consistency[:CHECKED], strict=False):
            try:
                proof.verify(tree.root(m), tree.root(size), prior_size=m, later_size=size)
            except Exception:  # pymerkle.InvalidProof
                wrong += 1
        if wrong:
            self.report.fail(f"{who}: {wrong} proofs disagree with our tree")


def proofs(
    report: Report, console: Console, tree: MerkleTree, peers: dict[str, Any], peer_n: int
) -> None:
    n = tree.size
    p = _Proofs(report, console, tree, n)

    inc, con = p.measure(
        "ours in-memory",
        lambda i: tree.inclusion_proof(i, n),
        lambda m: tree.consistency_proof(m, n),
        n,
    )
    p.verify_ours(inc, con)

    memory_tree: InmemoryTree = peers.pop("pymerkle memory")
    inc, con = p.measure(
        "pymerkle InmemoryTree",
        lambda i: memory_tree.prove_inclusion(i + 1, peer_n),
        lambda m: memory_tree.prove_consistency(m, peer_n),
        peer_n,
    )
    p.check_pymerkle("pymerkle InmemoryTree", inc, con, peer_n)

    db_path, data_dir = peers["store"]
    db = Database(f"sqlite:///{db_path}")
    services: Services = services_on(db, data_dir)

    inc, con = p.measure(
        "ours store-backed",
        lambda i: services.log.inclusion(i, n),
        lambda m: services.log.consistency(m, n),
        n,
    )
    p.check_same("ours store-backed", inc, con, n)
    receipts, rate = _time_proofs(services.log.receipt, p.indices, p.warm_indices, p.budget)
    report.measure("ours store-backed receipts (tlog-proof text) /s", rate, "receipts/s")
    try:  # offline, with the log's key, as a person's app would
        for index, receipt in zip(p.indices, receipts[:CHECKED], strict=False):
            assert receipt is not None, f"no receipt for entry {index}"
            verified = verify_tlog_proof(receipt, entry(index), [services.log.verifier])
            assert verified.checkpoint.size == n, "a receipt under another checkpoint"
    except (AssertionError, TlogError) as exc:
        report.fail(f"our receipt does not verify: {exc}")

    sqlite_tree: SqliteTree = peers.pop("pymerkle sqlite")
    inc, con = p.measure(
        "pymerkle SqliteTree",
        lambda i: sqlite_tree.prove_inclusion(i + 1, peer_n),
        lambda m: sqlite_tree.prove_consistency(m, peer_n),
        peer_n,
    )
    p.check_pymerkle("pymerkle SqliteTree", inc, con, peer_n)
    sqlite_tree.close()

    reader = TilesReader(LocalBackend(peers["tlog-scales"]))
    reader.get_checkpoint()
    inc, con = p.measure(
        "tlog-scales",
        lambda i: reader.get_inclusion_proof(i, peer_n).node_hashes,
        lambda m: reader.get_consistency_proof(m, peer_n).node_hashes,
        peer_n,
    )
    p.check_same("tlog-scales", inc, con, peer_n)

    pairs = [
        ("ours in-memory", "pymerkle InmemoryTree"),
        ("ours store-backed", "pymerkle SqliteTree"),
        ("ours store-backed", "tlog-scales"),
    ]
    for kind in ("consistency", "inclusion"):
        for ours, peer in pairs:
            goal = ">= 10" if kind == "consistency" and peer.startswith("pymerkle") else ""
            name = f"{kind} proofs: {ours} / {peer}"
            value = report.ratio(name, p.rates[f"{ours} {kind}"], p.rates[f"{peer} {kind}"], goal)
            if goal and value < 10:
                console.print(f"[yellow]{name}: {value:.2f}×, below the goal of 10×[/]")
    db.dispose()
