"""Writing an evidence batch: its record keys, its row, and its records' rows.

Its thousand rows are the longest write of intake (tens of milliseconds, most of it in the
database: SQLite's C code, which lets go of Python's lock, or PostgreSQL's server), and intake
has work of its own that needs none of them (the status recompute's reads and decisions):
`records_written_aside` writes the rows on a thread of their own meanwhile.

On PostgreSQL a batch's records have their keys claimed in ``evidence_ids`` (the evidence table
is partitioned by day, so its own key cannot refuse a record sent twice: `store.partitions`).
The claim of a thousand keys keeps the server busy for a few milliseconds, and it needs no
answer until the batch's rows are copied in: `claiming` sends it in psycopg's pipeline mode,
so the server inserts the keys while the caller computes the batch's rows (and, writing the
rows in turn, its Merkle root). The batch's log entry and row follow in the same pipeline
(`claiming`, `batch_row_sent`): two round trips, as the entry's index is read first. On
SQLite the records' own key refuses a record sent twice, and nothing is sent ahead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from healthcode.store import partitions
from healthcode.store import tables as t
from healthcode.store.copy import column_types, copy_rows, pipelined
from healthcode.store.evidence import (
    ROW_COLUMNS,
    DuplicateBatch,
    DuplicateRecord,
    insert_sqlite,
)
from healthcode.store.instants import to_micros

_RECEIVED_AT = ROW_COLUMNS.index("received_at")
_ROW_TYPES = column_types(t.evidence, ROW_COLUMNS)


@contextmanager
def claiming(
    conn: Connection, source_id: str, record_ids: Sequence[str]
) -> Iterator[Callable[[], None]]:
    """Claim a batch's record keys (PostgreSQL) in a pipeline, and yield ``claimed``: the
    block computes what needs no answer, then calls it, which waits for the claim and raises
    `DuplicateRecord` if a key is taken; what the block writes after it (the batch's log entry
    and row) is sent in the same pipeline, and a taken batch key (`insert_batch_row`) raises
    `DuplicateBatch` at the end. The caller rolls back what was written. (A taken key is
    caught at an explicit sync, not at a read inside the pipeline: psycopg warns of a pipeline
    left aborted.) On SQLite nothing is claimed here (`insert_records` is refused by the
    records' own key), and ``claimed`` does nothing."""
    if conn.dialect.name != "postgresql":
        yield _nothing
        return
    driver: Any = conn.connection.driver_connection
    with _taken_keys(), driver.pipeline() as pipeline:
        partitions.write_ids(conn, [(source_id, record_id) for record_id in record_ids])

        def claimed() -> None:
            try:
                pipeline.sync()
            except psycopg.errors.UniqueViolation:
                raise DuplicateRecord from None

        yield claimed


@contextmanager
def batch_row_sent(conn: Connection) -> Iterator[None]:
    """The batch's log entry and row (`insert_batch_row`), written inside, sent together on
    PostgreSQL (psycopg's pipeline: the entry's index is read, then both are sent at once); a
    taken batch key raises `DuplicateBatch` at the end."""
    with _taken_keys(), pipelined(conn, rows=2):
        yield


@contextmanager
def _taken_keys() -> Iterator[None]:
    """psycopg's refusal of a taken key as `DuplicateBatch` or `DuplicateRecord`."""
    try:
        yield
    except psycopg.errors.UniqueViolation as error:
        if error.diag.table_name == t.evidence_batches.name:
            raise DuplicateBatch(error) from None
        raise DuplicateRecord from None


def _nothing() -> None:
    return None


def insert_batch_row(
    conn: Connection,
    *,
    source_id: str,
    batch_id: str,
    received_at: datetime,
    record_count: int,
    signed_digest: bytes,
    merkle_root: bytes,
    log_index: int,
) -> None:
    """The batch's row; inside `claiming` or `batch_row_sent`, sent without waiting. Raises
    `DuplicateBatch` if its key is taken (on PostgreSQL, those raise it at their end)."""
    try:
        conn.execute(
            t.evidence_batches.insert(),
            {
                "source_id": source_id,
                "batch_id": batch_id,
                "received_at": received_at,
                "record_count": record_count,
                "signed_digest": signed_digest,
                "merkle_root": merkle_root,
                "log_index": log_index,
            },
        )
    except IntegrityError as error:
        raise DuplicateBatch(error) from None


def partition_ready(conn: Connection, received_at: datetime) -> bool:
    """Whether records received at ``received_at`` may be written beside a read of the
    evidence table (`records_written_aside`): on PostgreSQL the day's partition is made here
    if missing, and then they may not, as this transaction holds a lock on the evidence table
    until it ends, which a read beside it waits for (for ever, if the transaction waits for
    that read). On SQLite, always."""
    if conn.dialect.name != "postgresql":
        return True
    return not partitions.ensure_for_rows(conn, {to_micros(received_at)})


def insert_records(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """The batch's records' rows (`evidence_rows` tuples), after `claiming` their keys: on
    PostgreSQL by COPY in its binary format, into the day's partition (made if missing); on
    SQLite many rows an INSERT, which raises `DuplicateRecord` if a record's key is taken."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        partitions.ensure_for_rows(conn, {row[_RECEIVED_AT] for row in rows})
        copy_rows(conn, t.evidence.name, ROW_COLUMNS, rows, types=_ROW_TYPES)
        return
    try:
        insert_sqlite(conn, ROW_COLUMNS, rows)
    except IntegrityError as error:
        if "UNIQUE" not in str(error.orig):
            raise
        raise DuplicateRecord from None


@contextmanager
def records_written_aside(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> Iterator[None]:
    """`insert_records` on a thread of its own while the block runs, which must not use
    ``conn`` meanwhile (nor anything that uses it); at the end of the block, waits for it
    and raises what it raised (`DuplicateRecord` on SQLite), unless the block raised."""
    failed: list[BaseException] = []

    def write() -> None:
        try:
            insert_records(conn, rows)
        except BaseException as error:  # handed to the caller's thread
            failed.append(error)

    writer = threading.Thread(target=write, name="evidence-rows", daemon=True)
    writer.start()
    try:
        yield
    finally:
        # Not a moment sooner may the transaction go on, or be rolled back.
        writer.join()
    if failed:
        raise failed[0]
