"""Evidence rows into SQLite: `store.sqlite_rows` against the driver's ways of binding them.

Rows as intake makes them (``store.evidence.evidence_rows`` of validated records: ids and
areas as text, instants as integers, a test's method and result as str enums, seven empty
columns, the record's canonical bytes), ``BENCH_SQLITE_ROWS_BATCH`` (1,000) a transaction,
``BENCH_SQLITE_ROWS_BATCHES`` (30) batches, into the evidence table with its indexes on a fresh
file with the store's settings (``store.database.Database``). Twice: batches of test results
(``tests``), and batches with every tenth record a vaccination (``mixed``: a test's columns
empty in those rows, a vaccination's in the others). Three ways, interleaved batch by batch:

* ``executemany`` (the peer): one INSERT a row, every value bound as it is;
* many ``VALUES`` a statement (500 rows), every value bound as it is: how intake inserted
  before ``store.sqlite_rows``;
* ``store.sqlite_rows``: the same statements, with columns empty in every row written as NULL
  and values bound as the plain types the driver binds without its adapter lookup.

The stored rows of the three are checked to be the same.
"""

from __future__ import annotations

import sqlite3
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


def _batch(number: int, size: int, mixed: bool) -> list[tuple[Any, ...]]:
    """A batch of test results; ``mixed``: every tenth record a vaccination (other columns
    empty)."""
    at = (AT - timedelta(hours=3)).isoformat()
    records: list[dict[str, Any]] = []
    for i in range(size):
        person = f"{number * size + i:032x}"
        record: dict[str, Any] = {
            "record_id": f"r{number}-{i}", "person": person, "area": "410102", "occurred_at": at
        }  # fmt: skip
        if mixed and i % 10 == 9:
            record |= {"kind": "vaccination", "vaccine": "BBIBP-CorV", "dose": 2}
        else:
            result = "positive" if i % 100 == 99 else "negative"
            record |= {"kind": "test_result", "method": "pcr", "result": result}
        records.append(record)
    parsed = parse_evidence_all(records, source_id="lab-1", received_at=AT)
    assert parsed is not None
    rows: list[tuple[Any, ...]] = evidence_rows(
        zip(parsed, canonical_each(records), records, strict=True), f"b{number}"
    )
    return rows


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
    """As ``store.evidence.insert_sqlite`` does it, on the driver."""
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    for insert in sqlite_rows.inserts(
        "evidence", ROW_COLUMNS, rows, max_rows=PER_STATEMENT, max_parameters=limit
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


def _rates(report: Report, label: str, batches: list[list[tuple[Any, ...]]]) -> dict[str, float]:
    """Rows/s of each way over ``batches`` (the first untimed), interleaved batch by batch."""
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
            report.fail(f"{label}: the three ways stored different rows")
        for db in stores.values():
            db.dispose()
    timed = sum(map(len, batches[1:]))
    return {way: report.measure(f"{label}: {way}", timed / seconds[way], "rows/s") for way in WAYS}


def run(report: Report, console: Console) -> None:
    size, count = env_int("BENCH_SQLITE_ROWS_BATCH", 1000), env_int("BENCH_SQLITE_ROWS_BATCHES", 30)
    for label, mixed in (("tests", False), ("mixed", True)):
        console.print(f"sqlite_rows: {count} batches of {size} evidence rows ({label}), three ways")
        batches = [_batch(number, size, mixed) for number in range(count + 1)]
        rates = _rates(report, label, batches)
        ours, peer = rates["store.sqlite_rows"], rates["executemany"]
        report.ratio(f"{label}: store.sqlite_rows / executemany", ours, peer)
        report.ratio(
            f"{label}: store.sqlite_rows / many VALUES as they are",
            ours,
            rates["many VALUES, values as they are"],
        )
