"""Evidence ingestion through the service against a raw insert of the same rows.

For each store (SQLite in a temporary file; PostgreSQL if reachable, ``BENCH_POSTGRES`` or the
test suite's URL, in throwaway schemas), two stores with the project's schema and indexes:

* ours: ``Intake.submit`` of signed batches of ``BENCH_INGEST_BATCH`` test results (default
  1,000, the policy's maximum), each about a different person, 1 % positive. Everything intake
  does is timed: the signature and record checks, RFC 8785 encoding, the Merkle root, the log
  entry, the rows, and the status changes the records cause (with their log entries), one
  transaction per batch;
* raw: the same rows (the tuples intake stored, read back from its store before timing) inserted
  by the driver alone, one transaction per batch: ``executemany`` on SQLite, ``COPY`` on
  PostgreSQL, there into the same layout (the day's partition made before timing, as the
  ticker makes it ahead) with the same keys claimed in ``evidence_ids`` by a second ``COPY``.

The two run interleaved, batch by batch, for ``BENCH_INGEST_BATCHES`` batches (default 20), so
both stores grow alike and share the machine's state. Rates are rows per second over all
batches; the goal (issue #11): ours at least half of raw on each store.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import select
from tests.pg_schema import schema_database
from tests.town import Town

from bench.harness import Report, env_int, postgres_reachable
from healthcode.bootstrap import build
from healthcode.services.clock import FixedClock
from healthcode.settings import Settings
from healthcode.store import partitions
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.evidence import ROW_COLUMNS
from healthcode.store.instants import to_micros

NAME = "ingest"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
POSTGRES = os.environ.get(
    "BENCH_POSTGRES",
    os.environ.get("HEALTHCODE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
GOAL = ">= 0.5"


@contextmanager
def _stores(kind: str) -> Iterator[tuple[Database, Database] | None]:
    """Two empty stores with the schema: the service's and the raw one's."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            ours = Database(f"sqlite:///{Path(folder) / 'ours.db'}")
            raw = Database(f"sqlite:///{Path(folder) / 'raw.db'}")
            for db in (ours, raw):
                db.create_all()
            yield ours, raw
            for db in (ours, raw):
                db.dispose()
        return
    if not postgres_reachable(POSTGRES):
        yield None
        return
    with (
        schema_database(POSTGRES, "bench_ingest") as ours,
        schema_database(POSTGRES, "bench_ingest_raw") as raw,
    ):
        yield ours, raw


def _batches(town: Town, count: int, size: int) -> list[dict[str, Any]]:
    at = T0 - timedelta(hours=3)
    batches = []
    for b in range(count):
        records = []
        for r in range(size):
            n = b * size + r
            result = "positive" if n % 100 == 99 else "negative"
            records.append(town.record("test_result", f"{n + 1:032x}", at, method="pcr",
                                       result=result))  # fmt: skip
        batches.append(town.batch("lab-1", records, batch_id=f"bench-{b}"))
    return batches


def _stored_rows(db: Database, batch_id: str) -> list[tuple[Any, ...]]:
    """The rows intake stored for a batch, as the driver takes them (instants as integers)."""
    columns = [t.evidence.c[name] for name in ROW_COLUMNS]
    with db.read() as conn:
        query = select(*columns).where(t.evidence.c.batch_id == batch_id)
        driver_rows = conn.execute(query.order_by(t.evidence.c.position)).all()
    at = {ROW_COLUMNS.index("occurred_at"), ROW_COLUMNS.index("received_at")}
    return [
        tuple(to_micros(v) if i in at else (bytes(v) if isinstance(v, memoryview) else v)
              for i, v in enumerate(row))
        for row in driver_rows
    ]  # fmt: skip


def _raw_insert(db: Database, rows: list[tuple[Any, ...]]) -> None:
    """One transaction: the driver alone, on a connection of the store's pool."""
    names = ", ".join(ROW_COLUMNS)
    raw = db.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if db.engine.dialect.name == "postgresql":
            source, record = ROW_COLUMNS.index("source_id"), ROW_COLUMNS.index("record_id")
            with driver.cursor() as cursor:
                with cursor.copy(f"COPY evidence ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                with cursor.copy("COPY evidence_ids (source_id, record_id) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((row[source], row[record]))
            driver.commit()
        else:
            # The store's connections run SQLite in autocommit mode (the store begins its own
            # transactions): one explicit transaction, with the store's durability settings.
            marks = ", ".join("?" * len(ROW_COLUMNS))
            driver.execute("BEGIN")
            driver.executemany(f"INSERT INTO evidence ({names}) VALUES ({marks})", rows)
            driver.execute("COMMIT")
    finally:
        raw.close()


def _run_store(report: Report, console: Console, kind: str, count: int, size: int) -> None:
    with _stores(kind) as stores:
        if stores is None:
            console.print(f"[yellow]PostgreSQL is not reachable at {POSTGRES}: skipped[/]")
            return
        ours_db, raw_db = stores
        with tempfile.TemporaryDirectory() as folder:
            clock = FixedClock(T0)
            settings = Settings(database_url=ours_db.url, data_dir=Path(folder))
            services = build(settings, clock=clock, db=ours_db, migrate=False)
            town = Town.register(services, clock)
            batches = _batches(town, count + 1, size)
            # One untimed batch first: connections, caches and the rulebook are warm.
            services.intake.submit(batches[0], now=T0)
            if kind == "postgres":
                with raw_db.write() as conn:
                    partitions.ensure_ahead(conn, T0)
            _raw_insert(raw_db, _stored_rows(ours_db, "bench-0"))
            ours_seconds = raw_seconds = 0.0
            changes = 0
            for batch in batches[1:]:
                start = time.perf_counter()
                receipt = services.intake.submit(batch, now=T0)
                ours_seconds += time.perf_counter() - start
                if receipt.accepted != size:
                    report.fail(f"{kind}: intake accepted {receipt.accepted} of {size} records")
                changes += receipt.status_changes
                rows = _stored_rows(ours_db, batch["batch_id"])
                start = time.perf_counter()
                _raw_insert(raw_db, rows)
                raw_seconds += time.perf_counter() - start
            rows_total = count * size
            ours = report.measure(f"{kind}: ours (service)", rows_total / ours_seconds, "rows/s")
            raw = report.measure(f"{kind}: raw {'COPY' if kind == 'postgres' else 'executemany'}",
                                 rows_total / raw_seconds, "rows/s")  # fmt: skip
            report.measure(f"{kind}: status changes caused", changes)
            report.ratio(f"{kind}: ours / raw", ours, raw, goal=GOAL)
            if ours / raw < 0.5:
                console.print(f"[yellow]{kind}: ours is {ours / raw:.2f} of raw, goal {GOAL}[/]")


def run(report: Report, console: Console) -> None:
    count, size = env_int("BENCH_INGEST_BATCHES", 20), env_int("BENCH_INGEST_BATCH", 1000)
    report.measure("rows per batch", size)
    report.measure("batches timed", count)
    for kind in ("sqlite", "postgres"):
        console.print(f"ingest: {count} batches of {size} on {kind}")
        _run_store(report, console, kind, count, size)
