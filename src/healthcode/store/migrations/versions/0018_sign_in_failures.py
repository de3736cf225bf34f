"""failed staff sign-ins, counted by the throttle (a keyed hash of the badge id or address)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import healthcode.store.instants

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Instant = healthcode.store.instants.Instant


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index(
        "ix_sign_in_failures_subject_at", "sign_in_failures", ["subject", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_subject_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
