"""Rows of evidence and evidence batches, and the inputs of a person's status."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from types import SimpleNamespace
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Row, bindparam, select, tuple_
from sqlalchemy.exc import IntegrityError

from healthcode.domain import evidence as ev
from healthcode.domain.designations import RiskDesignation
from healthcode.store import designations as designations_repo
from healthcode.store import partitions, sqlite_rows
from healthcode.store import tables as t
from healthcode.store.copy import copy_rows
from healthcode.store.instants import from_micros, to_micros
from healthcode.store.keysets import rows_with_keys, text_keys

KIND_FIELDS = (
    "method", "result", "presence", "venue_id", "quarantine_required", "vaccine", "dose",
    "port", "case_ref",
)  # fmt: skip
_CLASSES: dict[str, type[Any]] = {
    ev.EvidenceKind.TEST_RESULT: ev.TestResult,
    ev.EvidenceKind.VACCINATION: ev.Vaccination,
    ev.EvidenceKind.BORDER_ENTRY: ev.BorderEntry,
    ev.EvidenceKind.VENUE_VISIT: ev.VenueVisit,
    ev.EvidenceKind.CLOSE_CONTACT: ev.CloseContact,
    ev.EvidenceKind.QUARANTINE_COMPLETED: ev.QuarantineCompleted,
    ev.EvidenceKind.RECOVERY: ev.Recovery,
}
_FIELDS_OF = {cls: [f for f in KIND_FIELDS if f in cls.model_fields] for cls in _CLASSES.values()}
_ALL_FIELDS = {cls: set(cls.model_fields) for cls in _CLASSES.values()}
_CHUNK = 500  # bound the size of IN lists
# What `to_evidence` reads: not the canonical bytes, which are most of a row.
_INPUT_COLUMNS = [
    t.evidence.c[name]
    for name in ("source_id", "record_id", "person_key", "kind", "area_code", "occurred_at",
                 "received_at", *KIND_FIELDS)
]  # fmt: skip


ROW_COLUMNS = (
    "source_id", "record_id", "batch_id", "position", "person_key", "kind", "area_code",
    "occurred_at", "received_at", *KIND_FIELDS, "canonical",
)  # fmt: skip
"""The columns of `evidence_rows`' tuples, in order."""


_KIND_VALUES = {kind: kind.value for kind in ev.EvidenceKind}


def evidence_rows(
    records: Iterable[tuple[ev.Evidence, bytes, dict[str, Any]]], batch_id: str
) -> list[tuple[Any, ...]]:
    """The rows of a batch's records (evidence, canonical bytes, the record as submitted), at
    positions 0, 1, ... in `ROW_COLUMNS` order, instants as `to_micros`, for `insert_rows`.

    Every column comes from the model's fields as stored in its ``__dict__`` (about four times
    faster than attributes and a call per row), as validation made them: a dose sent as
    ``2.0`` is the int 2 (the submitted value, once stored, failed PostgreSQL's COPY), and a
    test method a `TestMethod`, which is its text. A batch's records share few instants, each
    converted once. The kind's columns are spelt out in `KIND_FIELDS` order, a fifth faster
    than a ``map`` (the rows are checked against rows built column by column from
    `ROW_COLUMNS`).
    """
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    micros: dict[datetime, int] = {}
    for position, (item, canonical, _submitted) in enumerate(records):
        fields = item.__dict__
        occurred_at, received_at = fields["occurred_at"], fields["received_at"]
        occurred = micros.get(occurred_at)
        if occurred is None:
            occurred = micros[occurred_at] = to_micros(occurred_at)
        received = micros.get(received_at)
        if received is None:
            received = micros[received_at] = to_micros(received_at)
        get = fields.get
        append(
            (
                fields["source_id"], fields["record_id"], batch_id, position, fields["person"],
                _KIND_VALUES[fields["kind"]], fields["area"], occurred, received,
                get("method"), get("result"), get("presence"), get("venue_id"),
                get("quarantine_required"), get("vaccine"), get("dose"), get("port"),
                get("case_ref"), canonical,
            )
        )  # fmt: skip
    return rows


class DuplicateRecord(Exception):
    """A record with the same (source, record id) is already stored: nothing was inserted."""


class DuplicateBatch(Exception):
    """The batch row's insert was refused by a key (the caller rolls back, and looks the
    batch up: a batch with the same (source, batch id) is expected, else ``error`` stands)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def insert_rows(conn: Connection, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert evidence rows (tuples in ``columns`` order, instants as `to_micros`).

    Straight to the driver: a batch inserts a thousand rows, and SQLAlchemy's per-row parameter
    processing cost more than the database's own work. On PostgreSQL by COPY, which sends the
    rows as one stream (psycopg's `executemany` still runs one INSERT per row, and that cost
    half as much again as a scan batch's signature checks).

    Raises `DuplicateRecord` if a row's key is taken; the caller rolls back what was written
    (the rows are written under the caller's savepoint or transaction). On PostgreSQL the key
    is claimed in ``evidence_ids`` first, and the day's partition is made if it is missing
    (`store.partitions`).
    """
    if not rows:
        return
    try:
        if conn.dialect.name == "postgresql":
            received, source, record = (
                columns.index(name) for name in ("received_at", "source_id", "record_id")
            )
            partitions.ensure_for_rows(conn, {row[received] for row in rows})
            partitions.write_ids(conn, [(row[source], row[record]) for row in rows])
            copy_rows(conn, t.evidence.name, columns, rows)
            return
        insert_sqlite(conn, columns, rows)
    except psycopg.errors.UniqueViolation:
        raise DuplicateRecord from None
    except IntegrityError as error:
        if "UNIQUE" not in str(error.orig):
            raise
        raise DuplicateRecord from None


_SQLITE_ROWS_PER_INSERT = 500


def insert_sqlite(
    conn: Connection, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """SQLite: rows by the `_SQLITE_ROWS_PER_INSERT` in one INSERT of many ``VALUES`` (less
    time than one INSERT per row, which SQLite runs once for each), their values bound as the
    driver binds them fastest, and the rest (a scan batch's few) by `executemany`
    (`store.sqlite_rows`; ``make bench B=sqlite_rows`` times the three)."""
    driver: Any = conn.connection.driver_connection
    for insert in sqlite_rows.inserts(
        t.evidence.name,
        columns,
        rows,
        max_rows=_SQLITE_ROWS_PER_INSERT,
        max_parameters=driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER),
    ):
        # SQLAlchemy runs a tuple of parameters once, and a list of tuples by executemany.
        conn.exec_driver_sql(insert.statement, insert.parameters)


def to_evidence(row: Row[Any]) -> ev.Evidence:
    """Rebuild a stored record without re-validating it: it was validated at intake."""
    values: dict[str, Any] = {
        "source_id": row.source_id,
        "record_id": row.record_id,
        "person": row.person_key,
        "area": row.area_code,
        "occurred_at": row.occurred_at,
        "received_at": row.received_at,
        "kind": ev.EvidenceKind(row.kind),
    }
    cls = _CLASSES[row.kind]
    for name in _FIELDS_OF[cls]:
        values[name] = getattr(row, name)
    # What pydantic's model_construct does, without its per-call overhead (about 6 times
    # faster; loading people's evidence for recompute is the hot path of intake).
    built: ev.Evidence = object.__new__(cls)
    object.__setattr__(built, "__dict__", values)
    object.__setattr__(built, "__pydantic_fields_set__", _ALL_FIELDS[cls])
    object.__setattr__(built, "__pydantic_extra__", None)
    object.__setattr__(built, "__pydantic_private__", None)
    return built


def as_read(item: ev.Evidence) -> ev.Evidence:
    """``item`` as `to_evidence` reads it back once stored: its instants in UTC to the
    microsecond (`Instant`), its kind's values as their columns give them (an enumeration's
    text). For evidence decided on before its row can be read (`Derivation.prepare`): a
    status decided from it must be the one decided from the row, to the byte of its log
    entry (an instant sent as ``+08:00`` made a ``valid_until`` the self-check refused)."""
    fields = item.__dict__
    row = SimpleNamespace(
        source_id=fields["source_id"],
        record_id=fields["record_id"],
        person_key=fields["person"],
        area_code=fields["area"],
        kind=_KIND_VALUES[fields["kind"]],
        occurred_at=from_micros(to_micros(fields["occurred_at"])),
        received_at=from_micros(to_micros(fields["received_at"])),
        **{name: _as_column(fields.get(name)) for name in KIND_FIELDS},
    )
    return to_evidence(cast(Row[Any], row))


def _as_column(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


_BATCH = select(t.evidence_batches).where(
    t.evidence_batches.c.source_id == bindparam("source_id"),
    t.evidence_batches.c.batch_id == bindparam("batch_id"),
)


def batch(conn: Connection, source_id: str, batch_id: str) -> Row[Any] | None:
    return conn.execute(_BATCH, {"source_id": source_id, "batch_id": batch_id}).first()


def existing_records(
    conn: Connection, source_id: str, record_ids: Sequence[str]
) -> dict[str, bytes]:
    """The canonical bytes of records of this source already stored, by record id."""
    found: dict[str, bytes] = {}
    for start in range(0, len(record_ids), _CHUNK):
        chunk = record_ids[start : start + _CHUNK]
        query = select(t.evidence.c.record_id, t.evidence.c.canonical).where(
            t.evidence.c.source_id == source_id, t.evidence.c.record_id.in_(chunk)
        )
        found.update({row.record_id: bytes(row.canonical) for row in conn.execute(query)})
    return found


_EVIDENCE_FOR = {
    dialect: rows_with_keys(dialect, _INPUT_COLUMNS, t.evidence.c.person_key, "keys")
    for dialect in ("sqlite", "postgresql")
}


def evidence_for(conn: Connection, person_keys: Iterable[str]) -> dict[str, list[ev.Evidence]]:
    """These people's evidence (one statement, built once, for any number of people)."""
    keys = sorted(set(person_keys))
    found: dict[str, list[ev.Evidence]] = defaultdict(list)
    if not keys:
        return found
    dialect = conn.dialect.name
    for row in conn.execute(_EVIDENCE_FOR[dialect], {"keys": text_keys(dialect, keys)}).all():
        found[row.person_key].append(to_evidence(row))
    return found


_EVIDENCE_OF = select(*_INPUT_COLUMNS).where(t.evidence.c.person_key == bindparam("person_key"))


def evidence_of(conn: Connection, person_key: str) -> list[ev.Evidence]:
    """One person's evidence (`evidence_for` of one key, by a statement built once)."""
    return [to_evidence(row) for row in conn.execute(_EVIDENCE_OF, {"person_key": person_key})]


def evidence_by_refs(conn: Connection, refs: Iterable[tuple[str, str]]) -> list[ev.Evidence]:
    pairs = sorted(set(refs))
    if not pairs:
        return []
    query = select(*_INPUT_COLUMNS).where(
        tuple_(t.evidence.c.source_id, t.evidence.c.record_id).in_(pairs)
    )
    return [to_evidence(row) for row in conn.execute(query)]


def visitors(
    conn: Connection, area_prefix: str, since: datetime, until: datetime | None
) -> set[str]:
    """People with a proven visit in an area (by code prefix) within a period."""
    query = select(t.evidence.c.person_key).where(
        t.evidence.c.kind == ev.EvidenceKind.VENUE_VISIT.value,
        t.evidence.c.area_code.startswith(area_prefix),
        t.evidence.c.presence == ev.Presence.PROVEN.value,
        t.evidence.c.occurred_at >= since,
    )
    if until is not None:
        query = query.where(t.evidence.c.occurred_at < until)
    return set(conn.scalars(query.distinct()))


def designation_row(
    designation: RiskDesignation, log_index: int, *, active: bool
) -> dict[str, Any]:
    return {
        "log_index": log_index,
        "activated_at": designation.recorded_at if active else None,
        "id": designation.id,
        "area_code": designation.area,
        "venue_id": designation.venue_id,
        "level": str(designation.level),
        "valid_from": designation.valid_from,
        "valid_to": designation.valid_to,
        "authority_id": designation.authority_id,
        "case_count": designation.case_count,
        "basis": designation.basis,
        "recorded_at": designation.recorded_at,
    }


_ACTIVE_DESIGNATIONS = (
    select(t.designations)
    .where(t.designations.c.activated_at.is_not(None))
    .order_by(t.designations.c.valid_from)
)


def all_designations(conn: Connection) -> list[RiskDesignation]:
    """Designations in force (their ends included), each counting from when it became active
    (co-signed)."""
    return designations_repo.from_rows(conn, conn.execute(_ACTIVE_DESIGNATIONS).all())


def designation_rows(conn: Connection) -> list[tuple[RiskDesignation, Row[Any]]]:
    """Every designation as recorded (pending ones too), with its row: for the self-check."""
    rows = conn.execute(select(t.designations).order_by(t.designations.c.valid_from)).all()
    return list(zip(designations_repo.from_rows(conn, rows, as_recorded=True), rows, strict=True))


def pending_designations(conn: Connection, authority_id: str) -> list[RiskDesignation]:
    """This authority's designations never put in force, withdrawn ones too (their ends say)."""
    query = select(t.designations).where(
        t.designations.c.activated_at.is_(None), t.designations.c.authority_id == authority_id
    )
    return designations_repo.from_rows(conn, conn.execute(query).all(), as_recorded=True)


def in_force_alone(conn: Connection, authority_id: str, since: datetime) -> list[RiskDesignation]:
    """This authority's officials' designations put in force without a co-signature since
    ``since``: those the two-person rule sums a new one with (services/designations.py)."""
    query = select(t.designations).where(
        t.designations.c.authority_id == authority_id,
        t.designations.c.designated_by.is_not(None),
        t.designations.c.cosigned_by.is_(None),
        t.designations.c.activated_at >= since,
    )
    return designations_repo.from_rows(conn, conn.execute(query).all())
