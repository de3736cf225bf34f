"""staff tokens the operator issued, and the acts made with them

A staff token the operator mints instead of a sign-in (``healthcode admin staff-token``, the
demo's links) is a row of ``staff_tokens`` behind its ``staff_token`` log entry, and each act
made with one (a co-signature, a refusal of a bulk request, a case step) a row of
``staff_token_uses`` behind its ``staff_token_use`` entry (services/staff_tokens.py). Before
this revision such tokens were minted unlogged, so there is nothing to move. Where migration
0013 distributed the schema (Citus), both are reference tables, as ``staff`` is.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TOKENS = "staff_tokens"
USES = "staff_token_uses"


def upgrade() -> None:
    op.create_table(
        TOKENS,
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("authority_id", ID, nullable=True),
        sa.Column("valid_from", Instant(), nullable=False),
        sa.Column("valid_until", Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_tokens_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_staff_tokens")),
        sa.UniqueConstraint("log_index", name=op.f("uq_staff_tokens_log_index")),
    )
    op.create_table(
        USES,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("act_index", sa.BigInteger(), nullable=False),
        sa.Column("act", sa.String(length=32), nullable=False),
        sa.Column("at", Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["staff_tokens.token_id"],
            name=op.f("fk_staff_token_uses_token_id_staff_tokens"),
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_staff_token_uses")),
        sa.UniqueConstraint("act_index", name=op.f("uq_staff_token_uses_act_index")),
    )
    op.create_index("ix_staff_token_uses_token", USES, ["token_id"])
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    if conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")) is None:
        return
    # Only where 0013 placed `staff` (a reference table) are the new ones placed beside it,
    # the tokens first: the uses point at them.
    placed = conn.scalar(
        sa.text("SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'staff'::regclass")
    )
    if placed is not None:
        for table in (TOKENS, USES):
            for statement in citus.placed_later(metadata, table):
                conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    op.drop_index("ix_staff_token_uses_token", table_name=USES)
    op.drop_table(USES)
    op.drop_table(TOKENS)
