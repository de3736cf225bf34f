"""new sources and wider jurisdictions a registry load proposes, for a supervisor to co-sign

Once an authority has a supervisor, a load proposes a new source of it as a key change of a
source with no key yet (services/registry_proposals.py): ``source_key_changes`` loses its
foreign key to ``sources`` (that source has no row until the co-signature registers it),
``previous_key`` may be NULL, and ``name`` and ``area_code`` hold the registration the
co-signature makes. A wider jurisdiction is proposed in the new ``jurisdiction_changes``.
Every row before this revision is a key change of a registered source, and stays as it is.
Where migration 0013 distributed the schema (Citus), the new table is a reference table, as
``authorities`` is. Downgrading deletes the proposals of new sources (their entries are then
reported by the self-check as having no stored record).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

KEYS = "source_key_changes"
TABLE = "jurisdiction_changes"


def upgrade() -> None:
    # A batch copy on SQLite (a foreign key is dropped); the table has no reference-stamp
    # triggers to lose (store/reference_stamp.py). On PostgreSQL, plain ALTER TABLEs.
    with op.batch_alter_table(KEYS, schema=None) as batch_op:
        batch_op.drop_constraint("fk_source_key_changes_source_id_sources", type_="foreignkey")
        batch_op.alter_column(
            "previous_key", existing_type=sa.LargeBinary(length=32), nullable=True
        )
        batch_op.add_column(sa.Column("name", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("area_code", sa.String(length=6), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_source_key_changes_area_code_areas"), "areas", ["area_code"], ["code"]
        )
    op.create_table(
        TABLE,
        sa.Column("id", ID, nullable=False),
        sa.Column("authority_id", ID, nullable=False),
        sa.Column("jurisdiction", sa.Text(), nullable=False),
        sa.Column("previous_jurisdiction", sa.Text(), nullable=False),
        sa.Column("proposed_at", Instant(), nullable=False),
        sa.Column("expires_at", Instant(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", Instant(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("decision_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["authorities.id"],
            name=op.f("fk_jurisdiction_changes_authority_id_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_jurisdiction_changes_decided_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdiction_changes")),
        sa.UniqueConstraint(
            "decision_log_index", name=op.f("uq_jurisdiction_changes_decision_log_index")
        ),
        sa.UniqueConstraint("log_index", name=op.f("uq_jurisdiction_changes_log_index")),
    )  # fmt: skip
    op.create_index("ix_jurisdiction_changes_authority_id", TABLE, ["authority_id"])
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    # Only where 0013 ran Citus's calls: there the authorities are a reference table, and so
    # is this.
    if conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")) is None:
        return
    for statement in citus.placed_later(metadata, TABLE):
        conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    op.drop_index("ix_jurisdiction_changes_authority_id", table_name=TABLE)
    op.drop_table(TABLE)
    # The proposals of new sources: not key changes of a registered source, as 0019 keeps.
    op.execute(sa.text(f"DELETE FROM {KEYS} WHERE previous_key IS NULL"))
    with op.batch_alter_table(KEYS, schema=None) as batch_op:
        batch_op.drop_constraint("fk_source_key_changes_area_code_areas", type_="foreignkey")
        batch_op.drop_column("area_code")
        batch_op.drop_column("name")
        batch_op.alter_column(
            "previous_key", existing_type=sa.LargeBinary(length=32), nullable=False
        )
        batch_op.create_foreign_key(
            op.f("fk_source_key_changes_source_id_sources"), "sources", ["source_id"], ["id"]
        )
