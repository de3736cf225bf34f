"""Intake's copy of the small tables (`services.reference`) is what the store holds: a write by
another process, through healthcode or plain SQL, is seen by the next batch, and a write that
rolled back is not; every one of those tables renews the stamp, on both stores."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from healthcode.domain.designations import RiskLevel
from healthcode.errors import InputRejected
from healthcode.services.clock import FixedClock
from healthcode.services.orders import Actor
from healthcode.store import reference_stamp
from healthcode.store.database import Database
from tests.conftest import make_services
from tests.services.test_source_keys import lab_batch, public
from tests.town import ERQI, ZHENGZHOU, Town, days


def _search_path(database: Database) -> dict[str, str]:
    """The connection options that reach ``database``'s schema (PostgreSQL's tests each have
    their own); none on SQLite."""
    if database.is_sqlite:
        return {}
    with database.read() as conn:
        schema = conn.scalar(text("SELECT current_schema()"))
    return {"options": f"-csearch_path={schema}"}


@pytest.fixture
def elsewhere(database: Database) -> Iterator[Database]:
    """The same store through engines and pools of its own, as another process has."""
    other = Database(database.url, connect_args=_search_path(database))
    yield other
    other.dispose()


def _run_elsewhere(database: Database, sql: str) -> None:
    """``sql`` committed by another operating-system process (an operator's script)."""
    script = (
        "import sys\n"
        "from sqlalchemy import create_engine, text\n"
        "engine = create_engine(sys.argv[1], connect_args=eval(sys.argv[2]))\n"
        "with engine.begin() as conn:\n"
        "    conn.execute(text(sys.argv[3]))\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, database.url, repr(_search_path(database)), sql],
        check=True,
        timeout=60,
    )


def test_a_source_deactivated_by_another_process_is_refused_at_the_next_batch(
    town: Town, database: Database
) -> None:
    alice, bob = town.person("alice"), town.person("bob")
    assert town.test(alice, town.clock.now(), "negative").accepted == 1
    _run_elsewhere(database, "UPDATE sources SET active = false WHERE id = 'lab-1'")
    with pytest.raises(InputRejected) as refused:
        town.test(bob, town.clock.now(), "negative")
    assert refused.value.code == "source.inactive"
    _run_elsewhere(database, "UPDATE sources SET active = true WHERE id = 'lab-1'")
    assert town.test(bob, town.clock.now(), "negative").accepted == 1


def test_a_designation_made_by_another_process_counts_at_the_next_batch(
    town: Town, elsewhere: Database, clock: FixedClock, tmp_path: Path
) -> None:
    carol, dave = town.person("carol"), town.person("dave")
    t0 = town.clock.now()
    town.visit(carol, t0 - timedelta(hours=2))  # the copy is read, with no designation
    assert town.history(carol) == []
    other = Town(make_services(elsewhere, clock, tmp_path / "elsewhere"), clock, town.keys)
    other.designate(ERQI, RiskLevel.HIGH, t0 - days(1), None, id="d-elsewhere")
    town.visit(dave, t0 - timedelta(hours=1))
    # The change recorded by the batch's recompute (a status read computes afresh anyway).
    assert town.history(dave) == [("red", "high-risk-visit", t0, "evidence")]


def test_a_write_that_rolled_back_leaves_the_copy_as_stored(town: Town, database: Database) -> None:
    alice = town.person("alice")
    cache = town.services.intake._reference  # the cache intake reads through
    with pytest.raises(RuntimeError), database.write() as conn:
        conn.execute(text("UPDATE sources SET active = false WHERE id = 'lab-1'"))
        assert cache.current(conn).sources["lab-1"].active is False  # read inside, then undone
        raise RuntimeError("roll back")
    assert town.test(alice, town.clock.now(), "positive").accepted == 1


_A_COLUMN = {
    "sources": "active", "areas": "name_en", "rulebooks": "applied_at",
    "designations": "valid_to", "set_asides": "reason",
}  # fmt: skip


def test_every_table_of_the_copy_renews_the_stamp(town: Town, database: Database) -> None:
    town.designate(ERQI, RiskLevel.HIGH, town.clock.now() - days(1), None, id="d1")
    set_aside = (
        "INSERT INTO set_asides (person_key, source_id, record_id, effective_at, recorded_at,"
        " reason, log_index) VALUES (NULL, 'lab-1', NULL, 0, 0, 'test', -1)"
    )
    # SQLite's triggers run for each row: each statement touches at least one.
    statements = [("set_asides", set_aside)]
    statements += [(table, f"UPDATE {table} SET {column} = {column}")
                   for table, column in _A_COLUMN.items()]  # fmt: skip
    statements += [("set_asides", "DELETE FROM set_asides")]
    assert {table for table, _ in statements} == set(reference_stamp.TABLES)
    for table, statement in statements:
        with database.write() as conn:
            before = reference_stamp.read(conn)
            conn.execute(text(statement))
            assert reference_stamp.read(conn) not in (None, before), (table, statement)


def test_without_a_stamp_every_batch_reads_the_tables(town: Town, database: Database) -> None:
    """As on Citus, where `install` makes neither triggers nor the stamp's row: nothing is
    kept, so a write no trigger announces is seen by the next batch all the same."""
    alice, bob = town.person("alice"), town.person("bob")
    with database.write() as conn:
        reference_stamp.uninstall(conn)
        conn.execute(reference_stamp.reference_stamp.delete())
    assert town.test(alice, town.clock.now(), "negative").accepted == 1
    _run_elsewhere(database, "UPDATE sources SET active = false WHERE id = 'lab-1'")
    with pytest.raises(InputRejected) as refused:
        town.test(bob, town.clock.now(), "negative")
    assert refused.value.code == "source.inactive"


def test_a_key_change_co_signed_by_another_process_refuses_the_old_key_at_the_next_batch(
    town: Town, elsewhere: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """The co-signature updates the sources in its own transaction, which renews the stamp:
    the copy this process holds is not used again."""
    alice = town.person("alice")
    assert town.test(alice, town.clock.now(), "negative").accepted == 1  # the copy is read
    new_key = Ed25519PrivateKey.from_private_bytes(b"\x45" * 32)
    town.register_staff()
    other = make_services(elsewhere, clock, tmp_path / "elsewhere")
    now = town.clock.now()
    change = other.source_keys.propose(None, "lab-1", public(new_key), None, now=now)
    supervisor = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))
    other.source_keys.cosign(supervisor, change.id, now=now)
    with pytest.raises(InputRejected) as refused:
        town.services.intake.submit(lab_batch(town, alice, town.keys["lab-1"], "old"), now=now)
    assert refused.value.code == "batch.signature_invalid"
    fresh = lab_batch(town, alice, new_key, "new")
    assert town.services.intake.submit(fresh, now=now).accepted == 1
