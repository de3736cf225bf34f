"""The self-check of evidence rows against the bytes their source signed.

A batch's Merkle root, in its log entry, commits to each record's canonical bytes, and the
self-check rehashes those. But the status engine reads the row's columns (the kind, the
result, the presence, the person, the instant), not the bytes: a row whose ``result`` was
edited from positive to negative keeps its bytes and its root while it turns a red code
yellow. So each row's columns are rebuilt from its bytes, through the same validation and the
same row builder intake uses (`parse_evidence_all`, `evidence_rows`: a dose sent as ``2.0``
is the stored 2, as at intake), and compared. The bytes are read laxly (``lax``), as intake
read them before its numbers and flags were strict: a record it stored then (``"true"`` for
a flag) is still the row it made, not a problem that would halt the log. ``received_at`` is the server's, not in the
bytes; the batch entry logs the batch's own. A certificate's leaf also names its signer
(`dcc_intake.SIGNER_FIELD`), which is no column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from healthcode.domain.evidence import parse_evidence_all
from healthcode.services.dcc_intake import SIGNER_FIELD
from healthcode.store import tables as t
from healthcode.store.evidence import KIND_FIELDS, ROW_COLUMNS, evidence_rows
from healthcode.store.instants import to_micros

# The columns compared: all but the server's receipt time, which the signed bytes do not hold,
# the bytes themselves (hashed into the batch's root) and the position (the root's order; a
# batch retention purged from keeps gaps, and a row checked alone is rebuilt at 0).
_COMPARED = [
    i for i, name in enumerate(ROW_COLUMNS) if name not in ("received_at", "canonical", "position")
]
_INSTANTS = {ROW_COLUMNS.index("occurred_at")}
_MOST_FIELDS = 5 + 2  # record_id, kind, person, area, occurred_at and a kind's fields


def evidence_rows_query() -> Any:
    """Every evidence row's columns (`ROW_COLUMNS`), in each batch's order."""
    return select(*(t.evidence.c[name] for name in ROW_COLUMNS)).order_by(
        t.evidence.c.source_id, t.evidence.c.batch_id, t.evidence.c.position
    )


def check_rows(rows: Sequence[Row[Any]], report: Callable[[str], None]) -> None:
    """Report each of one batch's rows whose columns are not what its signed bytes say.

    A record as most sources send it (each value of its column's type, the instant in ISO
    8601) is its row's columns as they are: compared so first, at a few microseconds a row.
    A batch where any row differs so is validated as intake did, in one call (the receipt
    time, which no check reads, is its first row's: a scan batch's records each have their
    own), and compared column by column; one that fails validation, record by record, to
    name the rows."""
    try:
        records = [_record(row) for row in rows]
    except ValueError:
        records = []
    if records and all(map(_as_stored, rows, records)):
        return
    first = rows[0]
    parsed = (
        parse_evidence_all(
            records, source_id=first.source_id, received_at=first.received_at, lax=True
        )
        if records
        else None
    )
    if parsed is None:
        if len(rows) == 1:
            report(
                f"evidence {first.source_id}/{first.record_id}: its stored bytes are not a record"
            )
        else:
            for row in rows:
                check_rows([row], report)
        return
    built = evidence_rows(
        zip(parsed, [bytes(row.canonical) for row in rows], records, strict=True), first.batch_id
    )
    for row, wanted in zip(rows, built, strict=True):
        stored = tuple(row)
        if any(
            (to_micros(stored[i]) if i in _INSTANTS else stored[i]) != wanted[i] for i in _COMPARED
        ):
            report(
                f"evidence {row.source_id}/{row.record_id}: its columns are not its signed bytes"
            )


def _as_stored(row: Row[Any], record: Any) -> bool:
    """Whether the record holds its row's columns as they are (False: validate to know)."""
    if not isinstance(record, dict) or len(record) > _MOST_FIELDS:
        return False
    try:
        occurred = datetime.fromisoformat(record["occurred_at"])
    except (KeyError, TypeError, ValueError):
        return False
    get = record.get
    return (
        occurred == row.occurred_at
        and occurred.tzinfo is not None
        and get("record_id") == row.record_id
        and get("person") == row.person_key
        and get("kind") == row.kind
        and get("area") == row.area_code
        and all(
            type(get(name)) is type(value := getattr(row, name)) and get(name) == value
            for name in KIND_FIELDS
        )  # None where the kind has no such column
    )


def _record(row: Row[Any]) -> Any:
    """The record its bytes hold, without a certificate's signer; ValueError if not JSON."""
    record = json.loads(bytes(row.canonical))
    if isinstance(record, dict):
        record.pop(SIGNER_FIELD, None)
    return record
