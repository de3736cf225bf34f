"""when a member of staff's password was last set

``staff.password_set_at``: when a load (``healthcode admin load``) or the member
(services/staff_passwords.py) last set the member's password. A token given at a sign-in
before it no longer acts (web/auth.py), so a password changed or reset ends every session
opened with the one before. Members found here keep NULL (when theirs was set is unknown):
their sessions end at their next change. On Citus ``staff`` is a reference table, and the
column is added on every node alike.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from healthcode.store.instants import Instant

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("password_set_at", Instant(), nullable=True))


def downgrade() -> None:
    op.drop_column("staff", "password_set_at")  # SQLite 3.35 or later
