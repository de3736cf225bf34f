"""staff sign-ins logged

Each time a member of staff signs in with their password is a row of ``staff_sign_ins``
behind its ``staff_sign_in`` log entry (services/staff.py), and the member's page lists them.
Before this revision sign-ins left nothing but the throttle's failures, so there is nothing to
move. Where migration 0013 distributed the schema (Citus), the table is a reference table, as
``staff`` is.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

TABLE = "staff_sign_ins"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("authority_id", ID, nullable=True),
        sa.Column("signed_in_at", Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_sign_ins_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_staff_sign_ins")),
    )
    op.create_index("ix_staff_sign_ins_staff", TABLE, ["staff_id", "log_index"])
    # Only where 0013 placed `staff` (a reference table) is the new one placed beside it.
    citus.place_beside(op.get_bind(), metadata, TABLE, "staff")


def downgrade() -> None:
    op.drop_index("ix_staff_sign_ins_staff", table_name=TABLE)
    op.drop_table(TABLE)
