"""person tokens the operator issued

A person's bearer token or sign-in link the operator mints (``healthcode admin token``, the
demo's links) is a row of ``person_tokens`` behind its ``person_token`` log entry
(services/person_tokens.py), and the person's page lists them. Before this revision such
tokens were minted unlogged, so there is nothing to move. Where migration 0013 distributed the
schema (Citus), the table is distributed by the person key, colocated with ``persons``.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TABLE = "person_tokens"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("token_id", ID, nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valid_from", Instant(), nullable=False),
        sa.Column("valid_until", Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_person_tokens")),
        sa.UniqueConstraint("log_index", name=op.f("uq_person_tokens_log_index")),
    )
    op.create_index("ix_person_tokens_person", TABLE, ["person_key", "valid_from"])
    # Only where 0013 placed `persons` is the new table distributed beside it.
    citus.place_beside(op.get_bind(), metadata, TABLE, "persons")


def downgrade() -> None:
    op.drop_index("ix_person_tokens_person", table_name=TABLE)
    op.drop_table(TABLE)
