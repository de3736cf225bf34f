"""Evidence partitioned by day on PostgreSQL (``store/partitions.py``): retention drops a whole
day partition, logging exactly what the row-by-row path logs for the same rows and keeping
held and in-use records; a failure half-way leaves everything as it was; a record is still
refused on any later day; migration 0012 moves existing rows and back. PostgreSQL only (it
runs, and must not skip, when CI=true)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import Connection, func, select, text

from healthcode.services.clock import FixedClock
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.services.retention import PurgeSummary, Retention
from healthcode.store import log_bundles, partitions
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.migrate import alembic_config
from tests.conftest import POSTGRES_URL, T0, make_services
from tests.pg_schema import fresh_schema, schema_database
from tests.services.test_retention import entries, self_check_ok, stored
from tests.town import ERQI, Town, days

DAY0, DAY1 = "evidence_p20260601", "evidence_p20260602"
LATE = T0 + days(61)  # cutoff T0 + 1 day: the day of T0 is wholly past the 60-day period
OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({"410100"}))


@pytest.fixture
def pg(postgres_ok: bool) -> Iterator[Database]:
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with schema_database(POSTGRES_URL) as db:
        yield db


@pytest.fixture
def pg_town(pg: Database, tmp_path: Path) -> Town:
    clock = FixedClock(T0)
    town = Town.register(make_services(pg, clock, tmp_path / "data"), clock)
    town.register_staff()
    return town


def where(conn: Connection, ref: str) -> str | None:
    """The table (partition) that holds a record, or None."""
    source, record_id = ref.split("/")
    query = text(
        "SELECT tableoid::regclass::text FROM evidence WHERE source_id = :s AND record_id = :r"
    )
    return conn.scalar(query, {"s": source, "r": record_id})


def attached(conn: Connection) -> set[str]:
    query = text(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'evidence'::regclass"
    )
    return set(conn.scalars(query))


def claimed(conn: Connection) -> set[str]:
    rows = conn.execute(select(partitions.evidence_ids))
    return {f"{row.source_id}/{row.record_id}" for row in rows}


def two_days(town: Town) -> tuple[dict[str, str], dict[str, tuple[str, dict[str, object]]]]:
    """Records received on T0's day (one kept as a status rests on it, one held by an order
    in force, three due) and on the next day (not yet due): their refs, and what was sent."""
    services, clock = town.services, town.clock
    alice, bob, carol, dave, erin = (
        town.person(n) for n in ("alice", "bob", "carol", "dave", "erin")
    )
    sent: dict[str, tuple[str, dict[str, object]]] = {}

    def send(
        name: str, source: str, kind: str, person: str, at: datetime, **fields: object
    ) -> None:
        item = town.record(kind, person, at, **fields)
        town.submit(source, [item])
        sent[name] = (source, item)

    send(
        "in_use",
        "lab-1",
        "test_result",
        alice,
        T0 - timedelta(hours=1),
        method="pcr",
        result="positive",
    )
    send("held", "cdc-1", "close_contact", bob, T0, area=ERQI, case_ref="c-1")
    send("due1", "lab-1", "test_result", carol, T0, method="pcr", result="negative")
    send(
        "due2", "scan-1", "venue_visit", dave, T0, area=ERQI, venue_id="station", presence="proven"
    )
    clock.advance(hours=3)
    send("due3", "lab-1", "test_result", dave, clock.now(), method="pcr", result="negative")
    clock.set(T0 + days(1) + timedelta(hours=2))
    send("next_day", "lab-1", "test_result", erin, clock.now(), method="pcr", result="negative")
    refs = {name: f"{source}/{item['record_id']}" for name, (source, item) in sent.items()}
    clock.set(LATE - timedelta(hours=1))
    services.orders.issue(OFFICIAL, OrderRequest(
        kind="close_contact_quarantine", legal_basis="idl-art-41-quarantine",  # type: ignore[arg-type]
        persons=(PersonEvidence(bob, (refs["held"],)),), valid_until=LATE + days(6),
    ), now=clock.now())  # fmt: skip
    services.sequencer.integrate(now=clock.now())
    clock.set(LATE)
    return refs, sent


class _OneTransaction:
    """The store as the row-by-row path sees it (as on SQLite: `is_sqlite`), every write in
    the one transaction of ``conn``, which the caller rolls back: what that path would log."""

    is_sqlite = True

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        yield self._conn

    read = write


def row_path(town: Town) -> tuple[PurgeSummary, list[tuple[str, bytes]]]:
    """What the row-by-row purge logs at the same instant, in a transaction rolled back."""
    services = town.services
    with services.db.engine.connect() as conn:
        transaction = conn.begin()
        shadow = Retention(_OneTransaction(conn), services.rulebooks, services.retention.policy)  # type: ignore[arg-type]
        before = log_bundles.next_index(conn)
        summary = shadow.purge(town.clock.now())
        logged = [
            (kind, body)
            for _, kind, body in log_bundles.iter_entries(
                conn, before, log_bundles.next_index(conn)
            )
        ]
        transaction.rollback()
    return summary, logged


def test_retention_drops_the_whole_day_partition_and_logs_what_the_row_path_logs(
    pg_town: Town,
) -> None:
    town = pg_town
    services = town.services
    refs, sent = two_days(town)
    with services.db.read() as conn:
        assert {DAY0, DAY1, partitions.DEFAULT} <= attached(conn)
        assert {where(conn, ref) for ref in refs.values()} == {DAY0, DAY1}
    expected_summary, expected_log = row_path(town)
    assert expected_summary.evidence == 3 and expected_summary.held == 1
    assert expected_summary.in_use == 1 and len(expected_log) == 1
    before = entries(town)
    assert set(refs.values()) <= stored(town)  # the rehearsal left nothing behind

    services.ticker.tick(now=town.clock.now())
    purge = services.ticker.last_purge
    assert purge is not None and purge == expected_summary
    after = entries(town)
    assert after[: len(before)] == before and after[len(before) :] == expected_log
    with services.db.read() as conn:
        # The day's table is gone, not emptied; the next day's is untouched.
        assert conn.scalar(text(f"SELECT to_regclass('{DAY0}')")) is None
        assert DAY0 not in attached(conn) and DAY1 in attached(conn)
        assert where(conn, refs["next_day"]) == DAY1
        # What it kept went back through the parent into the default partition.
        assert where(conn, refs["in_use"]) == where(conn, refs["held"]) == partitions.DEFAULT
        for ref in ("due1", "due2", "due3"):
            assert where(conn, refs[ref]) is None
        assert claimed(conn) == {refs["in_use"], refs["held"], refs["next_day"]}
        marked = conn.scalar(select(func.sum(t.evidence_batches.c.purged_records)))
        logged = conn.scalar(select(func.count()).select_from(t.retention_purge_batches))
    assert (marked, logged) == (3, 3)
    self_check_ok(town)
    signed = services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size == len(after)
    self_check_ok(town)
    # Again at the same instant: nothing is due, nothing is written.
    again = services.retention.purge(town.clock.now())
    assert (again.evidence, again.entries) == (0, [])
    assert entries(town) == after

    # A record is still refused on any later day: the kept ones, and the next day's.
    for name in ("in_use", "held", "next_day"):
        source, item = sent[name]
        receipt = town.submit(source, [item])
        assert (receipt.accepted, receipt.already_present) == (0, 1), name


def test_a_failure_half_way_leaves_the_day_as_it_was(
    pg_town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    town = pg_town
    services = town.services
    refs, _ = two_days(town)
    before_log = entries(town)
    real = partitions.drop_day

    def drop_then_fail(
        conn: Connection, day: partitions.DayPartition, gone: list[tuple[str, str]]
    ) -> int:
        real(conn, day, gone)
        raise RuntimeError("power cut")

    monkeypatch.setattr(partitions, "drop_day", drop_then_fail)
    with pytest.raises(RuntimeError, match="power cut"):
        services.retention.purge(town.clock.now())
    with services.db.read() as conn:
        assert DAY0 in attached(conn)
        assert {where(conn, ref) for ref in refs.values()} == {DAY0, DAY1}
        assert claimed(conn) == set(refs.values())
        assert conn.scalar(select(func.sum(t.evidence_batches.c.purged_records))) == 0
        assert conn.scalar(select(func.count()).select_from(t.retention_purges)) == 0
    assert entries(town) == before_log
    self_check_ok(town)
    monkeypatch.undo()
    assert services.retention.purge(town.clock.now()).evidence == 3
    self_check_ok(town)


def test_a_day_partition_takes_its_rows_from_the_default_partition(pg: Database) -> None:
    """Rows written while their day had no partition (the ticker had not run) move into it
    when it is made, instead of blocking it."""
    row = {"source_id": "s", "record_id": "r1", "batch_id": "b", "position": 0,
           "person_key": "p" * 32, "kind": "test_result", "area_code": "410102",
           "occurred_at": T0, "received_at": T0 + timedelta(hours=5), "canonical": b"{}"}  # fmt: skip
    with pg.write() as conn:
        conn.execute(t.evidence.insert().values(**row))  # no partition for the day: default
        assert where(conn, "s/r1") == partitions.DEFAULT
        made = partitions.ensure_ahead(conn, T0)
        assert [p.name for p in made] == [f"evidence_p2026060{n}" for n in range(1, 5)]
        assert where(conn, "s/r1") == DAY0
        assert partitions.ensure_ahead(conn, T0 + timedelta(hours=23)) == []


def _migrated(db: Database, revision: str) -> None:
    command.upgrade(alembic_config(db), revision)


def test_migration_0012_moves_existing_rows_into_day_partitions_and_back(postgres_ok: bool) -> None:
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with fresh_schema(POSTGRES_URL, "m") as schema:
        db = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        try:
            _migrated(db, "0011")
            rows = [
                {"source_id": "s", "record_id": f"r{n}", "batch_id": "b", "position": n,
                 "person_key": "p" * 32, "kind": "test_result", "area_code": "410102",
                 "occurred_at": T0, "received_at": at, "canonical": b"{}"}
                for n, at in enumerate((T0, T0 + timedelta(hours=23), T0 + days(1)))
            ]  # fmt: skip
            with db.write() as conn:
                conn.execute(t.evidence.insert(), rows)
            _migrated(db, "head")
            with db.read() as conn:
                assert attached(conn) == {DAY0, DAY1, partitions.DEFAULT}
                assert [where(conn, f"s/r{n}") for n in range(3)] == [DAY0, DAY0, DAY1]
                assert claimed(conn) == {"s/r0", "s/r1", "s/r2"}
            command.downgrade(alembic_config(db), "0011")
            with db.read() as conn:
                assert conn.scalar(text("SELECT to_regclass('evidence_ids')")) is None
                assert (
                    conn.scalar(
                        text("SELECT relkind FROM pg_class WHERE oid = 'evidence'::regclass")
                    )
                    == "r"
                )
                assert conn.scalar(select(func.count()).select_from(t.evidence)) == 3
            _migrated(db, "head")
            with db.read() as conn:
                assert [where(conn, f"s/r{n}") for n in range(3)] == [DAY0, DAY0, DAY1]
        finally:
            db.dispose()


def test_claimed_keys_are_the_keys_given_whatever_they_hold(pg: Database) -> None:
    """`write_ids` sends each source's record ids as one array literal: any text comes back
    as given (quotes, backslashes, commas, braces, spaces, the word NULL), and a taken key
    is refused."""
    odd = ['a"b', "c\\d", "e,f", "{g}", "h i", "NULL", "", "plain"]
    keys = [("src-1", record) for record in odd] + [("src-2", "plain")]
    with pg.write() as conn:
        partitions.write_ids(conn, keys)
    with pg.read() as conn:
        stored_keys = {tuple(row) for row in conn.execute(select(partitions.evidence_ids))}
    assert stored_keys == set(keys)
    with pytest.raises(psycopg.errors.UniqueViolation), pg.write() as conn:
        partitions.write_ids(conn, [("src-2", "new"), ("src-2", "plain")])
