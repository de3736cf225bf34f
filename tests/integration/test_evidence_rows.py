"""The bulk paths of intake's store, on SQLite and PostgreSQL: evidence rows built for a whole
batch are the rows built one by one; rows inserted by many ``VALUES`` at once (SQLite) are
stored as inserted one by one, and a taken key is still found; people looked up by one text
parameter are the people whose keys are given, whatever the keys hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from healthcode.domain import evidence as ev
from healthcode.domain.canonical import canonical_each
from healthcode.store import evidence as evidence_repo
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.evidence import ROW_COLUMNS, DuplicateRecord, evidence_rows, insert_rows
from healthcode.store.instants import to_micros
from healthcode.store.keysets import text_keys, text_keys_in

AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
_KIND_FIELDS = ROW_COLUMNS[ROW_COLUMNS.index("received_at") + 1 : -1]


def _one_row(item: ev.Evidence, batch_id: str, canonical: bytes, position: int) -> tuple[Any, ...]:
    """A row built column by column, as intake built it record by record before
    `evidence_rows`."""
    return (
        item.source_id, item.record_id, batch_id, position, item.person, item.kind.value,
        item.area, to_micros(item.occurred_at), to_micros(item.received_at),
        *[getattr(item, name, None) for name in _KIND_FIELDS], canonical,
    )  # fmt: skip


def _records(count: int, prefix: str = "r") -> list[dict[str, Any]]:
    shapes: list[dict[str, Any]] = [
        {"kind": "test_result", "method": "pcr", "result": "positive"},
        {"kind": "vaccination", "vaccine": "王", "dose": 2},
        {"kind": "border_entry", "port": "pek", "quarantine_required": True},
        {"kind": "venue_visit", "venue_id": "station", "presence": "unverified"},
        {"kind": "close_contact", "case_ref": "case/1"},
        {"kind": "quarantine_completed"},
        {"kind": "recovery"},
    ]
    return [
        {"record_id": f"{prefix}{n}", "person": f"{n % 7:032x}", "area": "410103",
         "occurred_at": (AT - timedelta(minutes=n % 5)).isoformat(), **shapes[n % len(shapes)]}
        for n in range(count)
    ]  # fmt: skip


def _batch(
    records: list[dict[str, Any]], *, lax: bool = False
) -> list[tuple[ev.Evidence, bytes, dict[str, Any]]]:
    items = ev.parse_evidence_all(records, source_id="src-1", received_at=AT, lax=lax)
    assert items is not None
    return list(zip(items, canonical_each(records), records, strict=True))


def test_rows_of_a_batch_are_the_rows_built_one_by_one() -> None:
    batch = _batch(_records(50))
    assert evidence_rows(batch, "b1") == [
        _one_row(item, "b1", canonical, position)
        for position, (item, canonical, _) in enumerate(batch)
    ]


def test_kind_values_are_stored_as_validated_not_as_sent() -> None:
    """A source may send ``2.0`` for a dose (the same JSON number, the same signed bytes): the
    row holds the int 2. A record stored before intake was strict, with ``"2"`` for a dose or
    ``"true"`` or ``0`` for a flag, is read back (``lax``) as the int and the bool it made."""
    dose, flag = ROW_COLUMNS.index("dose"), ROW_COLUMNS.index("quarantine_required")
    [row] = evidence_rows(_batch([{**_records(2)[1], "record_id": "d1", "dose": 2.0}]), "b1")
    assert (type(row[dose]), row[dose]) == (int, 2)
    stored_lax = [
        {**_records(2)[1], "record_id": "d2", "dose": "2"},
        {**_records(3)[2], "record_id": "q1", "quarantine_required": "true"},
        {**_records(3)[2], "record_id": "q2", "quarantine_required": 0},
    ]
    rows = evidence_rows(_batch(stored_lax, lax=True), "b1")
    assert (type(rows[0][dose]), rows[0][dose]) == (int, 2)
    assert [(type(row[flag]), row[flag]) for row in rows[1:]] == [(bool, True), (bool, False)]


def _stored(db: Database) -> list[tuple[Any, ...]]:
    columns = [t.evidence.c[name] for name in ROW_COLUMNS]
    with db.read() as conn:
        rows = conn.execute(select(*columns).order_by(t.evidence.c.record_id)).all()
    return [tuple(to_micros(v) if isinstance(v, datetime) else v for v in row) for row in rows]


@pytest.mark.postgres
@pytest.mark.parametrize("count", [1, 499, 500, 501, 1234])
def test_rows_inserted_at_once_are_stored_as_given(database: Database, count: int) -> None:
    rows = evidence_rows(_batch(_records(count)), "b1")
    with database.write() as conn:
        insert_rows(conn, ROW_COLUMNS, rows)
    assert _stored(database) == sorted(rows, key=lambda row: row[1])


@pytest.mark.postgres
def test_a_batch_read_with_lax_values_is_stored(database: Database) -> None:
    records = [
        {**_records(2)[1], "record_id": "d1", "dose": 2.0},
        {**_records(3)[2], "record_id": "q1", "quarantine_required": "yes"},
    ]
    with database.write() as conn:
        insert_rows(conn, ROW_COLUMNS, evidence_rows(_batch(records, lax=True), "b1"))
    dose, flag = ROW_COLUMNS.index("dose"), ROW_COLUMNS.index("quarantine_required")
    assert [(row[dose], row[flag]) for row in _stored(database)] == [(2, None), (None, True)]


@pytest.mark.postgres
@pytest.mark.parametrize("taken", [0, 499, 500, 1100])
def test_a_taken_key_is_found_wherever_it_falls(database: Database, taken: int) -> None:
    records = _records(1200)
    with database.write() as conn:
        insert_rows(conn, ROW_COLUMNS, evidence_rows(_batch([records[taken]]), "b0"))
    with pytest.raises(DuplicateRecord), database.write() as conn:
        insert_rows(conn, ROW_COLUMNS, evidence_rows(_batch(records), "b1"))
    assert len(_stored(database)) == 1


@pytest.mark.postgres
def test_people_are_looked_up_by_one_parameter_whatever_their_keys_hold(
    database: Database,
) -> None:
    keys = ["a", 'b"c', "d\\e", "f,g", "{h}", " i ", "NULL", "王", "", "j'k", "%s", "%(x)s"]
    with database.write() as conn:
        conn.execute(
            t.areas.insert(),
            [{"code": key, "name_zh": "x", "name_en": "x"} for key in [*keys, "other"]],
        )
    dialect = database.dialect
    with database.read() as conn:
        for wanted in (keys, keys[:1], keys[3:7]):
            condition = text_keys_in(dialect, t.areas.c.code, None, text_keys(dialect, wanted))
            assert sorted(conn.scalars(select(t.areas.c.code).where(condition))) == sorted(wanted)


@pytest.mark.postgres
def test_evidence_for_many_people_at_once(database: Database) -> None:
    batch = _batch(_records(1200))
    with database.write() as conn:
        insert_rows(conn, ROW_COLUMNS, evidence_rows(batch, "b1"))
    people = [f"{n:032x}" for n in range(9)]  # seven with evidence, two without
    with database.read() as conn:
        found = evidence_repo.evidence_for(conn, people)
    assert sorted(found) == people[:7]
    for person, items in found.items():
        assert sorted(item.record_id for item in items) == sorted(
            item.record_id for item, _, _ in batch if item.person == person
        )
