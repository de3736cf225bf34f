"""Migration 0021 gives each refusal the staff member behind it, and takes it away again: the
rows before it keep what they held and name nobody. On SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from healthcode.store.database import Database
from healthcode.store.migrate import alembic_config

BEFORE = "0019"
AT = 1_780_000_000_000_000  # an instant, as stored (microseconds)


def _columns(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("refusals")}


def _indexes(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {str(index["name"]) for index in inspect(conn).get_indexes("refusals")}


def test_refusals_gain_their_actor_and_lose_it_on_the_way_down(empty: Database) -> None:
    db = empty
    config = alembic_config(db)
    command.upgrade(config, BEFORE)
    with db.write() as conn:
        conn.execute(text("INSERT INTO refusals (at, code, route, source_id) "
                          "VALUES (:at, 'batch.signature_invalid', '/api/v1/evidence/batches', "
                          "'lab-1')"), {"at": AT})  # fmt: skip
    command.upgrade(config, "0021")
    assert {"actor_id", "actor_role", "actor_authority"} <= _columns(db)
    assert "ix_refusals_actor" in _indexes(db)
    with db.write() as conn:
        conn.execute(text("INSERT INTO refusals (at, code, route, actor_id, actor_role, "
                          "actor_authority) VALUES (:at, 'order.cosign_self', '/api/v1/orders', "
                          "'zz-sup-1', 'supervisor', 'zz-health')"), {"at": AT + 1})  # fmt: skip
        rows = conn.execute(
            text(
                "SELECT code, source_id, actor_id, actor_role, actor_authority "
                "FROM refusals ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("batch.signature_invalid", "lab-1", None, None, None),
        ("order.cosign_self", None, "zz-sup-1", "supervisor", "zz-health"),
    ]
    command.downgrade(config, BEFORE)
    assert _columns(db) == {"id", "at", "code", "route", "source_id"}
    assert "ix_refusals_actor" not in _indexes(db)
    with db.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM refusals")) == 2
    command.upgrade(config, "head")
    assert "actor_id" in _columns(db)
