"""transparency log

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import healthcode.store.instants

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", healthcode.store.instants.Instant(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_log_checkpoints")),
    )
    op.create_table(
        "log_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", healthcode.store.instants.Instant(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_entries")),
    )
    op.create_table(
        "log_halts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_halts")),
    )
    op.create_table(
        "log_hashes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_hashes")),
    )
    op.create_table(
        "person_secrets",
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("escrow", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", healthcode.store.instants.Instant(), nullable=False),
        sa.PrimaryKeyConstraint("person_key", name=op.f("pk_person_secrets")),
    )
    with op.batch_alter_table("designations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f("uq_designations_log_index"), ["log_index"])

    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False))

    with op.batch_alter_table("evidence_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=False))
        batch_op.create_unique_constraint(
            batch_op.f("uq_evidence_batches_log_index"), ["log_index"]
        )

    with op.batch_alter_table("rulebooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f("uq_rulebooks_log_index"), ["log_index"])

    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f("uq_status_changes_log_index"), ["log_index"])


def downgrade() -> None:
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_status_changes_log_index"), type_="unique")
        batch_op.drop_column("log_index")

    with op.batch_alter_table("rulebooks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_rulebooks_log_index"), type_="unique")
        batch_op.drop_column("log_index")

    with op.batch_alter_table("evidence_batches", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_evidence_batches_log_index"), type_="unique")
        batch_op.drop_column("log_index")

    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("position")

    with op.batch_alter_table("designations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_designations_log_index"), type_="unique")
        batch_op.drop_column("log_index")

    op.drop_table("person_secrets")
    op.drop_table("log_hashes")
    op.drop_table("log_halts")
    op.drop_table("log_entries")
    op.drop_table("log_checkpoints")
