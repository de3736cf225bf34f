"""acts made with a person token the operator issued

Each act a person (or a guardian) makes with a bearer token or sign-in link the operator
minted (an appeal filed or escalated, a DCC submitted, a guardian's read of a dependant's
record) is a row of ``person_token_uses`` behind its ``person_token_use`` log entry
(services/person_token_uses.py). Before this revision such acts were not told apart from the
person's own, so there is nothing to move. Where migration 0013 distributed the schema
(Citus), the table is distributed by the person key, colocated with ``persons``.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.schema import ID
from healthcode.store.tables import metadata

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

TABLE = "person_token_uses"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("token_id", ID, nullable=False),
        sa.Column("act_index", sa.BigInteger(), nullable=False),
        sa.Column("act", sa.String(length=32), nullable=False),
        sa.Column("at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_person_token_uses")),
        sa.UniqueConstraint("act_index", name=op.f("uq_person_token_uses_act_index")),
    )
    op.create_index("ix_person_token_uses_token", TABLE, ["person_key", "token_id"])
    # Only where 0013 placed `persons` is the new table distributed beside it.
    citus.place_beside(op.get_bind(), metadata, TABLE, "persons")


def downgrade() -> None:
    op.drop_index("ix_person_token_uses_token", table_name=TABLE)
    op.drop_table(TABLE)
