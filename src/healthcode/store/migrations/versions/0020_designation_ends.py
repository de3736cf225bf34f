"""a designation's ends: cut short, withdrawn as made in error, or withdrawn while pending

A designation's row gets the end in effect (the last recorded, as an order's row has), and each
end it replaced becomes a row of ``designation_earlier_ends``, so the self-check rebuilds every
``designation_end`` entry and the rules read at an instant the end known then. Before this
revision no designation could end early, so there is nothing to move. Where migration 0013
distributed the schema (Citus), the new table is a reference table, as ``designations`` is.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TABLE = "designation_earlier_ends"
COLUMNS = ("ended_at", "ended_recorded_at", "end_reason", "ended_by", "end_log_index")


def upgrade() -> None:
    conn = op.get_bind()
    # Plain ALTER TABLE ... ADD COLUMN on both backends: a batch copy of the table on SQLite
    # would drop its reference-stamp triggers (store/reference_stamp.py).
    op.add_column("designations", sa.Column("ended_at", Instant(), nullable=True))
    op.add_column("designations", sa.Column("ended_recorded_at", Instant(), nullable=True))
    op.add_column("designations", sa.Column("end_reason", sa.String(length=32), nullable=True))
    op.add_column("designations", sa.Column("ended_by", ID, nullable=True))
    op.add_column("designations", sa.Column("end_log_index", sa.BigInteger(), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("designation_id", ID, nullable=False),
        sa.Column("ended_at", Instant(), nullable=False),
        sa.Column("recorded_at", Instant(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("ended_by", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["designation_id"],
            ["designations.id"],
            name=op.f("fk_designation_earlier_ends_designation_id_designations"),
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_designation_earlier_ends")),
    )
    op.create_index("ix_designation_earlier_ends_designation", TABLE, ["designation_id"])
    if conn.dialect.name != "postgresql":
        return
    if conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")) is None:
        return
    # Only where 0013 placed `designations` (a reference table) is the new one placed beside it.
    placed = conn.scalar(
        sa.text("SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'designations'::regclass")
    )
    if placed is not None:
        for statement in citus.placed_later(metadata, TABLE):
            conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    op.drop_index("ix_designation_earlier_ends_designation", table_name=TABLE)
    op.drop_table(TABLE)
    for column in COLUMNS:
        op.drop_column("designations", column)  # SQLite 3.35 or later
