"""guardianships logged: each one's entry, and those ended kept with both their entries

A guardianship's row gets the index of its ``guardianship`` entry; one ended moves to
``guardianship_ends`` with the index of its ``guardianship_end`` entry, so ``guardianships``
still holds exactly the guardianships in force (what every read checks) and the self-check
rebuilds both entries. Rows recorded before this revision have no entry (NULL): nothing here
can write one (it needs the people's secrets), so they are marked ``before_logging``, which
the self-check accepts where it reports a row without an entry written since (by hand, not by
the service); the operator logs each by recording it again (``healthcode admin guardian``). Where
migration 0013 distributed the schema (Citus), the new table is distributed by person with
the guardianships.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import citus
from healthcode.store.instants import Instant
from healthcode.store.tables import metadata

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

TABLE = "guardianship_ends"


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("guardianships", sa.Column("log_index", sa.BigInteger(), nullable=True))
    op.add_column(
        "guardianships",
        sa.Column("before_logging", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # Every row there is now was recorded before guardianships were logged.
    op.execute(sa.text("UPDATE guardianships SET before_logging = TRUE"))
    op.create_table(
        TABLE,
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("guardian_key", sa.String(length=32), nullable=False),
        sa.Column("since", Instant(), nullable=False),
        sa.Column("start_log_index", sa.BigInteger(), nullable=True),
        sa.Column("until", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("log_index", name=op.f("pk_guardianship_ends")),
    )
    op.create_index("ix_guardianship_ends_person", TABLE, ["person_key"])
    # Only where 0013 re-keyed the person-scoped tables (orders are then keyed by person too;
    # guardianships always were) is the new one re-keyed and placed beside them.
    distributed = (
        conn.dialect.name == "postgresql"
        and citus.PERSON in sa.inspect(conn).get_pk_constraint("orders")["constrained_columns"]
    )
    if not distributed:
        return
    with_citus = conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'"))
    for statement in citus.placed_later(metadata, TABLE):
        if with_citus is not None or not statement.citus_only:
            conn.execute(sa.text(statement.sql))


def downgrade() -> None:
    op.drop_index("ix_guardianship_ends_person", table_name=TABLE)
    op.drop_table(TABLE)
    op.drop_column("guardianships", "before_logging")  # SQLite 3.35 or later
    op.drop_column("guardianships", "log_index")
