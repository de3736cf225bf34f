"""Citus: distribute the schema by person, where the citus extension is installed

Runs only where ``citus`` is installed (``CREATE EXTENSION citus`` first, on the coordinator):
it re-keys the person-scoped tables' primary, unique and foreign keys to hold ``person_key``,
makes the shared tables reference tables and distributes the person-scoped ones by
``person_key`` (``store/citus.py``, ``docs/citus.md``). On SQLite and on PostgreSQL without
Citus it does nothing; the tests run its plain PostgreSQL statements on PostgreSQL. There is no
downgrade: undistributing is Citus's ``undistribute_table``, an operator's decision.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.tables import metadata

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    if conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")) is None:
        return
    # The tables of this revision: a later one that adds a table places it itself.
    existing = sa.inspect(conn).get_table_names()
    for statement in citus.statements(metadata, only=existing):
        conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    pass
