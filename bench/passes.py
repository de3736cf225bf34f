"""Passes and place codes: how close to the cost of their one signature check they get.

1. Pass verification (``verify_pass``: Base45, ZLIB, COSE_Sign1, trust list, Ed25519, claims)
   per second, against raw Ed25519 verification with ``cryptography`` of the same bytes, in
   the same process. Both are timed in short interleaved rounds and the best round of each
   counts, so load on a shared machine hits both alike. Goal: ratio >= 0.8 (at least 0.7).
2. Passes issued per second (claims -> CBOR -> COSE_Sign1 via pycose -> ZLIB -> Base45).
3. Place-code scans per second through the service layer into SQLite and PostgreSQL (if
   reachable: ``BENCH_POSTGRES``, else the test suite's URL), each scan verifying one place
   code signature: the per-request path (``Places.scan``, one transaction per scan) and the
   gateway path (``Places.scan_many``, ``BENCH_SCAN_BATCH`` scans per transaction), against
   the Ed25519 bound (raw verifications per second). Goal: >= 0.7 of the bound.

Scans are by distinct people at registered venues not designated (the common case); the
fixed clock moves one second per transaction, so batches are sealed as they would be live.
"""

from __future__ import annotations

import functools
import gc
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from tests.pg_schema import schema_database

from bench.harness import Report, env_int, postgres_reachable
from healthcode.bootstrap import Services, build
from healthcode.credentials import passes
from healthcode.credentials.passes import cose, transport
from healthcode.services.clock import FixedClock
from healthcode.services.places import ScanRequest
from healthcode.services.rulebooks import default_edition_source
from healthcode.settings import Settings
from healthcode.store.database import Database

NAME = "passes"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
POSTGRES = os.environ.get(
    "BENCH_POSTGRES",
    os.environ.get("HEALTHCODE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)


def best_rate(fn: Callable[[], None], per_round: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return per_round / best


def interleaved(
    runs: dict[str, Callable[[], None]], per_round: int, rounds: int
) -> dict[str, float]:
    """Operations per second of each, from its best round, the rounds interleaved."""
    best = dict.fromkeys(runs, float("inf"))
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in runs.items():
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    finally:
        gc.enable()
    return {name: per_round / seconds for name, seconds in best.items()}


def _issuer() -> tuple[Ed25519PrivateKey, passes.TrustedKey, passes.TrustList]:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    trusted = passes.TrustedKey.of(
        key.public_key(),
        issuer="health-410100",
        usages=(passes.KeyUsage.PASS, passes.KeyUsage.IDENTITY_CARD),
        not_before=T0 - timedelta(days=1),
        not_after=T0 + timedelta(days=365),
    )
    return key, trusted, passes.TrustList(1, T0 - timedelta(days=1), (trusted,))


def bench_verify(report: Report, console: Console) -> None:
    key, trusted, trust = _issuer()
    claims = passes.pass_claims(
        colour=passes.Colour.GREEN, issuer=trusted.issuer, masked_name="王*明",
        person_commitment=secrets.token_bytes(32), issued_at=T0, lifetime=timedelta(minutes=15),
    )  # fmt: skip
    text_ = passes.issue_pass(claims, key, trusted.key_id)
    message = cose.parse(transport.decompress(transport.decode_base45(text_[5:], 700)))
    signed = cose.sig_structure(message.protected_bytes, message.payload)
    signature, public = message.signature, trusted.verifier()
    at = T0 + timedelta(minutes=1)
    n = 20

    def ours() -> None:
        for _ in range(n):
            passes.verify_pass(text_, trust, at)

    def raw() -> None:
        for _ in range(n):
            public.verify(signature, signed)

    def issue() -> None:
        for _ in range(n):
            passes.issue_pass(claims, key, trusted.key_id)

    rounds = env_int("BENCH_ROUNDS", 600)
    rates = interleaved({"verify_pass": ours, "ed25519": raw}, n, rounds)
    report.measure("pass verifications", rates["verify_pass"], "/s")
    report.measure("raw Ed25519 verifications", rates["ed25519"], "/s")
    report.ratio("pass verify vs raw Ed25519", rates["verify_pass"], rates["ed25519"],
                 ">= 0.8 (at least 0.7)")  # fmt: skip
    report.measure("passes issued", best_rate(issue, n, rounds // 4), "/s")
    console.print(f"pass: {len(text_)} characters, QR version {passes.qr_version(text_)}")


def _registry(venues: int) -> dict[str, object]:
    districts = [("410102", "中原区", "Zhongyuan"), ("410103", "二七区", "Erqi")]
    return {
        "areas": [{"code": "410000", "zh": "河南省", "en": "Henan"},
                  {"code": "410100", "zh": "郑州市", "en": "Zhengzhou"}]
        + [{"code": c, "zh": zh, "en": en} for c, zh, en in districts],
        "authorities": [{"id": "health-410100", "zh": "郑州市卫健委", "en": "Zhengzhou Health",
                         "jurisdiction": ["410100"]}],
        "venues": [{"id": f"v{i:05d}", "zh": f"场所{i}", "en": f"Venue {i}",
                    "area": districts[i % 2][0], "authority": "health-410100"}
                   for i in range(venues)],
    }  # fmt: skip


@contextmanager
def _store(kind: str) -> Iterator[Database | None]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
            db.create_all()
            yield db
            db.dispose()
        return
    if not postgres_reachable(POSTGRES):
        yield None
        return
    with schema_database(POSTGRES, "bench") as db:
        yield db


def _services(db: Database, folder: Path) -> tuple[Services, FixedClock]:
    clock = FixedClock(T0)
    settings = Settings(database_url=db.url, data_dir=folder)
    services = build(settings, clock=clock, db=db, migrate=False)
    with db.write() as conn:
        services.rulebooks.publish(conn, default_edition_source(), now=T0)
    services.registry.load(_registry(env_int("BENCH_VENUES", 200)), now=T0)
    services.places.ensure_registered(T0)
    return services, clock


def _scans(services: Services, clock: FixedClock, count: int) -> list[ScanRequest]:
    """`count` scans by distinct people of the current codes of the venues, round robin."""
    venues = [f"v{i:05d}" for i in range(env_int("BENCH_VENUES", 200))]
    codes = [services.places.current_code(v, clock.now()).text for v in venues]
    return [ScanRequest(secrets.token_hex(16), codes[i % len(codes)]) for i in range(count)]


def _raw_checks(services: Services, requests: list[ScanRequest]) -> Callable[[], None]:
    """Raw Ed25519 verification of exactly the signatures the scans carry."""
    from healthcode.credentials.passes import place

    ring = services.places._keyring()
    items = []
    for request in requests:
        _venue, _window, kid, signature, raw = place._decode_raw(
            request.code, passes.DEFAULT_LIMITS
        )
        key = ring.key(kid)
        assert key is not None
        items.append((key.verifier(), signature, place._signed_bytes_of(raw)))

    def verify_all() -> None:
        for public, signature, signed in items:
            public.verify(signature, signed)

    return verify_all


def _best(timings: dict[str, list[float]], name: str, count: int) -> float:
    return count / min(timings[name])


def _rounds(
    services: Services, clock: FixedClock, batch: int, single: int, rounds: int
) -> dict[str, list[float]]:
    """Interleaved rounds: raw checks then scans, batched and per request, wall and CPU."""
    places = services.places
    timings: dict[str, list[float]] = {}

    def timed(name: str, fn: Callable[[], object]) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        timings.setdefault(f"{name} wall", []).append(time.perf_counter() - wall)
        timings.setdefault(f"{name} cpu", []).append(time.process_time() - cpu)

    def one_by_one(requests: list[ScanRequest]) -> None:
        for request in requests:
            places.scan(request.person_key, request.code, clock.now())

    for _ in range(rounds):
        requests = _scans(services, clock, batch)
        timed("raw batch", _raw_checks(services, requests))
        timed("batch", functools.partial(places.scan_many, requests, clock.now()))
        clock.advance(seconds=1)
        few = _scans(services, clock, single)
        timed("raw single", _raw_checks(services, few))
        timed("single", functools.partial(one_by_one, few))
        clock.advance(seconds=1)
    places.seal_due(clock.now())
    return timings


def bench_scans(report: Report, console: Console) -> None:
    """Scans through the service layer against raw verification of the same signatures,
    round by round (interleaved), best round of each, in wall-clock and in CPU time."""
    single = env_int("BENCH_SCANS_SINGLE_ROUND", 10)
    batch = env_int("BENCH_SCAN_BATCH", 1_000)
    rounds = env_int("BENCH_SCAN_ROUNDS", 20)
    for kind in ("sqlite", "postgres"):
        with _store(kind) as db, tempfile.TemporaryDirectory() as folder:
            if db is None:
                console.print(f"[yellow]{kind} not reachable at {POSTGRES}: skipped[/]")
                continue
            services, clock = _services(db, Path(folder))
            # Warm the caches (keyring, venues, sources) outside the timing.
            services.places.scan_many(_scans(services, clock, 50), clock.now())
            clock.advance(seconds=1)
            timings = _rounds(services, clock, batch, single, rounds)
            for path, count in (("batch", batch), ("single", single)):
                label = f"batched by {batch}" if path == "batch" else "per request"
                for clock_kind in ("wall", "cpu"):
                    ours = _best(timings, f"{path} {clock_kind}", count)
                    bound = _best(timings, f"raw {path} {clock_kind}", count)
                    report.measure(f"scans {label} ({kind}, {clock_kind})", ours, "/s")
                    report.ratio(
                        f"scans {label} vs Ed25519 bound ({kind}, {clock_kind})", ours, bound,
                        ">= 0.7" if path == "batch" and clock_kind == "wall" else "",
                    )  # fmt: skip
            checked = services.self_check.run(now=clock.now(), halt=False)
            if not checked.ok:
                report.fail(f"{kind}: self-check after the scans: {checked.problems[:3]}")


def run(report: Report, console: Console) -> None:
    bench_verify(report, console)
    bench_scans(report, console)
