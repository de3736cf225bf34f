"""an order's earlier ends, each with its log entry

An order's end recorded ahead of time (shortened) may be replaced by an earlier one: shortened
again, lifted, or ended by an appeal's outcome or lapse. The order's row keeps the end in effect;
each end it replaced becomes a row here, so the self-check rebuilds every ``order_end`` entry
and a status as known at an instant reads the end known then. Before this revision an order had
at most one end, so there is nothing to move. Where migration 0013 distributed the schema
(Citus), the table is re-keyed by person and distributed with the orders it belongs to, and its
key to them made by the person key after that.

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
    conn = op.get_bind()
    # Where 0013 distributed the schema, orders are keyed (person_key, id): the table's key to
    # them is made by the person key once it is placed (`citus.placed_later`).
    distributed = (
        conn.dialect.name == "postgresql"
        and citus.PERSON in sa.inspect(conn).get_pk_constraint("orders")["constrained_columns"]
    )
    to_orders = sa.ForeignKeyConstraint(
        ["order_id"], ["orders.id"], name=op.f("fk_order_earlier_ends_order_id_orders")
    )
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("ended_at", Instant(), nullable=False),
        sa.Column("recorded_at", Instant(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("ended_by", ID, nullable=False),
        *([] if distributed else [to_orders]),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_order_earlier_ends")),
    )
    op.create_index("ix_order_earlier_ends_order", TABLE, ["order_id"])
    if not distributed:
        return
    with_citus = conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'"))
    for statement in citus.placed_later(metadata, TABLE):
        if with_citus is not None or not statement.citus_only:
            conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    op.drop_index("ix_order_earlier_ends_order", table_name=TABLE)
    op.drop_table(TABLE)
