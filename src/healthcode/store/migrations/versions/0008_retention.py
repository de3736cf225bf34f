"""retention: purge accounting on evidence batches, the purges and the leaves they removed

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import healthcode.store.instants

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Instant = healthcode.store.instants.Instant
UNPURGED = sa.text("purged_records < record_count")


def upgrade() -> None:
    with op.batch_alter_table("evidence_batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purged_records", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("purged_at", Instant(), nullable=True))
    op.create_index(
        "ix_evidence_batches_unpurged",
        "evidence_batches",
        ["received_at"],
        sqlite_where=UNPURGED,
        postgresql_where=UNPURGED,
    )
    op.create_table(
        "retention_purges",
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("purged_at", Instant(), nullable=False),
        sa.Column("cutoff", Instant(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Integer(), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("identity_cards", sa.Integer(), nullable=False),
        sa.Column("removed", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_retention_purges")),
    )
    op.create_table(
        "retention_purge_batches",
        sa.Column("purge_log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("positions", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["purge_log_index"],
            ["retention_purges.log_index"],
            name=op.f("fk_retention_purge_batches_purge_log_index_retention_purges"),
        ),
        sa.PrimaryKeyConstraint(
            "purge_log_index",
            "source_id",
            "batch_id",
            name=op.f("pk_retention_purge_batches"),
        ),
    )


def downgrade() -> None:
    op.drop_table("retention_purge_batches")
    op.drop_table("retention_purges")
    op.drop_index("ix_evidence_batches_unpurged", table_name="evidence_batches")
    with op.batch_alter_table("evidence_batches", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
        batch_op.drop_column("purged_records")
