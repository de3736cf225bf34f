"""Intake's status recompute, read and decided beside the write transaction while the batch's
rows are written (`services.intake._write_alongside`): it decides as a recompute after the
write would, to the byte of the log entries the self-check recomputes; it reads the store the
URL names; and the partition a failed first batch of the day made is looked up again."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from healthcode.domain.evidence import parse_evidence
from healthcode.services.clock import FixedClock
from healthcode.services.derivation import Derivation
from healthcode.store import evidence as evidence_repo
from healthcode.store import partitions
from healthcode.store import status as status_repo
from healthcode.store.database import Database
from tests.conftest import POSTGRES_URL, make_services
from tests.pg_schema import fresh_schema, schema_database
from tests.town import Town

P1 = "11111111111111111111111111111111"
P2 = "22222222222222222222222222222222"
CST = timezone(timedelta(hours=8))


def test_a_record_sent_with_a_utc_offset_keeps_the_log_consistent(town: Town) -> None:
    """A close contact sent with ``+08:00`` (as a source in China writes it) is decided on
    before its row is readable: the change's ``valid_until`` must be the instant the row gives,
    or its log entry is not the one the self-check recomputes from the stored change."""
    now = town.clock.now()
    town.test(P2, now, "negative")  # on PostgreSQL the day's partition is then made
    at = (now - timedelta(hours=1)).astimezone(CST)
    receipt = town.submit("cdc-1", [town.record("close_contact", P1, at, case_ref="case-1")])
    assert receipt.status_changes == 1
    with town.services.db.read() as conn:
        (change,) = status_repo.history(conn, P1)
    assert change.valid_until is not None and change.valid_until.tzinfo == UTC
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report


def test_evidence_as_validated_reads_as_its_stored_row(town: Town) -> None:
    now = town.clock.now()
    sent = {
        "cdc-1": town.record(
            "close_contact", P1, (now - timedelta(hours=2)).astimezone(CST), case_ref="c"
        ),
        "lab-1": town.record(
            "test_result", P1, now - timedelta(hours=1), method="pcr", result="negative"
        ),
    }
    validated = {}
    for source, record in sent.items():
        town.submit(source, [record])
        validated[record["record_id"]] = parse_evidence(record, source_id=source, received_at=now)
    with town.services.db.read() as conn:
        stored = {item.record_id: item for item in evidence_repo.evidence_of(conn, P1)}
    assert stored.keys() == validated.keys()
    for record_id, item in validated.items():
        # repr, not ==: an instant equals itself at any offset, an enumeration its text.
        assert repr(evidence_repo.as_read(item).__dict__) == repr(stored[record_id].__dict__)


def test_a_failed_first_batch_of_a_day_leaves_its_partition_to_be_made_again(
    postgres_ok: bool, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the first batch of a day makes the day's partition and then rolls back; no
    connection may take the partition as made, or later batches' rows sit in the default
    partition."""
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    real = Derivation.recompute
    calls = {"n": 0}

    def failing_once(self: Derivation, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a failure after the rows were written")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Derivation, "recompute", failing_once)
    with schema_database(POSTGRES_URL) as db:
        town = Town.register(make_services(db, clock, tmp_path / "data"), clock)
        with pytest.raises(RuntimeError):
            town.test(P1, clock.now(), "negative")
        for _ in range(db.engine.pool.size() + 1):  # whichever pooled connection comes
            town.test(P2, clock.now(), "negative")
        with db.read() as conn:
            assert conn.scalar(text(f"SELECT count(*) FROM {partitions.DEFAULT}")) == 0


def test_a_store_in_a_schema_the_url_names_is_read_beside_the_write(
    postgres_ok: bool, clock: FixedClock, tmp_path: Path
) -> None:
    """docs/operations.md: a store in a schema of its own is named by the URL's ``options``;
    the reads beside a write must read that schema too."""
    if not postgres_ok:
        pytest.skip("PostgreSQL is not reachable (required when CI=true)")
    with fresh_schema(POSTGRES_URL) as schema:
        db = Database(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
        try:
            db.create_all()
            town = Town.register(make_services(db, clock, tmp_path / "data"), clock)
            town.test(P2, clock.now(), "negative")  # the day's partition made
            assert town.test(P1, clock.now(), "positive").status_changes == 1
        finally:
            db.dispose()
