"""oversight: findings, case lifecycle, households

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import healthcode.store.instants

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Instant = healthcode.store.instants.Instant


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("person_key", name=op.f("pk_households")),
    )
    op.create_index("ix_households_household", "households", ["household_id"])
    op.create_table(
        "oversight_findings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("detector", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("summary_zh", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("window_from", Instant(), nullable=False),
        sa.Column("window_to", Instant(), nullable=False),
        sa.Column("records", sa.Text(), nullable=False),
        sa.Column("found_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversight_findings")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_oversight_findings_fingerprint")),
    )
    op.create_index(
        "ix_oversight_findings_detector", "oversight_findings", ["detector", "found_at"]
    )
    with op.batch_alter_table("oversight_cases", schema=None) as batch_op:
        batch_op.alter_column("appeal_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("person_key", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("finding_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("updated_at", Instant(), nullable=True))
        batch_op.add_column(sa.Column("conclusion", sa.Text(), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_oversight_cases_finding_id"), ["finding_id"])
        batch_op.create_foreign_key(
            op.f("fk_oversight_cases_finding_id_oversight_findings"),
            "oversight_findings",
            ["finding_id"],
            ["id"],
        )
    op.create_table(
        "oversight_case_steps",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by_id", sa.String(length=64), nullable=False),
        sa.Column("at", Instant(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["oversight_cases.id"],
            name=op.f("fk_oversight_case_steps_case_id_oversight_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "seq", name=op.f("pk_oversight_case_steps")),
        sa.UniqueConstraint("log_index", name=op.f("uq_oversight_case_steps_log_index")),
    )


def downgrade() -> None:
    op.drop_table("oversight_case_steps")
    with op.batch_alter_table("oversight_cases", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_oversight_cases_finding_id_oversight_findings"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("uq_oversight_cases_finding_id"), type_="unique")
        batch_op.drop_column("conclusion")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("finding_id")
        batch_op.alter_column("person_key", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("appeal_id", existing_type=sa.String(length=64), nullable=False)
    op.drop_index("ix_oversight_findings_detector", table_name="oversight_findings")
    op.drop_table("oversight_findings")
    op.drop_index("ix_households_household", table_name="households")
    op.drop_table("households")
