"""oversight read indexes

Two partial indexes for the detectors, each over a few percent of the evidence at most:
unverified venue visits by venue and time (the presence detectors), and positive test results
by time (the cases behind a designation). Without them each read went through every visit or
every test of the period, so a detector run over a city of a million people took hours; only
the rows they cover pay for them on insert.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UNVERIFIED = sa.text("presence = 'unverified'")
POSITIVE = sa.text("result = 'positive'")


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_unverified",
            ["venue_id", "occurred_at", "person_key", "area_code"],
            unique=False,
            sqlite_where=UNVERIFIED,
            postgresql_where=UNVERIFIED,
        )
        batch_op.create_index(
            "ix_evidence_positive",
            ["occurred_at", "person_key"],
            unique=False,
            sqlite_where=POSITIVE,
            postgresql_where=POSITIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_positive")
        batch_op.drop_index("ix_evidence_unverified")
