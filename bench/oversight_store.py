"""The oversight fixture in a store: built once into a cached SQLite file, copied into
PostgreSQL by ``COPY`` (see ``bench.oversight_city`` for what it holds)."""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Table, create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from bench import sqlite_city
from bench.city import generate
from bench.oversight_acts import add_appeals, add_designations, add_orders
from bench.oversight_city import (
    CACHE,
    CHUNK,
    TABLES,
    VERSION,
    Fixture,
    Params,
    add_authorities_staff_sources,
    add_households,
    name_cases,
    plant_evidence,
)
from healthcode.store import tables as t
from healthcode.store.database import Database


def build(params: Params, say: Callable[[str], None] = print) -> Fixture:
    """The whole fixture in memory (columns for evidence, rows for the rest)."""
    started = time.perf_counter()
    city = generate(params.people, params.days, seed=params.seed,
                    second_visits=params.second_visits)  # fmt: skip
    say(f"  generated {len(city.columns):,} evidence rows in {time.perf_counter() - started:.0f} s")
    rng = np.random.default_rng([params.seed, 8])
    fixture = Fixture(city, {})
    counter = itertools.count()
    officials = add_authorities_staff_sources(fixture, city)
    add_households(fixture, city, rng)
    # Planted evidence goes into the columns first: orders and appeals cite it.
    planted = plant_evidence(fixture, params, rng, officials)
    name_cases(fixture)
    add_orders(fixture, rng, officials, counter, planted)
    add_designations(fixture, params, rng, officials, counter)
    add_appeals(fixture, params, rng, officials, counter, planted)
    return fixture


# --- SQLite --------------------------------------------------------------------------------


def _schema_digest() -> str:
    engine = create_engine("sqlite://")
    ddl = [str(CreateTable(table).compile(engine)) for table in TABLES]
    ddl += [str(CreateIndex(index).compile(engine)) for table in TABLES
            for index in sorted(table.indexes, key=lambda i: str(i.name))]  # fmt: skip
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()


def fixture_path(params: Params) -> Path:
    key = json.dumps({**params.key(), "generator": sqlite_city.GENERATOR_VERSION,
                      "oversight": VERSION, "schema": _schema_digest()}, sort_keys=True)  # fmt: skip
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return CACHE / f"oversight-{params.people}-{params.days}-{digest}.db"


def ensure_sqlite(params: Params, say: Callable[[str], None] = print) -> tuple[Path, bool]:
    """The cached SQLite file for these parameters, built first if missing; and whether it
    was built now."""
    path = fixture_path(params)
    if path.exists():
        say(f"SQLite fixture (cached): {path}")
        return path, False
    CACHE.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    say(f"building the oversight fixture {path}")
    fixture = build(params, say)
    write_sqlite(fixture, building, say)
    building.rename(path)
    return path, True


def write_sqlite(fixture: Fixture, path: Path, say: Callable[[str], None]) -> None:
    db = Database(f"sqlite:///{path}")
    db.create_all()
    db.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    for table in TABLES:
        for index in table.indexes:
            con.execute(f"DROP INDEX {index.name}")
    con.execute("BEGIN")
    # areas, the zz-health authority and persons as the recompute fixture writes them
    sqlite_city._areas_and_people(con, fixture.city)
    for table in TABLES:
        if table.name in fixture.rows:
            _insert(con, table, fixture.rows[table.name])
    started = time.perf_counter()
    columns = sqlite_city._evidence_columns()
    sql = f"INSERT INTO evidence ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    written = 0
    for rows in evidence_rows(fixture, columns):
        con.executemany(sql, rows)
        written += len(rows)
        if written % 5_000_000 < sqlite_city._CHUNK:
            say(f"  {written:,} evidence rows ({time.perf_counter() - started:.0f} s)")
    con.execute("COMMIT")
    say(f"  {written:,} evidence rows; building indexes")
    engine = create_engine(f"sqlite:///{path}")
    for table in TABLES:
        for index in table.indexes:
            index.create(engine)
    engine.dispose()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def _insert(con: sqlite3.Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    names = [c.name for c in table.columns if c.name in rows[0]]
    sqlite_city._check_filled(table, dict.fromkeys(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    con.executemany(sql, [tuple(row[n] for n in names) for row in rows])


def evidence_rows(fixture: Fixture, columns: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    """The recompute fixture's evidence rows (``sqlite_city``), close contacts naming their
    case (in ``case_ref`` and in the canonical bytes)."""
    at_ref, at_canonical = columns.index("case_ref"), columns.index("canonical")
    contacts = np.array(sorted(fixture.case_refs), dtype=np.int64)
    start = 0
    for rows in sqlite_city._evidence_rows(fixture.city, columns):
        end = start + len(rows)
        lo, hi = np.searchsorted(contacts, [start, end])
        for row in contacts[lo:hi].tolist():
            ref = fixture.case_refs[row]
            values = list(rows[row - start])
            values[at_ref] = ref
            values[at_canonical] = values[at_canonical].replace(
                b'"case_ref":"case"', f'"case_ref":"{ref}"'.encode()
            )
            rows[row - start] = tuple(values)
        yield rows
        start = end


# --- PostgreSQL ----------------------------------------------------------------------------


def load_postgres(sqlite_path: Path, db: Database, say: Callable[[str], None] = print) -> None:
    """Copy every table of the SQLite fixture into ``db`` (a schema with every table created)
    by binary ``COPY``; the evidence table's key and indexes are built after its rows, then every
    table is vacuumed and analysed."""
    source = sqlite3.connect(sqlite_path)
    source.execute("PRAGMA cache_size=-262144")
    raw = db.engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert pg is not None
        pg.execute("SET maintenance_work_mem = '512MB'")
        pg.execute("SET synchronous_commit = off")
        for index in t.evidence.indexes:
            pg.execute(f"DROP INDEX {index.name}")
        pg.execute("ALTER TABLE evidence DROP CONSTRAINT pk_evidence")
        pg.commit()
        for table in TABLES:
            started = time.perf_counter()
            count = _copy(source, pg, table, db)
            pg.commit()
            if count > 100_000:
                say(f"  {table.name}: {count:,} rows ({time.perf_counter() - started:.0f} s)")
        started = time.perf_counter()
        # The partitioned layout's key (store/partitions.py). The rows all sit in the default
        # partition, and evidence_ids stays empty: the detectors read neither difference.
        pg.execute(
            "ALTER TABLE evidence ADD CONSTRAINT pk_evidence "
            "PRIMARY KEY (source_id, record_id, received_at)"
        )
        for index in t.evidence.indexes:
            pg.execute(str(CreateIndex(index).compile(dialect=db.engine.dialect)))
        pg.commit()
        say(f"  evidence key and indexes ({time.perf_counter() - started:.0f} s)")
        started = time.perf_counter()
        pg.autocommit = True
        for table in TABLES:
            pg.execute(f"VACUUM ANALYZE {table.name}")
        say(f"  VACUUM ANALYZE ({time.perf_counter() - started:.0f} s)")
    finally:
        raw.close()
        source.close()


def _copy(source: sqlite3.Connection, pg: Any, table: Table, db: Database) -> int:
    """One table from SQLite to PostgreSQL by binary ``COPY`` (SQLite's booleans are 0 and 1:
    made booleans)."""
    names = [c.name for c in table.columns]
    types = []
    for column in table.columns:
        name = str(column.type.compile(dialect=db.engine.dialect)).lower()
        types.append("text" if name.startswith("varchar") else name)
    flags = [i for i, name in enumerate(types) if name == "boolean"]
    cursor = source.execute(f"SELECT {', '.join(names)} FROM {table.name}")
    count = 0
    with (
        pg.cursor() as out,
        out.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        while rows := cursor.fetchmany(CHUNK):
            if flags:
                rows = [_booleans(row, flags) for row in rows]
            for row in rows:
                copy.write_row(row)
            count += len(rows)
    return count


def _booleans(row: tuple[Any, ...], flags: list[int]) -> tuple[Any, ...]:
    if all(row[i] is None for i in flags):
        return row
    values = list(row)
    for i in flags:
        if values[i] is not None:
            values[i] = bool(values[i])
    return tuple(values)
