"""evidence partitioned by day on PostgreSQL

PostgreSQL only (SQLite keeps the plain table): ``evidence`` becomes a table RANGE-partitioned
by ``received_at`` (the instant retention's cutoff is compared with), one partition per UTC
day and a default partition, so retention drops a whole day instead of deleting its rows. Its
primary key becomes (source_id, record_id, received_at), as a partitioned table's keys must
hold the partition key; ``evidence_ids`` keeps (source_id, record_id) unique across all days.
Existing rows move into a partition for each day they were received on.

The work is `healthcode.store.partitions.partition_evidence`, which `Database.create_all`
runs too: the test suite's schema is then the one this migration builds.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

from healthcode.store import partitions

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        partitions.partition_evidence(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        partitions.unpartition_evidence(conn)
