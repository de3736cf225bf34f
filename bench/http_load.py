"""HTTP load: the scan and status endpoints of the real server against a trivial FastAPI
endpoint, under the same load generator at the same fixed concurrency (issue #11).

The load generator is ``wrk`` (Debian's package; ``make bench`` installs it when run as root)
on 127.0.0.1: a Python one would be the bottleneck on a 2-core machine. ``bench/http_load.lua``
makes every request a different one. For each store (SQLite, then PostgreSQL if reachable:
``BENCH_POSTGRES``, else the test suite's URL), in this order:

1. the trivial app (``bench/trivial_app.py``: ``async def`` and ``def`` endpoints answering a
   tiny JSON), served by the same uvicorn call as ``healthcode serve``: the peer;
2. ``GET /api/v1/me/status`` (the route the person's app reads its colour from, computed now
   with its reason and evidence) of the real server (``healthcode serve``, one process, its
   sequencer and scheduler running) over a demo city (``bench/http_city.py``), as a different
   person each request;
3. ``POST /api/v1/scans``: a different person at a different venue each request, with the
   venue's fresh place code of the current window (signed ahead by the venues' own keys), so
   every scan is recorded as a proven visit, in the batch of its second, and sealed.

Each run is ``BENCH_HTTP_WARMUP`` seconds of warm-up (default 5), then ``BENCH_HTTP_SECONDS``
measured (15) with ``BENCH_HTTP_CONNECTIONS`` connections (32) on ``BENCH_HTTP_THREADS`` wrk
threads (2). The city has ``BENCH_HTTP_PEOPLE`` residents (4,000). Reported: requests per
second, p50 and p99 latency, and the ratios to the trivial ``async def`` endpoint measured
just before. Goals: scans >= 0.4 of the trivial endpoint's throughput, p99 < 50 ms.

A benchmark of error answers is worthless: any answer that is not 2xx, any socket error or
timeout, a scan not stored as a proven visit, or a log self-check failing after the load
fails the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx2
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table
from tests.served import BIN, free_port

from bench.harness import Report, env_int
from bench.http_city import POSTGRES, City, demo_city, postgres_reachable

NAME = "http_load"
LUA = Path(__file__).resolve().with_name("http_load.lua")
ROOT = Path(__file__).resolve().parent.parent
P99_GOAL_MS = 50.0
SCAN_GOAL = 0.4


@dataclass(frozen=True)
class Load:
    seconds: int
    warmup: int
    connections: int
    threads: int


@dataclass(frozen=True)
class WrkRun:
    """What ``done()`` of bench/http_load.lua printed for one run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    socket_errors: int
    timeouts: int
    wrapped: bool
    samples: list[str]  # the first body of an answer not 2xx, per wrk thread

    @classmethod
    def parse(cls, line: str) -> WrkRun:
        got = json.loads(line)
        return cls(
            int(got["requests"]), float(got["seconds"]), float(got["p50_ms"]),
            float(got["p99_ms"]), {int(k): int(v) for k, v in got["statuses"].items()},
            int(got["socket_errors"]), int(got["timeouts"]), bool(got["wrapped"]),
            [str(sample) for sample in got["samples"]],
        )  # fmt: skip


@dataclass(frozen=True)
class Result:
    rate: float  # requests per second, measured run
    p50_ms: float
    p99_ms: float
    ok: int  # 2xx answers, warm-up and measured run
    problems: list[str]


def _load() -> Load:
    return Load(
        seconds=env_int("BENCH_HTTP_SECONDS", 15),
        warmup=env_int("BENCH_HTTP_WARMUP", 5),
        connections=env_int("BENCH_HTTP_CONNECTIONS", 32),
        threads=env_int("BENCH_HTTP_THREADS", 2),
    )


# --- servers ------------------------------------------------------------------------------


@contextmanager
def _serving(command: list[str], env: dict[str, str], port: int, ready: str,
             log: Path) -> Iterator[str]:  # fmt: skip
    """Run a server until the block ends; yields its base URL once ``ready`` answers 200."""
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"{command[-1]} exited: {log.read_text()[-500:]}")
                try:
                    if httpx2.get(base + ready, timeout=2).status_code == 200:
                        break
                except httpx2.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[-1]} did not start")
                time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _backlog(base: str) -> float:
    """Entries not yet in a signed checkpoint, from the server's own metrics."""
    text = httpx2.get(f"{base}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name == "healthcode_log_sequencer_backlog":
            return family.samples[0].value
    raise RuntimeError("no healthcode_log_sequencer_backlog in /metrics")


def _settled(base: str) -> None:
    """Until the sequencer has signed every entry (the demo's, the venue keys'), so the
    runs start from a quiet log."""
    deadline = time.monotonic() + 300
    while _backlog(base) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the sequencer did not catch up")
        time.sleep(0.5)


# --- wrk --------------------------------------------------------------------------------------


def _wrk(base: str, load: Load, seconds: int, args: list[str]) -> WrkRun:
    command = ["wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{seconds}s",
               "--timeout", "10s", "-s", str(LUA), base, "--", args[0], args[1],
               str(load.threads), *args[2:]]  # fmt: skip
    run = subprocess.run(command, capture_output=True, timeout=seconds + 120)
    out = run.stdout.decode("utf-8", errors="replace")
    if run.returncode != 0:
        raise RuntimeError(f"wrk failed: {run.stderr.decode(errors='replace')[-500:]}")
    return WrkRun.parse(next(line for line in reversed(out.splitlines()) if line.startswith("{")))


def _measure(base: str, load: Load, args: list[str]) -> Result:
    """A warm-up run, then the measured one; both must answer 2xx only."""
    problems: list[str] = []
    ok = 0
    for run, seconds in ((0, load.warmup), (1, load.seconds)):
        if seconds <= 0:
            continue
        measured = _wrk(base, load, seconds, [args[0], str(run), *args[1:]])
        ok += sum(n for status, n in measured.statuses.items() if 200 <= status < 300)
        bad = {status: n for status, n in measured.statuses.items() if not 200 <= status < 300}
        if bad:
            problems.append(f"answers not 2xx: {bad}, e.g. {measured.samples[:1]}")
        if measured.socket_errors or measured.timeouts:
            problems.append(f"{measured.socket_errors} socket errors, {measured.timeouts} timeouts")
        if measured.wrapped:
            problems.append("a wrk thread ran out of distinct scans: raise BENCH_HTTP_PEOPLE")
    rate = measured.requests / measured.seconds
    return Result(rate, measured.p50_ms, measured.p99_ms, ok, problems)


# --- the runs ---------------------------------------------------------------------------------


def _trivial(folder: Path, load: Load) -> dict[str, Result]:
    port = free_port()
    command = [sys.executable, "-m", "bench.trivial_app", "--port", str(port)]
    with _serving(command, dict(os.environ), port, "/ping", folder / "trivial.log") as base:
        return {"trivial async": _measure(base, load, ["get", "/ping"]),
                "trivial sync": _measure(base, load, ["get", "/ping-sync"])}  # fmt: skip


def _healthcode(city: City, load: Load, report: Report) -> dict[str, Result]:
    port = free_port()
    env = {**city.env, "HOST": "127.0.0.1", "PORT": str(port)}
    tokens = city.token_file(ttl=timedelta(hours=2))
    results: dict[str, Result] = {}
    with _serving([str(BIN), "serve"], env, port, "/healthz", city.folder / "server.log") as base:
        _settled(base)
        results["status"] = _measure(base, load, ["status", "/api/v1/me/status", str(tokens)])
        before = city.scan_counts()
        # Codes signed now for every window the two runs reach, with a margin for start-up.
        codes = city.code_file(load.warmup + load.seconds + 60)
        interval = str(int(city.interval.total_seconds()))
        scan = _measure(base, load, ["scan", "/api/v1/scans", str(tokens), str(codes), interval])
    after = city.scan_counts()
    proven = after.get("proven", 0) - before.get("proven", 0)
    unverified = after.get("unverified", 0) - before.get("unverified", 0)
    problems = list(scan.problems)
    # wrk does not count answers still on their way when a run ends, the store does.
    if proven < scan.ok or unverified:
        problems.append(f"{scan.ok} scans answered 2xx, {proven} stored as proven visits, "
                        f"{unverified} as unverified")  # fmt: skip
    results["scan"] = Result(scan.rate, scan.p50_ms, scan.p99_ms, scan.ok, problems)
    report.measure(f"scans stored as proven visits ({city.kind})", proven)
    checked = city.self_check()
    if checked:
        report.fail(f"{city.kind}: log self-check after the load: {checked[:3]}")
    return results


def _record(report: Report, kind: str, results: dict[str, Result]) -> None:
    trivial = results["trivial async"].rate
    for label, result in results.items():
        name = f"{label} ({kind})"
        report.measure(f"{name} throughput", result.rate, "/s")
        report.measure(f"{name} p50", result.p50_ms, "ms")
        report.measure(f"{name} p99", result.p99_ms, "ms")
        if not label.startswith("trivial"):
            report.goals[f"{name} p99"] = f"< {P99_GOAL_MS:g}"
        for problem in result.problems:
            report.fail(f"{name}: {problem}")
    report.ratio(f"status vs trivial async ({kind})", results["status"].rate, trivial)
    report.ratio(f"scan vs trivial async ({kind})", results["scan"].rate, trivial,
                 f">= {SCAN_GOAL:g}")  # fmt: skip
    report.ratio(f"scan vs trivial sync ({kind})", results["scan"].rate,
                 results["trivial sync"].rate)  # fmt: skip


def _table(console: Console, kind: str, results: dict[str, Result], load: Load) -> None:
    table = Table(
        title=f"HTTP load ({kind}): {load.connections} connections, {load.threads} wrk threads, "
        f"{load.seconds} s after {load.warmup} s warm-up",
        title_justify="left",
    )
    for column in ("endpoint", "requests/s", "p50 ms", "p99 ms", "vs trivial async", "goal"):
        table.add_column(column, justify="left" if column in ("endpoint", "goal") else "right")
    trivial = results["trivial async"].rate
    for label, result in results.items():
        goal = (f">= {SCAN_GOAL:g}×, p99 < {P99_GOAL_MS:g} ms" if label == "scan"
                else f"p99 < {P99_GOAL_MS:g} ms" if label == "status" else "")  # fmt: skip
        table.add_row(label, f"{result.rate:,.0f}", f"{result.p50_ms:.1f}",
                      f"{result.p99_ms:.1f}", f"{result.rate / trivial:.2f}", goal)  # fmt: skip
    console.print(table)


def run(report: Report, console: Console) -> None:
    if shutil.which("wrk") is None:
        report.fail("wrk is not installed: `make bench` installs it as root (apt-get install wrk)")
        return
    load = _load()
    people = env_int("BENCH_HTTP_PEOPLE", 4_000)
    console.print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for kind in ("sqlite", "postgres"):
        if kind == "postgres" and not postgres_reachable():
            console.print(f"[yellow]postgres not reachable at {POSTGRES}: skipped[/]")
            continue
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            with demo_city(kind, folder, people) as city:
                console.print(f"{kind}: demo city of {len(city.people):,} people and "
                              f"{len(city.venues)} venues built in {city.build_seconds:.0f} s")  # fmt: skip
                results = _trivial(folder, load)
                results.update(_healthcode(city, load, report))
            _record(report, kind, results)
            _table(console, kind, results, load)
