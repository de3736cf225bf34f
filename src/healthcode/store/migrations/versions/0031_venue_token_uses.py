"""card checks made with a venue device token

Each identity card a venue's device checks with a token the operator issued is a row of
``venue_token_uses`` behind its ``venue_token_use`` log entry, naming the check's ``access``
entry (services/venue_tokens.py), written in the check's transaction; the venue's page counts
them per token. Before this revision such checks were logged as the venue's own, with no word
of the token: nothing recorded which token made them, so there is nothing to move. Where
migration 0013 distributed the schema (Citus), the table is a reference table beside
``venue_tokens``, which its rows point at.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

TABLE = "venue_token_uses"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token_id", ID, nullable=False),
        sa.Column("act_index", sa.BigInteger(), nullable=False),
        sa.Column("act", sa.String(length=32), nullable=False),
        sa.Column("at", Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["venue_tokens.token_id"],
            name=op.f("fk_venue_token_uses_token_id_venue_tokens"),
        ),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_venue_token_uses")),
        sa.UniqueConstraint("act_index", name=op.f("uq_venue_token_uses_act_index")),
    )
    op.create_index("ix_venue_token_uses_token", TABLE, ["token_id", "at"])
    # Only where 0013 placed `venues`, and 0026 `venue_tokens` beside it (reference tables),
    # is the new one placed beside them.
    citus.place_beside(op.get_bind(), metadata, TABLE, "venue_tokens")


def downgrade() -> None:
    op.drop_index("ix_venue_token_uses_token", table_name=TABLE)
    op.drop_table(TABLE)
