"""the staff member behind a refused act

A refused staff act (an order, designation, appeal answer, co-signature, case step...) names the
authenticated staff member who tried it: badge, role and authority, so oversight can see an
official who keeps trying what the checks refuse (`refused_acts`, docs/oversight.md). A
person's or a source's refusal leaves the three empty, as every row before this revision. The
index covers staff rows only. ``refusals`` stays on the coordinator where migration 0013
distributed the schema (store/citus.py): new columns on a local table need nothing of Citus.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store.schema import ID

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

STAFF_ONLY = sa.text("actor_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("refusals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", ID, nullable=True))
        batch_op.add_column(sa.Column("actor_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("actor_authority", ID, nullable=True))
        batch_op.create_index(
            "ix_refusals_actor",
            ["actor_id", "at"],
            unique=False,
            sqlite_where=STAFF_ONLY,
            postgresql_where=STAFF_ONLY,
        )


def downgrade() -> None:
    with op.batch_alter_table("refusals", schema=None) as batch_op:
        batch_op.drop_index("ix_refusals_actor")
        batch_op.drop_column("actor_authority")
        batch_op.drop_column("actor_role")
        batch_op.drop_column("actor_id")
