"""proposed changes of a source's key and kinds, each co-signed or withdrawn

A registered source gets a new key or more kinds only once a supervisor of its authority
co-signs the proposal (services/source_keys.py); each row holds the proposal, its decision and
the indexes of their log entries. Where migration 0013 distributed the schema (Citus), the
table is a reference table, like the sources it names.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLE = "source_key_changes"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", ID, nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("authority_id", ID, nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("previous_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("previous_kinds", sa.Text(), nullable=False),
        sa.Column("proposed_by", ID, nullable=True),
        sa.Column("proposed_at", Instant(), nullable=False),
        sa.Column("expires_at", Instant(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", Instant(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("decision_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["authorities.id"],
            name=op.f("fk_source_key_changes_authority_id_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_source_key_changes_decided_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["staff.id"], name=op.f("fk_source_key_changes_proposed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_source_key_changes_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_key_changes")),
        sa.UniqueConstraint(
            "decision_log_index", name=op.f("uq_source_key_changes_decision_log_index")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_source_key_changes_log_index")),
    )  # fmt: skip
    op.create_index("ix_source_key_changes_source_id", TABLE, ["source_id"])
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    # Only where 0013 ran Citus's calls: there the sources are a reference table, and so is this.
    if conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")) is None:
        return
    for statement in citus.placed_later(metadata, TABLE):
        conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    op.drop_index("ix_source_key_changes_source_id", table_name=TABLE)
    op.drop_table(TABLE)
