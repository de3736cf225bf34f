"""Migrations 0019 (source key changes), 0020 (designation ends) and 0021 (refusal actors),
written on three branches and merged one after another, then 0022 (staff tokens) and 0023 (registry proposals),
written beside each other and merged in that order, then 0024 (staff registrations) and 0025
(person tokens), written beside each other and merged in that order, then 0026 (venue
tokens) and 0027 (guardianship entries), also written beside each other, then 0028 (staff
passwords) and 0029 (person token uses), written beside each other, then 0030 (staff
sign-ins) and 0031 (card checks made with venue device tokens), also beside each other, then
0032 (when a staff password was set) and 0033 (guardianship indices): from a
store at 0018 holding a designation and a refusal, up to the head, down to 0018 and up again,
on SQLite and PostgreSQL. The rows stay, and the designations keep the triggers that renew the reference
stamp (a copy of the table on the way would drop them)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from healthcode.store.database import Database
from healthcode.store.migrate import alembic_config

AT = 1_780_000_000_000_000  # an instant, as stored (microseconds)


def _stamp(db: Database) -> str:
    with db.read() as conn:
        return str(conn.scalar(text("SELECT stamp FROM reference_stamp WHERE id = 1")))


def _columns(db: Database, table: str) -> set[str]:
    with db.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns(table)}


def test_the_merged_revisions_form_one_line(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config(Database(f"sqlite:///{tmp_path / 'm.db'}")))
    assert script.get_heads() == ["0033"]
    chain = [
        script.get_revision(rev)
        for rev in (f"{n:04}" for n in range(19, 34))  # 0019 to 0033
    ]
    assert [(r.revision, r.down_revision) for r in chain if r is not None] == [
        ("0019", "0018"),
        ("0020", "0019"),
        ("0021", "0020"),
        ("0022", "0021"),
        ("0023", "0022"),
        ("0024", "0023"),
        ("0025", "0024"),
        ("0026", "0025"),
        ("0027", "0026"),
        ("0028", "0027"),
        ("0029", "0028"),
        ("0030", "0029"),
        ("0031", "0030"),
        ("0032", "0031"),
        ("0033", "0032"),
    ]
    # Each file says what it revises, as Alembic reads it.
    for revision in chain:
        assert revision is not None and revision.doc is not None
        assert f"Revision ID: {revision.revision}" in (revision.module.__doc__ or "")
        assert f"Revises: {revision.down_revision}" in (revision.module.__doc__ or "")


def test_from_0018_with_rows_up_down_and_up_again(empty: Database) -> None:
    db = empty
    config = alembic_config(db)
    command.upgrade(config, "0018")
    with db.write() as conn:
        conn.execute(text("INSERT INTO areas (code, name_zh, name_en) "
                          "VALUES ('410102', 'zz', 'zz')"))  # fmt: skip
        conn.execute(text("INSERT INTO authorities (id, name_zh, name_en) "
                          "VALUES ('zz-health', 'zz', 'zz')"))  # fmt: skip
        conn.execute(text("INSERT INTO designations (id, area_code, level, valid_from, "
                          "authority_id, case_count, basis, recorded_at, log_index) VALUES "
                          "('d-1', '410102', 'high', :at, 'zz-health', 3, 'cases', :at, 7)"),
                     {"at": AT})  # fmt: skip
        conn.execute(text("INSERT INTO refusals (at, code, route) "
                          "VALUES (:at, 'order.cosign_self', '/api/v1/orders')"), {"at": AT})  # fmt: skip
        conn.execute(text("INSERT INTO guardianships (person_key, guardian_key, since) "
                          "VALUES (:child, :parent, :at)"),
                     {"child": "c" * 32, "parent": "p" * 32, "at": AT})  # fmt: skip
    command.upgrade(config, "head")
    assert "end_log_index" in _columns(db, "designations")
    assert "password_set_at" in _columns(db, "staff")
    with db.read() as conn:
        row = conn.execute(text("SELECT id, ended_at, end_log_index FROM designations")).one()
    assert tuple(row) == ("d-1", None, None)
    assert {"staff_registrations", "venue_token_uses"} <= set(inspect(db.engine).get_table_names())
    with db.read() as conn:  # found by 0027: marked as recorded before logging, not tampered
        row = conn.execute(text("SELECT log_index, before_logging FROM guardianships")).one()
    assert (row[0], bool(row[1])) == (None, True)
    command.downgrade(config, "0018")
    assert "ended_at" not in _columns(db, "designations")
    assert "password_set_at" not in _columns(db, "staff")
    gone = {
        "source_key_changes",
        "staff_tokens",
        "staff_token_uses",
        "staff_registrations",
        "person_tokens",
        "venue_tokens",
        "guardianship_ends",
        "staff_password_changes",
        "person_token_uses",
        "staff_sign_ins",
        "venue_token_uses",
    }
    assert not gone & set(inspect(db.engine).get_table_names())
    with db.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM designations")) == 1
        assert conn.scalar(text("SELECT count(*) FROM refusals")) == 1
    before = _stamp(db)
    with db.write() as conn:
        conn.execute(text("UPDATE designations SET case_count = 4 WHERE id = 'd-1'"))
    assert _stamp(db) != before  # the trigger on designations is still there
    command.upgrade(config, "head")
    before = _stamp(db)
    with db.write() as conn:
        conn.execute(text("UPDATE designations SET end_reason = 'shortened' WHERE id = 'd-1'"))
    assert _stamp(db) != before
