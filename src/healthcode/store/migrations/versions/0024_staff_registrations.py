"""each staff registration: what it did to the password, the member before it, the supervisors

A registration of a member of staff (``healthcode admin load``) is a row of the new
``staff_registrations`` behind its ``registry`` entry, which now also states whether the load
set the member's password, how the member stood before it and how many active supervisors
their authority had (services/staff.py), for oversight's ``staff_registry`` detector. Earlier
registrations have their entries only, without those fields: there is nothing to move. Where
migration 0013 distributed the schema (Citus), the table is a reference table, as ``staff`` is.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TABLE = "staff_registrations"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("authority_id", ID, nullable=True),
        sa.Column("area_code", sa.String(length=6), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password", sa.String(length=8), nullable=False),
        sa.Column("before_role", sa.String(length=16), nullable=True),
        sa.Column("before_authority_id", ID, nullable=True),
        sa.Column("before_active", sa.Boolean(), nullable=True),
        sa.Column("before_had_password", sa.Boolean(), nullable=True),
        sa.Column("supervisors_before", sa.Integer(), nullable=True),
        sa.Column("supervisors_left", sa.Integer(), nullable=True),
        sa.Column("recorded_at", Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_registrations_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_staff_registrations")),
    )
    op.create_index("ix_staff_registrations_recorded_at", TABLE, ["recorded_at"])
    # Only where 0013 placed `staff` (a reference table) is the new one placed beside it.
    citus.place_beside(op.get_bind(), metadata, TABLE, "staff")


def downgrade() -> None:
    op.drop_index("ix_staff_registrations_recorded_at", table_name=TABLE)
    op.drop_table(TABLE)
