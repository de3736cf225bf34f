"""the reference stamp, renewed by triggers on the small tables every write reads

One row whose value the triggers on sources, areas, rulebooks, designations and set-asides
renew in every transaction that writes them, so a process may keep a copy of those tables
while the stamp is unchanged (``store/reference_stamp.py``).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store import reference_stamp

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reference_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_stamp")),
    )
    reference_stamp.install(op.get_bind())


def downgrade() -> None:
    reference_stamp.uninstall(op.get_bind())
    op.drop_table("reference_stamp")
