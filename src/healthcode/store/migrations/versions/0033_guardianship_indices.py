"""guardianships found by their guardian and by when they ended

Oversight's ``guardianships`` detector counts each guardian's dependants and reads the
guardianships ended in its window; a guardian's page reads their dependants. Without these
indices each is a scan of every family's rows (a city's millions). On Citus both tables are
distributed by person, and an index is made on every shard alike.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_guardianships_guardian", "guardianships", ["guardian_key"])
    op.create_index("ix_guardianship_ends_guardian", "guardianship_ends", ["guardian_key"])
    op.create_index("ix_guardianship_ends_until", "guardianship_ends", ["until"])


def downgrade() -> None:
    op.drop_index("ix_guardianship_ends_until", table_name="guardianship_ends")
    op.drop_index("ix_guardianship_ends_guardian", table_name="guardianship_ends")
    op.drop_index("ix_guardianships_guardian", table_name="guardianships")
