"""Migration 0023 lets a key change propose a source not registered yet, and adds the table of
wider jurisdictions: a key change stored before it keeps what it held; on the way down the
proposals of new sources go, and the foreign key to the sources comes back. On SQLite and
PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from healthcode.store.database import Database
from healthcode.store.migrate import alembic_config

BEFORE = "0022"
AT = 1_780_000_000_000_000  # an instant, as stored (microseconds)
ROW = ("INSERT INTO source_key_changes (id, source_id, authority_id, public_key, kinds, "
       "previous_key, previous_kinds, proposed_at, expires_at, status, log_index{extra}) "
       "VALUES (:id, :source, 'zz-health', :key, 'test_result', :previous, '', :at, :at, "
       "'pending', :index{values})")  # fmt: skip


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_a_key_change_may_name_a_source_not_registered_yet(empty: Database) -> None:
    db = empty
    config = alembic_config(db)
    command.upgrade(config, BEFORE)
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO areas (code, name_zh, name_en) VALUES ('410100', 'zz', 'zz')")
        )
        conn.execute(text("INSERT INTO authorities (id, name_zh, name_en) "
                          "VALUES ('zz-health', 'zz', 'zz')"))  # fmt: skip
        conn.execute(text("INSERT INTO sources (id, authority_id, name, public_key, kinds, "
                          "area_code, active, registered_at) VALUES ('lab-1', 'zz-health', "
                          "'lab-1', :key, 'test_result', '410100', true, :at)"),
                     {"key": b"\x01" * 32, "at": AT})  # fmt: skip
        conn.execute(text(ROW.format(extra="", values="")), {
            "id": "key-old", "source": "lab-1", "key": b"\x02" * 32, "previous": b"\x01" * 32,
            "at": AT, "index": 1,
        })  # fmt: skip
    command.upgrade(config, "0023")
    assert "jurisdiction_changes" in _tables(db)
    new = {"id": "key-new", "source": "lab-2", "key": b"\x03" * 32, "previous": None, "at": AT,
           "index": 2, "name": "lab two", "area": "410100"}  # fmt: skip
    with db.write() as conn:
        conn.execute(
            text(ROW.format(extra=", name, area_code", values=", :name, :area")), new
        )  # fmt: skip
        rows = conn.execute(text("SELECT id, source_id, previous_key, name, area_code "
                                 "FROM source_key_changes ORDER BY id")).all()  # fmt: skip
    assert [tuple(row) for row in rows] == [
        ("key-new", "lab-2", None, "lab two", "410100"),
        ("key-old", "lab-1", b"\x01" * 32, None, None),
    ]
    command.downgrade(config, BEFORE)
    assert "jurisdiction_changes" not in _tables(db)
    with db.read() as conn:
        assert conn.execute(text("SELECT id FROM source_key_changes")).scalars().all() == [
            "key-old"
        ]
    with db.engine.connect() as conn:
        keys = inspect(conn).get_foreign_keys("source_key_changes")
    assert any(key["referred_table"] == "sources" for key in keys)
    command.upgrade(config, "head")
