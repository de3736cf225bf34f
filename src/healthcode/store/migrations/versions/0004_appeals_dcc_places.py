"""appeals dcc places

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import healthcode.store.instants

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_cards",
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("valid_until", healthcode.store.instants.Instant(), nullable=False),
        sa.PrimaryKeyConstraint("person_key", name=op.f("pk_identity_cards")),
        sa.UniqueConstraint("commitment", name=op.f("uq_identity_cards_commitment")),
    )
    op.create_table(
        "person_identities",
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("family_name", sa.String(length=80), nullable=True),
        sa.Column("given_name", sa.String(length=80), nullable=True),
        sa.Column("birth_date", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("person_key", name=op.f("pk_person_identities")),
    )
    op.create_table(
        "trust_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("usages", sa.Text(), nullable=False),
        sa.Column("not_before", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("not_after", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("registered_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revocation_log_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_trust_keys")),
        sa.UniqueConstraint("log_index", name=op.f("uq_trust_keys_log_index")),
        sa.UniqueConstraint(
            "revocation_log_index", name=op.f("uq_trust_keys_revocation_log_index")
        ),
    )
    with op.batch_alter_table("trust_keys", schema=None) as batch_op:
        batch_op.create_index("ix_trust_keys_issuer", ["issuer", "generation"], unique=False)

    op.create_table(
        "trust_lists",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("issued_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_trust_lists")),
        sa.UniqueConstraint("log_index", name=op.f("uq_trust_lists_log_index")),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("filed_by", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("colour", sa.String(length=8), nullable=True),
        sa.Column("rule_id", sa.String(length=48), nullable=True),
        sa.Column("ground", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("authority_id", sa.String(length=64), nullable=False),
        sa.Column("filed_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("deadline", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("ends_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("replacement_order_id", sa.String(length=64), nullable=True),
        sa.Column("answer_log_index", sa.BigInteger(), nullable=True),
        sa.Column("lapsed_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("lapse_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["staff.id"], name=op.f("fk_appeals_answered_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["authorities.id"], name=op.f("fk_appeals_authority_id_authorities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("answer_log_index", name=op.f("uq_appeals_answer_log_index")),
        sa.UniqueConstraint("lapse_log_index", name=op.f("uq_appeals_lapse_log_index")),
        sa.UniqueConstraint("log_index", name=op.f("uq_appeals_log_index")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appeals_authority", ["authority_id", "status", "deadline"], unique=False
        )
        batch_op.create_index("ix_appeals_due", ["status", "deadline"], unique=False)
        batch_op.create_index("ix_appeals_person", ["person_key"], unique=False)

    op.create_table(
        "dcc_signers",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("not_before", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("not_after", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("added_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("removed_at", healthcode.store.instants.Instant(), nullable=True),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        sa.Column("remove_reason", sa.String(length=32), nullable=True),
        sa.Column("remove_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_dcc_signers_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_dcc_signers")),
        sa.UniqueConstraint("log_index", name=op.f("uq_dcc_signers_log_index")),
        sa.UniqueConstraint("remove_log_index", name=op.f("uq_dcc_signers_remove_log_index")),
    )
    with op.batch_alter_table("dcc_signers", schema=None) as batch_op:
        batch_op.create_index("ix_dcc_signers_kid", ["kid"], unique=False)

    op.create_table(
        "scan_batches",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("opened_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("sealed_at", healthcode.store.instants.Instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_scan_batches_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("source_id", "batch_id", name=op.f("pk_scan_batches")),
    )
    with op.batch_alter_table("scan_batches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scan_batches_open", ["sealed_at", "source_id", "shard"], unique=False
        )

    op.create_table(
        "venue_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("venue_id", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("not_before", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("not_after", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("registered_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_keys_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_venue_keys")),
        sa.UniqueConstraint("log_index", name=op.f("uq_venue_keys_log_index")),
    )
    with op.batch_alter_table("venue_keys", schema=None) as batch_op:
        batch_op.create_index("ix_venue_keys_venue", ["venue_id", "generation"], unique=False)

    op.create_table(
        "appeal_citations",
        sa.Column("appeal_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_citations_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint(
            "appeal_id", "source_id", "record_id", name=op.f("pk_appeal_citations")
        ),
    )
    op.create_table(
        "oversight_cases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("appeal_id", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", healthcode.store.instants.Instant(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_oversight_cases_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversight_cases")),
        sa.UniqueConstraint("appeal_id", name=op.f("uq_oversight_cases_appeal_id")),
        sa.UniqueConstraint("log_index", name=op.f("uq_oversight_cases_log_index")),
    )


def downgrade() -> None:
    op.drop_table("oversight_cases")
    op.drop_table("appeal_citations")
    with op.batch_alter_table("venue_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_venue_keys_venue")

    op.drop_table("venue_keys")
    with op.batch_alter_table("scan_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_batches_open")

    op.drop_table("scan_batches")
    with op.batch_alter_table("dcc_signers", schema=None) as batch_op:
        batch_op.drop_index("ix_dcc_signers_kid")

    op.drop_table("dcc_signers")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_person")
        batch_op.drop_index("ix_appeals_due")
        batch_op.drop_index("ix_appeals_authority")

    op.drop_table("appeals")
    op.drop_table("trust_lists")
    with op.batch_alter_table("trust_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_keys_issuer")

    op.drop_table("trust_keys")
    op.drop_table("person_identities")
    op.drop_table("identity_cards")
