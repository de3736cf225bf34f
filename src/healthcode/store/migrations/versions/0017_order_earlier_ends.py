"""an order's earlier ends, each with its log entry

An order's end recorded ahead of time (shortened) may be replaced by an earlier one: shortened
again, lifted, or ended by an appeal's outcome or lapse. The order's row keeps the end in effect;
each end it replaced becomes a row here, so the self-check rebuilds every ``order_end`` entry
and a status as known at an instant reads the end known then. Before this revision an order had
at most one end, so there is nothing to move. On Citus (where migration 0013 distributed the
schema) the table is distributed with the orders it belongs to.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLE = "order_earlier_ends"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("ended_at", Instant(), nullable=False),
        sa.Column("recorded_at", Instant(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("ended_by", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_earlier_ends_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_order_earlier_ends")),
    )
    op.create_index("ix_order_earlier_ends_order", TABLE, ["order_id"])
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    if conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")) is None:
        return
    for statement in citus.statements(metadata, only={TABLE}):
        conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    op.drop_index("ix_order_earlier_ends_order", table_name=TABLE)
    op.drop_table(TABLE)
