"""Oversight: every registered detector over a city, on SQLite and on PostgreSQL.

1. The fixture (``bench.oversight_city``): a city of ``BENCH_OVERSIGHT_PEOPLE`` people
   (default 1,000,000) over ``BENCH_OVERSIGHT_DAYS`` days (default 30) with more than one
   venue visit a person a day (over 30,000,000 at full size), households, orders citing their
   evidence, designations, appeals, staff, sources and a few planted abuses. Written into a
   SQLite file once and cached (its build time is printed and measured when it is built);
   copied into a throwaway PostgreSQL schema by ``COPY`` on every run (the load is measured).
   ``BENCH_OVERSIGHT_PG_SCHEMA=name`` keeps that schema instead (reused while it holds this
   fixture; drop it yourself).
2. For each backend (``BENCH_OVERSIGHT_BACKENDS``, default ``sqlite,postgres``), in a child
   process of its own so that its peak memory is the detectors': open the store, run every
   detector of the ``healthcode.detectors`` entry points over the ``days`` before the end of
   the period, one after the other in one read transaction. Wall and CPU seconds in total and
   per detector, the child's peak RSS, the number of findings per detector; on PostgreSQL also
   the server backend's CPU seconds and peak RSS (from ``/proc``, when readable), which the
   child's own figures leave out. The goals: under 600 s and under 8 GiB.
3. Both backends hold the same rows, so their findings must be the same: a difference fails
   the benchmark.

There is no peer for detectors, so this benchmark reports no ratios.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import create_engine, text
from tests.pg_schema import schema_database

from bench.harness import Report, env_int, peak_rss_self, postgres_reachable, run_child, timed
from bench.oversight_city import TABLES, Params, params_from_env
from bench.oversight_store import ensure_sqlite, load_postgres

NAME = "oversight"
GIB = 1 << 30
POSTGRES = os.environ.get(
    "HEALTHCODE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOAL_SECONDS = "< 600 s"
GOAL_MEMORY = "< 8 GiB"


# --- the parent -----------------------------------------------------------------------------


def _counts(path: Path) -> dict[str, int]:
    """Row counts of the fixture (kept beside the file: counting 30,000,000 rows takes a while)."""
    saved = path.with_suffix(".counts.json")
    if saved.exists():
        counts: dict[str, int] = json.loads(saved.read_text())
        return counts
    import sqlite3

    con = sqlite3.connect(path)
    counts = {table.name: con.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
              for table in TABLES}  # fmt: skip
    counts["venue visits"] = con.execute(
        "SELECT count(*) FROM evidence WHERE kind = 'venue_visit'"
    ).fetchone()[0]
    con.close()
    saved.write_text(json.dumps(counts))
    return counts


def _child(
    report: Report, console: Console, backend: str, url: str, schema: str, params: Params
) -> dict[str, Any]:
    console.print(f"running the detectors on {backend}")
    child = run_child(
        "bench.oversight", ["child", url, schema, params.now.isoformat(), str(params.days)]
    )
    out = child.output
    report.measure(f"{backend}: detectors", out["seconds"], "s")
    report.goals[f"{backend}: detectors"] = GOAL_SECONDS
    report.measure(f"{backend}: detectors CPU (client)", out["cpu_seconds"], "s")
    report.measure(f"{backend}: child wall (start-up included)", child.seconds, "s")
    report.measure(f"{backend}: peak RSS", child.peak_rss / GIB, "GiB")
    report.goals[f"{backend}: peak RSS"] = GOAL_MEMORY
    if "server_peak_rss" in out:
        report.measure(f"{backend}: server backend peak RSS", out["server_peak_rss"] / GIB, "GiB")
    if "server_cpu_seconds" in out:
        report.measure(f"{backend}: server backend CPU", out["server_cpu_seconds"], "s")
    for name, run in out["detectors"].items():
        report.measure(f"{backend}: {name}", run["seconds"], "s")
        report.measure(f"{backend}: {name} findings", run["findings"])
        if "timed_out" in run:
            report.fail(f"{backend}: {name} was interrupted after {run['timed_out']} s "
                        "(BENCH_OVERSIGHT_DETECTOR_TIMEOUT): the total is a lower bound")  # fmt: skip
    slowest = max(out["detectors"].items(), key=lambda item: item[1]["seconds"], default=None)
    if slowest is not None:
        console.print(f"{backend}: slowest detector {slowest[0]} ({slowest[1]['seconds']:.1f} s)")
    return dict(out["detectors"])


def _postgres(report: Report, console: Console, sqlite_path: Path, params: Params) -> Any:
    """Run on PostgreSQL: in a fresh schema, or in the kept one named by the environment."""
    kept = os.environ.get("BENCH_OVERSIGHT_PG_SCHEMA")
    if not kept:
        with schema_database(POSTGRES, "bench_oversight") as db:
            _, seconds = timed(lambda: load_postgres(sqlite_path, db, console.print))
            console.print(f"PostgreSQL load: {seconds:.0f} s")
            report.measure("PostgreSQL load (COPY, indexes, VACUUM ANALYZE)", seconds, "s")
            with db.engine.connect() as conn:
                schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
            return _child(report, console, "postgres", POSTGRES, str(schema), params)
    from healthcode.store.database import Database

    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    marker = sqlite_path.name
    with admin.connect() as conn:
        found = conn.execute(
            text(
                "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = :s"
            ),
            {"s": kept},
        ).first()
        if found is None or found[0] != marker:
            console.print(f"loading the kept PostgreSQL schema {kept}")
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{kept}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{kept}"'))
            db = Database(POSTGRES, connect_args={"options": f"-csearch_path={kept}"})
            db.create_all()
            _, seconds = timed(lambda: load_postgres(sqlite_path, db, console.print))
            db.dispose()
            report.measure("PostgreSQL load (COPY, indexes, VACUUM ANALYZE)", seconds, "s")
            console.print(f"PostgreSQL load: {seconds:.0f} s")
            conn.execute(text(f"COMMENT ON SCHEMA \"{kept}\" IS '{marker}'"))
        else:
            console.print(f"PostgreSQL schema {kept} (kept, already loaded)")
    admin.dispose()
    return _child(report, console, "postgres", POSTGRES, kept, params)


def run(report: Report, console: Console) -> None:
    from healthcode.oversight.api import load_detectors

    params = params_from_env()
    backends = os.environ.get("BENCH_OVERSIGHT_BACKENDS", "sqlite,postgres").split(",")
    detectors = [d.name for d in load_detectors()]
    console.print(
        f"oversight: {params.people:,} people over {params.days} days; detectors: "
        f"{', '.join(detectors) or 'none registered'}"
    )
    if not detectors:
        report.fail("no detector is registered under healthcode.detectors")
    (path, built), seconds = timed(lambda: ensure_sqlite(params, console.print))
    console.print(f"SQLite fixture {'built' if built else 'ready'} in {seconds:.0f} s: {path}")
    if built:
        report.measure("SQLite fixture build", seconds, "s")
    counts = _counts(path)
    report.measure("people", params.people)
    report.measure("days", params.days)
    for name in ("venue visits", "evidence", "orders", "order_evidence", "households",
                 "designations", "appeals"):  # fmt: skip
        report.measure(f"fixture: {name}", counts[name], "rows")
    report.measure("SQLite file size", path.stat().st_size / GIB, "GiB")
    found: dict[str, dict[str, Any]] = {}
    if "sqlite" in backends:
        found["sqlite"] = _child(report, console, "sqlite", f"sqlite:///{path}", "-", params)
    if "postgres" in backends:
        if postgres_reachable(POSTGRES):
            found["postgres"] = _postgres(report, console, path, params)
        else:
            console.print(f"[yellow]PostgreSQL is not reachable at {POSTGRES}: skipped[/]")
    if len(found) == 2:
        for name in detectors:
            a, b = found["sqlite"].get(name), found["postgres"].get(name)
            if a is None or b is None or "timed_out" in a or "timed_out" in b:
                continue
            if a["digest"] != b["digest"]:
                report.fail(f"{name}: SQLite and PostgreSQL findings differ "
                            f"({a and a['findings']} and {b and b['findings']})")  # fmt: skip
        if not report.failures:
            console.print("both backends found the same findings")
    for backend in found:
        for measure, goal in ((f"{backend}: detectors", 600), (f"{backend}: peak RSS", 8)):
            if report.measures[measure] >= goal:
                console.print(f"[yellow]{measure}: {report.measures[measure]:.1f}, goal {goal}[/]")


# --- the child ------------------------------------------------------------------------------


def _proc_status(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _digest(findings: list[Any]) -> str:
    key = [[f.subject, f.window_from.isoformat(), f.window_to.isoformat(), list(f.records),
            round(f.score, 6)] for f in findings]  # fmt: skip
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


class _Deadline:
    """Interrupts the running statement when a detector overruns its time: SQLite's
    ``interrupt()``, PostgreSQL's cancel request (both may be called from another thread)."""

    def __init__(self, conn: Any, seconds: float) -> None:
        driver = conn.connection.driver_connection
        self._stop = driver.interrupt if conn.dialect.name == "sqlite" else driver.cancel
        self.seconds = seconds
        self.fired = False
        self._timer: threading.Timer | None = None

    def __enter__(self) -> _Deadline:
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def _fire(self) -> None:
        self.fired = True
        self._stop()

    def __exit__(self, *exc: object) -> None:
        assert self._timer is not None
        self._timer.cancel()


def child(url: str, schema: str, now: datetime, days: int) -> None:
    """Run every detector (or those of ``BENCH_OVERSIGHT_DETECTORS``) once, in one read
    transaction (a new one after a detector that overran ``BENCH_OVERSIGHT_DETECTOR_TIMEOUT``
    seconds and was interrupted); print one JSON object."""
    from healthcode.oversight.api import load_detectors
    from healthcode.oversight.runner import run_detectors
    from healthcode.store.database import Database

    args = {"options": f"-csearch_path={schema}"} if schema != "-" else None
    db = Database(url, connect_args=args)
    only = os.environ.get("BENCH_OVERSIGHT_DETECTORS")
    detectors = load_detectors(only.split(",") if only else None)
    timeout = env_int("BENCH_OVERSIGHT_DETECTOR_TIMEOUT", 600)
    results: dict[str, dict[str, Any]] = {}
    out: dict[str, Any] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    with db.read() as conn:
        server = None
        if conn.dialect.name == "postgresql":
            server = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        server_start = _proc_cpu(server) if server else None
        for detector in detectors:
            wall, cpu = time.perf_counter(), time.process_time()
            server_cpu = _proc_cpu(server) if server else None
            result: dict[str, Any] = {}
            deadline = _Deadline(conn, timeout)
            try:
                with deadline:
                    [done] = run_detectors(
                        conn, now=now, window=timedelta(days=days), detectors=[detector]
                    )
                result.update(findings=len(done.findings), digest=_digest(done.findings),
                              records=sum(len(f.records) for f in done.findings))  # fmt: skip
            except Exception as error:
                if not deadline.fired:
                    raise
                conn.rollback()
                result.update(findings=-1, digest="", timed_out=timeout, error=str(error)[:200])
            result.update(seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu)
            after = _proc_cpu(server) if server else None
            if after is not None and server_cpu is not None:
                result["server_cpu_seconds"] = after - server_cpu
            results[detector.name] = result
            print(f"{detector.name}: {result['seconds']:.1f} s, {result['findings']} findings"
                  + (" (interrupted)" if "timed_out" in result else ""),
                  file=sys.stderr, flush=True)  # fmt: skip
        if server:
            peak = _proc_status(server, "VmHWM")
            if peak is not None:
                out["server_peak_rss"] = peak
            end = _proc_cpu(server)
            if end is not None and server_start is not None:
                out["server_cpu_seconds"] = end - server_start
    out.update(seconds=time.perf_counter() - start, cpu_seconds=time.process_time() - cpu_start,
               detectors=results, peak_rss=peak_rss_self(),
               maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # fmt: skip
    db.dispose()
    print(json.dumps(out))


if __name__ == "__main__":  # pragma: no cover - python -m bench.oversight [child ...]
    if sys.argv[1:2] == ["child"]:
        url, schema, now, days = sys.argv[2:6]
        child(url, schema, datetime.fromisoformat(now), int(days))
        sys.exit(0)
    from bench.__main__ import main

    started = time.perf_counter()
    code = main(["--only", NAME, *sys.argv[1:]])
    print(f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    sys.exit(code)
