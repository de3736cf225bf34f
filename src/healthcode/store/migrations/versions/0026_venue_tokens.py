"""venue device tokens the operator issued

A venue device's token the operator mints (``healthcode venue token``, the demo's venue link)
is a row of ``venue_tokens`` behind its ``venue_token`` log entry (services/venue_tokens.py),
and the venue's page lists them. Before this revision such tokens were minted unlogged, so
there is nothing to move. Where migration 0013 distributed the schema (Citus), the table is a
reference table, as ``venues`` is.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

TABLE = "venue_tokens"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("token_id", ID, nullable=False),
        sa.Column("venue_id", ID, nullable=False),
        sa.Column("valid_from", Instant(), nullable=False),
        sa.Column("valid_until", Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_tokens_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_venue_tokens")),
        sa.UniqueConstraint("log_index", name=op.f("uq_venue_tokens_log_index")),
    )
    op.create_index("ix_venue_tokens_venue", TABLE, ["venue_id", "valid_from"])
    # Only where 0013 placed `venues` (a reference table) is the new one placed beside it.
    citus.place_beside(op.get_bind(), metadata, TABLE, "venues")


def downgrade() -> None:
    op.drop_index("ix_venue_tokens_venue", table_name=TABLE)
    op.drop_table(TABLE)
