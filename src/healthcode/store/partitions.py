"""The evidence table on PostgreSQL: range-partitioned by the UTC day of ``received_at``, so
retention drops a whole day at once (``docs/operations.md``, "Retention").

``received_at`` is the instant retention's cutoff is compared with, and every batch lies in
one day (an intake batch's records are received at its own instant; a scan batch is one
second), so a day partition wholly before the cutoff holds only records that are due or kept.
A partitioned table's unique keys must include the partition key, so the primary key is
(source_id, record_id, received_at); ``evidence_ids`` keeps (source_id, record_id) unique
across every day, written in the same transaction as the record and removed with it. Rows of a
day that has no partition land in ``evidence_default``; creating that day's partition moves
them out first (PostgreSQL refuses a partition whose range has rows in the default). SQLite
keeps the plain table: nothing here runs there.

`partition_evidence` turns a plain ``evidence`` table (empty or not) into this layout; the
migration 0012 and `Database.create_all` both call it, so tests run on what deployments run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    text,
    tuple_,
)

from healthcode.store.copy import copy_rows
from healthcode.store.instants import EPOCH, to_micros
from healthcode.store.keysets import text_keys

TABLE = "evidence"
DEFAULT = "evidence_default"
DAY_MICROS = 86_400_000_000
DAYS_AHEAD = 3  # day partitions the ticker keeps ready beyond today
_CHUNK = 500
_DAY_NAME = re.compile(r"^evidence_p(\d{8})$")
_MADE = "healthcode.partitions_made"  # (transaction, the days whose partition it made)
_CACHE = "healthcode.evidence_days"  # days known to have a committed partition, per connection

# Not on the schema's `metadata`: it exists only on PostgreSQL, where `partition_evidence`
# creates it (SQLite's primary key on evidence already is the (source, record) key).
evidence_ids = Table(
    "evidence_ids",
    MetaData(),
    Column("source_id", String(64), nullable=False),
    Column("record_id", String(64), nullable=False),
    PrimaryKeyConstraint("source_id", "record_id", name="pk_evidence_ids"),
)
POSTGRES_ONLY = frozenset({evidence_ids.name, DEFAULT})


def is_partition(name: str) -> bool:
    """A table the partitioning owns, outside the declared schema (for Alembic's comparison)."""
    return name in POSTGRES_ONLY or _DAY_NAME.match(name) is not None


@dataclass(frozen=True, order=True)
class DayPartition:
    day: date

    @property
    def name(self) -> str:
        return f"evidence_p{self.day:%Y%m%d}"

    @property
    def lower(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)

    @property
    def upper(self) -> datetime:
        return self.lower + timedelta(days=1)


def day_of(micros: int) -> date:
    return (EPOCH + timedelta(days=micros // DAY_MICROS)).date()


def is_partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def day_partitions(conn: Connection) -> list[DayPartition]:
    """The day partitions attached to ``evidence``, oldest first."""
    query = text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:parent AS regclass)"
    )
    found = []
    for name in conn.scalars(query, {"parent": TABLE}):
        match = _DAY_NAME.match(name)
        if match:
            found.append(DayPartition(datetime.strptime(match[1], "%Y%m%d").date()))
    return sorted(found)


def ensure_days(conn: Connection, days: Iterable[date]) -> list[DayPartition]:
    """Create the missing partitions of these days; the ones created."""
    existing = {p.day for p in day_partitions(conn)}
    created = []
    for day in sorted(set(days) - existing):
        partition = DayPartition(day)
        lower, upper = to_micros(partition.lower), to_micros(partition.upper)
        # Built detached, filled with the day's rows from the default partition, then
        # attached: CREATE ... PARTITION OF would fail if the default held any of them.
        conn.execute(text(f"CREATE TABLE {partition.name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
        conn.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE received_at >= :lower "
                f"AND received_at < :upper RETURNING *) "
                f"INSERT INTO {partition.name} SELECT * FROM moved"
            ),
            {"lower": lower, "upper": upper},
        )
        conn.execute(
            text(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {partition.name} "
                f"FOR VALUES FROM ({lower}) TO ({upper})"
            )
        )
        created.append(partition)
    return created


def ensure_ahead(conn: Connection, now: datetime) -> list[DayPartition]:
    """Today's partition and the next `DAYS_AHEAD` days' (the ticker, each tick)."""
    today = now.astimezone(UTC).date()
    return ensure_days(conn, (today + timedelta(days=n) for n in range(DAYS_AHEAD + 1)))


def ensure_for_rows(conn: Connection, received_micros: Iterable[int]) -> bool:
    """Make sure the days of rows about to be written have their partition, so live rows
    never sit in the default partition; True if one was made (by this transaction, which then
    holds locks on the evidence table until it ends). Days seen committed are remembered per
    connection (one catalogue read a day, not one a write); a partition this transaction
    made is not, as the transaction may still roll back: it is looked up again next time."""
    known: set[date] = conn.info.setdefault(_CACHE, set())
    days = {day_of(m) for m in received_micros} - known
    if not days:
        return False
    made = conn.info.get(_MADE)
    transaction = conn.get_transaction()
    mine: set[date] = made[1] if made is not None and made[0] is transaction else set()
    existing = {p.day for p in day_partitions(conn)}
    known.update((days & existing) - mine)
    if days - existing:
        ensure_days(conn, days - existing)
        conn.info[_MADE] = (transaction, mine | (days - existing))
        return True
    return False


def write_ids(conn: Connection, ids: Sequence[tuple[str, str]]) -> None:
    """Claim (source, record) keys; a taken one raises psycopg's UniqueViolation.

    One INSERT a source, of its record ids in one parameter (an array's literal, which the
    server unnests): a batch's thousand keys cost two thirds of what a COPY did, whose client
    side formats and sends each row (all of a batch's keys have one source)."""
    records: dict[str, list[str]] = defaultdict(list)
    for source, record in ids:
        records[source].append(record)
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cursor:
        for source, of_source in records.items():
            cursor.execute(
                f"INSERT INTO {evidence_ids.name} (source_id, record_id)"
                " SELECT %s, unnest(%s::varchar[])",
                (source, text_keys("postgresql", of_source)),
            )


def delete_ids(conn: Connection, refs: Sequence[tuple[str, str]]) -> None:
    c = evidence_ids.c
    for start in range(0, len(refs), _CHUNK):
        chunk = list(refs[start : start + _CHUNK])
        conn.execute(delete(evidence_ids).where(tuple_(c.source_id, c.record_id).in_(chunk)))


def drop_day(conn: Connection, partition: DayPartition, gone: Sequence[tuple[str, str]]) -> int:
    """Drop a day partition whose records ``gone`` were purged, inside the caller's
    transaction: its other rows (held, in use, not yet due) go back through the parent into
    the default partition first. Returns how many went back. Raises RuntimeError, and the
    caller's transaction rolls back whole, if a purged record is not in the partition."""
    name = partition.name
    if gone:
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE evidence_gone (source_id varchar(64), "
                "record_id varchar(64), PRIMARY KEY (source_id, record_id)) ON COMMIT DROP"
            )
        )
        copy_rows(conn, "evidence_gone", ("source_id", "record_id"), gone)
        found = conn.scalar(
            text(f"SELECT count(*) FROM {name} JOIN evidence_gone USING (source_id, record_id)")
        )
        if found != len(gone):
            raise RuntimeError(f"{name} holds {found} of the {len(gone)} records purged")
    conn.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name}"))
    kept = f"SELECT * FROM {name}"
    if gone:
        kept += (
            " p WHERE NOT EXISTS (SELECT 1 FROM evidence_gone g"
            " WHERE g.source_id = p.source_id AND g.record_id = p.record_id)"
        )
    moved = conn.execute(text(f"INSERT INTO {TABLE} {kept}")).rowcount
    if gone:
        conn.execute(
            text(
                f"DELETE FROM {evidence_ids.name} i USING evidence_gone g "
                "WHERE i.source_id = g.source_id AND i.record_id = g.record_id"
            )
        )
        conn.execute(text("DROP TABLE evidence_gone"))
    conn.execute(text(f"DROP TABLE {name}"))
    conn.info.get(_CACHE, set()).discard(partition.day)
    return int(moved)


# --- the layout itself: migration 0012 and create_all ----------------------------------------


def _index_definitions(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of a table's indexes but its primary key."""
    query = text(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisprimary ORDER BY c.relname"
    )
    return [(row[0], row[1]) for row in conn.execute(query, {"table": table})]


def _partitioned(conn: Connection) -> bool:
    query = text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:table)")
    return conn.scalar(query, {"table": TABLE}) is not None


def partition_evidence(conn: Connection) -> None:
    """Turn a plain ``evidence`` table into the partitioned layout, rows and all (a day
    partition for every day it holds); nothing if it already is."""
    if _partitioned(conn):
        return
    indexes = _index_definitions(conn, TABLE)
    for name, _ in indexes:  # their names are taken again by the new table's
        conn.execute(text(f"DROP INDEX {name}"))
    conn.execute(text(f"ALTER TABLE {TABLE} RENAME TO evidence_unpartitioned"))
    conn.execute(text("ALTER TABLE evidence_unpartitioned DROP CONSTRAINT pk_evidence"))
    conn.execute(
        text(
            f"CREATE TABLE {TABLE} (LIKE evidence_unpartitioned INCLUDING DEFAULTS) "
            "PARTITION BY RANGE (received_at)"
        )
    )
    conn.execute(
        text(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_evidence "
            "PRIMARY KEY (source_id, record_id, received_at)"
        )
    )
    for _, definition in indexes:  # ON the same name: now the partitioned table's index
        conn.execute(text(definition))
    conn.execute(text(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT"))
    evidence_ids.create(conn)
    conn.execute(
        text(
            f"INSERT INTO {evidence_ids.name} (source_id, record_id) "
            "SELECT source_id, record_id FROM evidence_unpartitioned"
        )
    )
    days = conn.scalars(
        text(f"SELECT DISTINCT received_at / {DAY_MICROS} FROM evidence_unpartitioned")
    )
    ensure_days(conn, [day_of(int(day) * DAY_MICROS) for day in days])
    conn.execute(text(f"INSERT INTO {TABLE} SELECT * FROM evidence_unpartitioned"))
    conn.execute(text("DROP TABLE evidence_unpartitioned"))


def unpartition_evidence(conn: Connection) -> None:
    """The inverse of `partition_evidence` (migration 0012's downgrade)."""
    if not _partitioned(conn):
        return
    indexes = _index_definitions(conn, TABLE)
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    conn.execute(text(f"ALTER TABLE {TABLE} RENAME TO evidence_partitioned"))
    conn.execute(text("ALTER TABLE evidence_partitioned DROP CONSTRAINT pk_evidence"))
    conn.execute(text(f"CREATE TABLE {TABLE} (LIKE evidence_partitioned INCLUDING DEFAULTS)"))
    conn.execute(text(f"INSERT INTO {TABLE} SELECT * FROM evidence_partitioned"))
    conn.execute(
        text(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_evidence PRIMARY KEY (source_id, record_id)")
    )
    for _, definition in indexes:
        conn.execute(text(definition))
    conn.execute(text("DROP TABLE evidence_partitioned"))  # its partitions with it
    evidence_ids.drop(conn)
