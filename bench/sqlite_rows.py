"""Evidence rows into SQLite: `store.sqlite_rows` against the driver's ways of binding them.

Rows as intake makes them (``store.evidence.evidence_rows`` of validated records: ids and
areas as text, instants as integers, a test's method and result as str enums, seven empty
columns, the record's canonical bytes), ``BENCH_SQLITE_ROWS_BATCH`` (1,000) a transaction,
``BENCH_SQLITE_ROWS_BATCHES`` (30) batches, into the evidence table with its indexes on a fresh
file with the store's settings (``store.database.Database``). Three ways, interleaved batch by
batch:

* ``executemany`` (the peer): one INSERT a row, every value bound as it is;
* many ``VALUES`` a statement (500 rows), every value bound as it is: how intake inserted
  before ``store.sqlite_rows``;
* ``store.sqlite_rows``: the same statements, with empty columns written as NULL and values
  bound as the plain types the driver binds without its adapter lookup.

The stored rows of the three are checked to be the same.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.harness import Report, env_int
from healthcode.domain.canonical import canonical_each
from healthcode.domain.evidence import parse_evidence_all
from healthcode.store import sqlite_rows
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.evidence import ROW_COLUMNS, evidence_rows

NAME = "sqlite_rows"
AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
PER_STATEMENT = 500

Rows = Sequence[tuple[Any, ...]]


def _batch(number: int, size: int) -> list[tuple[Any, ...]]:
    records = [
        {"record_id": f"r{number}-{i}", "kind": "test_result", "person": f"{number * size + i:032x}",
         "area": "410102", "occurred_at": (AT - timedelta(hours=3)).isoformat(), "method": "pcr",
         "result": "positive" if i % 100 == 99 else "negative"}
        for i in range(size)
    ]  # fmt: skip
    parsed = parse_evidence_all(records, source_id="lab-1", received_at=AT)
    assert parsed is not None
    return evidence_rows(zip(parsed, canonical_each(records), records, strict=True), f"b{number}")


def _executemany(driver: Any, rows: Rows) -> None:
    marks = ", ".join("?" * len(ROW_COLUMNS))
    driver.executemany(f"INSERT INTO evidence ({', '.join(ROW_COLUMNS)}) VALUES ({marks})", rows)


def _values_as_they_are(driver: Any, rows: Rows) -> None:
    marks = "(" + ", ".join("?" * len(ROW_COLUMNS)) + ")"
    many = f"INSERT INTO evidence ({', '.join(ROW_COLUMNS)}) VALUES " + ", ".join(
        [marks] * PER_STATEMENT
    )
    whole = len(rows) - len(rows) % PER_STATEMENT
    for start in range(0, whole, PER_STATEMENT):
        driver.execute(many, tuple(chain.from_iterable(rows[start : start + PER_STATEMENT])))
    if whole < len(rows):
        _executemany(driver, rows[whole:])


def _ours(driver: Any, rows: Rows) -> None:
    for insert in sqlite_rows.inserts(
        "evidence", ROW_COLUMNS, rows, max_rows=PER_STATEMENT, max_parameters=32766
    ):
        (driver.executemany if insert.many else driver.execute)(insert.statement, insert.parameters)


WAYS: dict[str, Callable[[Any, Rows], None]] = {
    "executemany": _executemany,
    "many VALUES, values as they are": _values_as_they_are,
    "store.sqlite_rows": _ours,
}


def _stored(db: Database) -> list[tuple[Any, ...]]:
    columns = ", ".join(f"typeof({name}), {name}" for name in ROW_COLUMNS)
    with db.read() as conn:
        query = f"SELECT {columns} FROM {t.evidence.name} ORDER BY source_id, record_id"
        return [tuple(row) for row in conn.exec_driver_sql(query)]


def run(report: Report, console: Console) -> None:
    size, count = env_int("BENCH_SQLITE_ROWS_BATCH", 1000), env_int("BENCH_SQLITE_ROWS_BATCHES", 30)
    console.print(f"sqlite_rows: {count} batches of {size} evidence rows, three ways")
    batches = [_batch(number, size) for number in range(count + 1)]
    seconds = dict.fromkeys(WAYS, 0.0)
    with tempfile.TemporaryDirectory() as folder:
        stores = {
            way: Database(f"sqlite:///{Path(folder) / f'{i}.db'}") for i, way in enumerate(WAYS)
        }
        for db in stores.values():
            db.create_all()
        for number, rows in enumerate(batches):
            for way, insert in WAYS.items():
                raw = stores[way].engine.raw_connection()
                try:
                    driver: Any = raw.driver_connection
                    start = time.perf_counter()
                    driver.execute("BEGIN")
                    insert(driver, rows)
                    driver.execute("COMMIT")
                    if number:  # the first batch warms caches, untimed
                        seconds[way] += time.perf_counter() - start
                finally:
                    raw.close()
        stored = [_stored(db) for db in stores.values()]
        if any(rows != stored[0] for rows in stored[1:]):
            report.fail("the three ways stored different rows")
        for db in stores.values():
            db.dispose()
    rates = {way: report.measure(way, count * size / seconds[way], "rows/s") for way in WAYS}
    peer = rates["executemany"]
    for way in list(WAYS)[1:]:
        report.ratio(f"{way} / executemany", rates[way], peer)
    report.ratio(
        "store.sqlite_rows / many VALUES as they are",
        rates["store.sqlite_rows"],
        rates["many VALUES, values as they are"],
    )
