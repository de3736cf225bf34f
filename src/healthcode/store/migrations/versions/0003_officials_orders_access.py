"""officials orders access

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import healthcode.store.instants

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("accessor_id", sa.String(length=64), nullable=False),
        sa.Column("accessor_role", sa.String(length=16), nullable=False),
        sa.Column("authority_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
        sa.UniqueConstraint("log_index", name=op.f("uq_access_log_log_index")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index("ix_access_log_person", ["person_key", "at"], unique=False)

    op.create_table(
        "guardianships",
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("guardian_key", sa.String(length=32), nullable=False),
        sa.Column("since", healthcode.store.instants.Instant(), nullable=False),
        sa.PrimaryKeyConstraint("person_key", "guardian_key", name=op.f("pk_guardianships")),
    )
    op.create_table(
        "set_asides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("effective_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("recorded_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_set_asides")),
        sa.UniqueConstraint("log_index", name=op.f("uq_set_asides_log_index")),
    )
    op.create_table(
        "token_revocations",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", healthcode.store.instants.Instant(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_token_revocations")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("authority_id", sa.String(length=64), nullable=True),
        sa.Column("area_code", sa.String(length=6), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_at", healthcode.store.instants.Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name=op.f("fk_staff_area_code_areas")
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["authorities.id"], name=op.f("fk_staff_authority_id_authorities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("authority_id", sa.String(length=64), nullable=False),
        sa.Column("official_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("legal_basis", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("valid_from", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("valid_until", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("activated_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("cosigned_by", sa.String(length=64), nullable=True),
        sa.Column("cosign_log_index", sa.BigInteger(), nullable=True),
        sa.Column("extends", sa.String(length=64), nullable=True),
        sa.Column("ended_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("ended_recorded_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("end_log_index", sa.BigInteger(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["authorities.id"], name=op.f("fk_orders_authority_id_authorities")
        ),
        sa.ForeignKeyConstraint(
            ["cosigned_by"], ["staff.id"], name=op.f("fk_orders_cosigned_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["official_id"], ["staff.id"], name=op.f("fk_orders_official_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("log_index", name=op.f("uq_orders_log_index")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_authority", ["authority_id", "recorded_at"], unique=False)
        batch_op.create_index("ix_orders_person", ["person_key"], unique=False)

    op.create_table(
        "rulebook_proposals",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("authority_id", sa.String(length=64), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("effective_from", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cosigned_by", sa.String(length=64), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_rulebook_proposals_authority_id_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["cosigned_by"], ["staff.id"], name=op.f("fk_rulebook_proposals_cosigned_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["staff.id"], name=op.f("fk_rulebook_proposals_proposed_by_staff")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_rulebook_proposals")),
        sa.UniqueConstraint("log_index", name=op.f("uq_rulebook_proposals_log_index")),
    )
    op.create_table(
        "order_evidence",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_evidence_order_id_orders")
        ),
        sa.PrimaryKeyConstraint(
            "order_id", "source_id", "record_id", name=op.f("pk_order_evidence")
        ),
    )
    with op.batch_alter_table("designations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("designated_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("activated_at", healthcode.store.instants.Instant(), nullable=True)
        )
        batch_op.add_column(sa.Column("cosigned_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cosign_log_index", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("person_secrets", schema=None) as batch_op:
        batch_op.alter_column(
            "person_key",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=80),
            existing_nullable=False,
        )

    with op.batch_alter_table("rulebooks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("applied_at", healthcode.store.instants.Instant(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("rulebooks", schema=None) as batch_op:
        batch_op.drop_column("applied_at")

    with op.batch_alter_table("person_secrets", schema=None) as batch_op:
        batch_op.alter_column(
            "person_key",
            existing_type=sa.String(length=80),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
        )

    with op.batch_alter_table("designations", schema=None) as batch_op:
        batch_op.drop_column("cosign_log_index")
        batch_op.drop_column("cosigned_by")
        batch_op.drop_column("activated_at")
        batch_op.drop_column("designated_by")

    op.drop_table("order_evidence")
    op.drop_table("rulebook_proposals")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_person")
        batch_op.drop_index("ix_orders_authority")

    op.drop_table("orders")
    op.drop_table("staff")
    op.drop_table("token_revocations")
    op.drop_table("set_asides")
    op.drop_table("guardianships")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_access_log_person")

    op.drop_table("access_log")
