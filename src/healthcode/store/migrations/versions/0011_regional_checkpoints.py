"""regional checkpoints recorded by the national log

One row per `regional_checkpoint` entry: the region's origin, size, root, the signed note and
the key that verified it, and the size recorded before (docs/transparency-log.md, "Regional
logs and the national log").

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import healthcode.store.instants

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Instant = healthcode.store.instants.Instant


def upgrade() -> None:
    op.create_table(
        "regional_checkpoints",
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("previous_size", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_regional_checkpoints")),
        sa.UniqueConstraint("origin", "size", name=op.f("uq_regional_checkpoints_origin_size")),
    )


def downgrade() -> None:
    op.drop_table("regional_checkpoints")
