"""The generated city written into a SQLite file with the project's schema, cached.

``Database(url).create_all()`` makes the schema; the evidence rows (with their canonical
bytes, as intake stores them), the people, areas and designations go in with bulk inserts
(the evidence table's secondary indexes are dropped for the load and built after, which is
how a bulk import would do it too). Orders and set-asides have no tables in the store yet:
each run saves them next to the file for the measured child to read.

The file is cached under ``BENCH_CACHE`` (default ``/tmp/healthcode-bench``), keyed by the
city's parameters, the generator's version and the schema, so reruns start at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.dtypes import StringDType
from numpy.typing import NDArray
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from bench.city import City
from bench.city_frame import DAY
from healthcode.domain.bulk_columns import ATTRIBUTES, KINDS, to_micros
from healthcode.domain.evidence import EvidenceKind
from healthcode.store import tables as t
from healthcode.store.database import Database

GENERATOR_VERSION = 3
CACHE = Path(os.environ.get("BENCH_CACHE", "/tmp/healthcode-bench"))
_CHUNK = 200_000


_WRITTEN = (t.areas, t.authorities, t.venues, t.persons, t.designations, t.evidence)


def _schema_digest() -> str:
    """The schema of the tables the fixture fills (a change elsewhere keeps the cache)."""
    engine = create_engine("sqlite://")
    ddl = [str(CreateTable(table).compile(engine)) for table in _WRITTEN]
    ddl += [str(CreateIndex(index).compile(engine)) for table in _WRITTEN
            for index in sorted(table.indexes, key=lambda i: str(i.name))]  # fmt: skip
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()


def fixture_path(params: dict[str, Any]) -> Path:
    key = json.dumps({**params, "generator": GENERATOR_VERSION, "schema": _schema_digest()},
                     sort_keys=True)  # fmt: skip
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return CACHE / f"city-{params['people']}-{params['days']}-{digest}.db"


def inputs_path(path: Path) -> Path:
    return path.with_suffix(".inputs.pickle")


def ensure(city_of: Callable[[], City], params: dict[str, Any], say: Callable[[str], None]) -> Path:
    """The cached file for these parameters, written first if missing."""
    path = fixture_path(params)
    if path.exists():
        say(f"SQLite fixture (cached): {path}")
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    city = city_of()
    say(f"writing SQLite fixture {path} ({len(city.columns):,} evidence rows)")
    write(city, building, say)
    building.rename(path)
    return path


def inputs_of(city: City) -> dict[str, Any]:
    """What the store has no tables for yet (orders, set-asides), and the instant."""
    return {"orders": city.orders, "set_asides": city.set_asides, "at": city.at}


def save_inputs(path: Path, inputs: dict[str, Any]) -> None:
    with inputs_path(path).open("wb") as out:
        pickle.dump(inputs, out)


def write(city: City, path: Path, say: Callable[[str], None]) -> None:
    db = Database(f"sqlite:///{path}")
    db.create_all()
    db.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    for index in t.evidence.indexes:
        con.execute(f"DROP INDEX {index.name}")
    con.execute("BEGIN")
    _areas_and_people(con, city)
    _designations(con, city)
    columns = _evidence_columns()
    sql = f"INSERT INTO evidence ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    written = 0
    for rows in _evidence_rows(city, columns):
        con.executemany(sql, rows)
        written += len(rows)
        if written % 5_000_000 < _CHUNK:
            say(f"  {written:,} rows")
    con.execute("COMMIT")
    say("  building indexes")
    engine = create_engine(f"sqlite:///{path}")
    for index in t.evidence.indexes:
        index.create(engine)
    engine.dispose()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def _areas_and_people(con: sqlite3.Connection, city: City) -> None:
    codes = {int(a) for a in np.unique(city.columns.area).tolist()} | set(city.home.tolist())
    codes |= {c // 100 * 100 for c in codes} | {c // 10_000 * 10_000 for c in codes}
    con.executemany("INSERT INTO areas (code, name_zh, name_en) VALUES (?, ?, ?)",
                    [(str(c), f"区{c}", f"Area {c}") for c in sorted(codes)])  # fmt: skip
    con.execute(
        "INSERT INTO authorities (id, name_zh, name_en) VALUES ('zz-health', '卫健委', 'Health')"
    )
    registered = to_micros(city.start)
    con.executemany(
        "INSERT INTO persons (person_key, display_name, home_area, registered_at) VALUES (?, ?, ?, ?)",
        ((key, f"居民{n}", str(home), registered)
         for n, (key, home) in enumerate(zip(city.columns.persons, city.home.tolist(), strict=True))),
    )  # fmt: skip


def _designations(con: sqlite3.Connection, city: City) -> None:
    columns = {c.name for c in t.designations.columns}
    for n, d in enumerate(city.designations):
        row: dict[str, Any] = {
            "id": d.id, "area_code": d.area, "venue_id": d.venue_id, "level": str(d.level),
            "valid_from": to_micros(d.valid_from),
            "valid_to": None if d.valid_to is None else to_micros(d.valid_to),
            "authority_id": d.authority_id, "case_count": d.case_count, "basis": d.basis,
            "recorded_at": to_micros(d.recorded_at), "log_index": n,
            "activated_at": to_micros(d.recorded_at),  # counts from then (co-signed or not needed)
        }  # fmt: skip
        row = {k: v for k, v in row.items() if k in columns}
        _check_filled(t.designations, row)
        if d.venue_id is not None:  # the venue a designation names is registered
            con.execute(
                "INSERT OR IGNORE INTO venues (id, name_zh, name_en, area_code, authority_id) "
                "VALUES (?, ?, ?, ?, 'zz-health')", (d.venue_id, d.venue_id, d.venue_id, d.area))  # fmt: skip
        con.execute(f"INSERT INTO designations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))  # fmt: skip


def _check_filled(table: Any, row: dict[str, Any]) -> None:
    for column in table.columns:
        if not column.nullable and column.name not in row and column.default is None:
            raise RuntimeError(f"the bench does not fill {table.name}.{column.name}: update it")


_EVIDENCE_FIELDS = (
    "source_id", "record_id", "batch_id", "position", "person_key", "kind", "area_code",
    "occurred_at", "received_at", "method", "result", "presence", "venue_id",
    "quarantine_required", "vaccine", "dose", "port", "case_ref", "canonical",
)  # fmt: skip


def _evidence_columns() -> list[str]:
    names = [c.name for c in t.evidence.columns]
    _check_filled(t.evidence, dict.fromkeys(_EVIDENCE_FIELDS))
    return [name for name in _EVIDENCE_FIELDS if name in names]


_TEXT = StringDType(na_object=None)


def _strings(values: list[Any] | tuple[Any, ...]) -> NDArray[Any]:
    return np.array(list(values), dtype=_TEXT)


def _evidence_rows(city: City, columns: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    """The rows (in the city's order: by receipt, as intake writes them), in chunks, each
    column built for a whole chunk at a time."""
    c = city.columns
    day = (c.received_at - to_micros(city.start)) // DAY
    batch = c.source.astype(np.int64) * 100_000 + day  # one batch per source and day
    by_batch = np.argsort(batch, kind="stable")
    position = np.empty(len(c), dtype=np.int64)
    position[by_batch] = np.arange(len(c)) - np.searchsorted(
        batch[by_batch], batch[by_batch], side="left"
    )
    del by_batch
    persons, sources = _strings(c.persons), _strings(c.sources)
    venues = _strings([*c.venues, None])  # -1 -> None
    kinds = _strings([str(k) for k in KINDS])
    attribute: dict[str, NDArray[Any]] = {
        name: _strings([None, *(str(v) for v in values)]) for name, values in ATTRIBUTES.items()
    }
    attribute["quarantine_required"] = np.array([None, False, True], dtype=object)
    extras = {name: np.array([_EXTRA.get(str(k), _NO_EXTRA)[i] for k in KINDS], dtype=object)
              for i, name in enumerate(("vaccine", "dose", "port", "case_ref"))}  # fmt: skip
    batches, batch_index = np.unique(batch, return_inverse=True)
    batch_ids = _strings([f"{c.sources[b // 100_000]}-{b % 100_000}" for b in batches.tolist()])
    for start in range(0, len(c), _CHUNK):
        rows = slice(start, start + _CHUNK)
        kind = c.kind[rows]
        record_ids = np.strings.add("e", np.strings.zfill(
            np.arange(start, start + len(kind)).astype(_TEXT), 10))  # fmt: skip
        values: dict[str, Any] = {
            "source_id": sources[c.source[rows]],
            "record_id": record_ids,
            "batch_id": batch_ids[batch_index[rows]],
            "position": position[rows],
            "person_key": persons[c.person[rows]],
            "kind": kinds[kind],
            "area_code": c.area[rows].astype(_TEXT),
            "occurred_at": c.occurred_at[rows],
            "received_at": c.received_at[rows],
            "venue_id": venues[c.venue[rows]],
            **{name: attribute[name][getattr(c, name)[rows]] for name in ATTRIBUTES},
            **{name: extra[kind] for name, extra in extras.items()},
        }
        values["canonical"] = _canonical(values, c.occurred_at[rows], kind)
        yield list(zip(*(values[name].tolist() for name in columns), strict=True))


# vaccine, dose, port, case_ref for the kinds that have them
_NO_EXTRA = (None, None, None, None)
_EXTRA = {
    str(EvidenceKind.VACCINATION): ("CoronaVac", 1, None, None),
    str(EvidenceKind.BORDER_ENTRY): (None, None, "PVG", None),
    str(EvidenceKind.CLOSE_CONTACT): (None, None, None, "case"),
}
# The record as its source submitted it, RFC 8785-canonical: keys sorted, no spaces. Parts
# are literal text or (between braces) a column.
_TEMPLATES = {
    "test_result": '{"area":"{area_code}","kind":"test_result","method":"{method}",'
    '"occurred_at":"{when}","person":"{person_key}","record_id":"{record_id}",'
    '"result":"{result}"}',
    "venue_visit": '{"area":"{area_code}","kind":"venue_visit","occurred_at":"{when}",'
    '"person":"{person_key}","presence":"{presence}","record_id":"{record_id}",'
    '"venue_id":"{venue_id}"}',
    "border_entry": '{"area":"{area_code}","kind":"border_entry","occurred_at":"{when}",'
    '"person":"{person_key}","port":"PVG","quarantine_required":{qr},'
    '"record_id":"{record_id}"}',
    "vaccination": '{"area":"{area_code}","dose":1,"kind":"vaccination","occurred_at":"{when}",'
    '"person":"{person_key}","record_id":"{record_id}","vaccine":"CoronaVac"}',
    "close_contact": '{"area":"{area_code}","case_ref":"case","kind":"close_contact",'
    '"occurred_at":"{when}","person":"{person_key}","record_id":"{record_id}"}',
    "quarantine_completed": '{"area":"{area_code}","kind":"quarantine_completed",'
    '"occurred_at":"{when}","person":"{person_key}","record_id":"{record_id}"}',
    "recovery": '{"area":"{area_code}","kind":"recovery","occurred_at":"{when}",'
    '"person":"{person_key}","record_id":"{record_id}"}',
}
_FIELD = re.compile(r"\{([a-z_]+)\}")


def _canonical(
    values: dict[str, Any], occurred: NDArray[np.int64], kind: NDArray[np.int8]
) -> NDArray[Any]:
    """Every row's canonical bytes, built a template at a time with numpy string ufuncs."""
    when = np.datetime_as_string(occurred.astype("datetime64[us]"), unit="us")
    fields = {
        **values,
        "when": np.strings.add(when.astype(_TEXT), "+00:00"),
        "qr": np.where(values["quarantine_required"] == True, "true", "false"),  # noqa: E712
    }
    out = np.empty(len(kind), dtype=object)
    for code, name in enumerate(str(k) for k in KINDS):
        rows = np.flatnonzero(kind == code)
        if not len(rows):
            continue
        text: Any = ""
        for n, part in enumerate(_FIELD.split(_TEMPLATES[name])):
            piece = part if n % 2 == 0 else fields[part][rows].astype(_TEXT)
            text = np.strings.add(text, piece)
        out[rows] = [line.encode() for line in np.atleast_1d(text).tolist()]
    return out


def load_inputs(path: Path) -> dict[str, Any]:
    with inputs_path(path).open("rb") as source:
        loaded: dict[str, Any] = pickle.load(source)
    return loaded
