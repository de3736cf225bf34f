"""The schema, as SQLAlchemy Core tables; Alembic migrations are generated from it.

Every person-scoped table carries ``person_key`` so the schema can be distributed by person.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)

# Tables declared elsewhere (beside their queries, or a group of its own in tables_*.py) are
# named here, so `metadata` is the whole schema and `tables.NAME` reaches every table.
from healthcode.store.idempotency import idempotency_keys as idempotency_keys
from healthcode.store.instants import Instant
from healthcode.store.jurisdiction_changes import jurisdiction_changes as jurisdiction_changes
from healthcode.store.person_tokens import person_token_uses as person_token_uses
from healthcode.store.person_tokens import person_tokens as person_tokens
from healthcode.store.reference_stamp import reference_stamp as reference_stamp
from healthcode.store.regions import regional_checkpoints as regional_checkpoints
from healthcode.store.schema import ID as ID
from healthcode.store.schema import metadata as metadata
from healthcode.store.sign_in_failures import sign_in_failures as sign_in_failures
from healthcode.store.source_keys import source_key_changes as source_key_changes
from healthcode.store.staff_passwords import staff_password_changes as staff_password_changes
from healthcode.store.staff_registrations import staff_registrations as staff_registrations
from healthcode.store.staff_sign_ins import staff_sign_ins as staff_sign_ins
from healthcode.store.tables_appeals import appeal_citations as appeal_citations
from healthcode.store.tables_appeals import appeals as appeals
from healthcode.store.tables_appeals import oversight_case_steps as oversight_case_steps
from healthcode.store.tables_appeals import oversight_cases as oversight_cases
from healthcode.store.tables_appeals import oversight_findings as oversight_findings
from healthcode.store.tables_dcc import dcc_signers as dcc_signers
from healthcode.store.tables_dcc import person_identities as person_identities
from healthcode.store.tables_log import log_bundles as log_bundles
from healthcode.store.tables_log import log_checkpoints as log_checkpoints
from healthcode.store.tables_log import log_entries as log_entries
from healthcode.store.tables_log import log_halts as log_halts
from healthcode.store.tables_log import log_tiles as log_tiles
from healthcode.store.tables_log import person_secrets as person_secrets
from healthcode.store.tables_orders import access_log as access_log
from healthcode.store.tables_orders import guardianship_ends as guardianship_ends
from healthcode.store.tables_orders import guardianships as guardianships
from healthcode.store.tables_orders import order_earlier_ends as order_earlier_ends
from healthcode.store.tables_orders import order_evidence as order_evidence
from healthcode.store.tables_orders import orders as orders
from healthcode.store.tables_orders import set_asides as set_asides
from healthcode.store.tables_orders import staff as staff
from healthcode.store.tables_orders import staff_token_uses as staff_token_uses
from healthcode.store.tables_orders import staff_tokens as staff_tokens
from healthcode.store.tables_orders import token_revocations as token_revocations
from healthcode.store.tables_places import identity_cards as identity_cards
from healthcode.store.tables_places import scan_batches as scan_batches
from healthcode.store.tables_places import trust_keys as trust_keys
from healthcode.store.tables_places import trust_lists as trust_lists
from healthcode.store.tables_places import venue_keys as venue_keys
from healthcode.store.venue_tokens import venue_token_uses as venue_token_uses
from healthcode.store.venue_tokens import venue_tokens as venue_tokens

areas = Table(
    "areas",
    metadata,
    Column("code", String(6), primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
)

authorities = Table(
    "authorities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
)

authority_areas = Table(
    "authority_areas",
    metadata,
    Column("authority_id", ID, ForeignKey("authorities.id"), primary_key=True),
    Column("area_code", String(6), ForeignKey("areas.code"), primary_key=True),
)

sources = Table(
    "sources",
    metadata,
    Column("id", ID, primary_key=True),
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("kinds", Text, nullable=False),  # space-separated evidence kinds
    Column("area_code", String(6), ForeignKey("areas.code"), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("registered_at", Instant, nullable=False),
)

venues = Table(
    "venues",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("area_code", String(6), ForeignKey("areas.code"), nullable=False),
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
)

# The local identity provider's people: the only table with names (personal data).
persons = Table(
    "persons",
    metadata,
    Column("person_key", String(32), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("home_area", String(6), ForeignKey("areas.code"), nullable=False),
    Column("registered_at", Instant, nullable=False),
)

evidence_batches = Table(
    "evidence_batches",
    metadata,
    Column("source_id", ID, ForeignKey("sources.id"), primary_key=True),
    Column("batch_id", ID, primary_key=True),
    Column("received_at", Instant, nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("signed_digest", LargeBinary(32), nullable=False),
    Column("merkle_root", LargeBinary(32), nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    # Retention (services/retention.py): how many of its records were purged, and when last.
    # The row and its log entry stay; `retention_purge_batches` says which leaves went.
    Column("purged_records", Integer, nullable=False, server_default="0"),
    Column("purged_at", Instant),
    # Batches with records left to purge, oldest first: fully purged ones drop out.
    Index(
        "ix_evidence_batches_unpurged",
        "received_at",
        sqlite_where=text("purged_records < record_count"),
        postgresql_where=text("purged_records < record_count"),
    ),
)

evidence = Table(
    "evidence",
    metadata,
    Column("source_id", ID, primary_key=True),
    Column("record_id", ID, primary_key=True),
    Column("batch_id", ID, nullable=False),
    Column("position", Integer, nullable=False),  # the record's place among the batch's leaves
    Column("person_key", String(32), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("area_code", String(6), nullable=False),
    Column("occurred_at", Instant, nullable=False),
    Column("received_at", Instant, nullable=False),
    # Kind-specific attributes as real columns, so rules can be evaluated in bulk.
    Column("method", String(16)),
    Column("result", String(16)),
    Column("presence", String(16)),
    Column("venue_id", ID),
    Column("quarantine_required", Boolean),
    Column("vaccine", String(64)),
    Column("dose", Integer),
    Column("port", String(64)),
    Column("case_ref", String(128)),
    # The record's canonical bytes as signed: a leaf of its batch's Merkle tree.
    Column("canonical", LargeBinary, nullable=False),
    Index("ix_evidence_person", "person_key", "occurred_at"),
    Index("ix_evidence_visits", "kind", "area_code", "occurred_at"),
    # A batch's leaves in order: sealing a scan batch, proofs, the self-check.
    Index("ix_evidence_batch", "source_id", "batch_id", "position"),
    # Unverified visits by venue and time, for the presence detectors (a few percent of rows).
    Index(
        "ix_evidence_unverified",
        "venue_id",
        "occurred_at",
        "person_key",
        "area_code",
        sqlite_where=text("presence = 'unverified'"),
        postgresql_where=text("presence = 'unverified'"),
    ),
    # Positive test results by time: cases behind designations (a fraction of a percent).
    Index(
        "ix_evidence_positive",
        "occurred_at",
        "person_key",
        sqlite_where=text("result = 'positive'"),
        postgresql_where=text("result = 'positive'"),
    ),
)

designations = Table(
    "designations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("area_code", String(6), ForeignKey("areas.code"), nullable=False),
    Column("venue_id", ID, ForeignKey("venues.id")),
    Column("level", String(8), nullable=False),
    Column("valid_from", Instant, nullable=False),
    Column("valid_to", Instant),
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
    Column("case_count", Integer, nullable=False),
    Column("basis", Text, nullable=False),
    Column("recorded_at", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    # Two-person rule: a designation touching many people waits for a supervisor's co-signature.
    Column("designated_by", ID),  # the official; none for the operator's own bootstrap
    Column("activated_at", Instant),
    Column("cosigned_by", ID),
    Column("cosign_log_index", BigInteger),
    # The last end recorded (cut short, withdrawn as made in error, or, pending, withdrawn):
    # it may lie ahead. What the rules read at an instant is `domain.designations.in_effect`.
    Column("ended_at", Instant),
    Column("ended_recorded_at", Instant),
    Column("end_reason", String(32)),
    Column("ended_by", ID),
    Column("end_log_index", BigInteger),
)

# A designation's ends before the one on its row, as `order_earlier_ends` for orders: each was
# a log entry the self-check rebuilds, and what the rules read at an instant before the next.
designation_earlier_ends = Table(
    "designation_earlier_ends",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("designation_id", ID, ForeignKey("designations.id"), nullable=False),
    Column("ended_at", Instant, nullable=False),
    Column("recorded_at", Instant, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("ended_by", ID, nullable=False),
    Index("ix_designation_earlier_ends_designation", "designation_id"),
)

rulebooks = Table(
    "rulebooks",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("published_at", Instant, nullable=False),
    Column("effective_from", Instant, nullable=False),
    Column("source", Text, nullable=False),  # RFC 8785 JSON of the edition
    Column("digest", String(64), nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    # When everyone was recomputed under this edition (the scheduler does it once it is in force).
    Column("applied_at", Instant),
)

rulebook_proposals = Table(
    "rulebook_proposals",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("source", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
    Column("proposed_by", ID, ForeignKey("staff.id"), nullable=False),
    Column("proposed_at", Instant, nullable=False),
    Column("effective_from", Instant, nullable=False),
    Column("status", String(16), nullable=False),  # pending | published
    Column("cosigned_by", ID, ForeignKey("staff.id")),
    Column("log_index", BigInteger, nullable=False, unique=True),
)

person_status = Table(
    "person_status",
    metadata,
    Column("person_key", String(32), primary_key=True),
    Column("colour", String(8), nullable=False),
    Column("rule_id", String(48), nullable=False),
    Column("inputs", Text, nullable=False),  # JSON list of input references
    Column("since", Instant, nullable=False),
    Column("valid_until", Instant),
    Column("rulebook_version", Integer, nullable=False),
    Column("computed_at", Instant, nullable=False),
    Index("ix_person_status_due", "valid_until"),
)

status_changes = Table(
    "status_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_key", String(32), nullable=False),
    Column("effective_at", Instant, nullable=False),
    Column("recorded_at", Instant, nullable=False),
    Column("colour", String(8), nullable=False),
    Column("rule_id", String(48), nullable=False),
    Column("previous_colour", String(8), nullable=False),
    Column("previous_rule_id", String(48), nullable=False),
    Column("inputs", Text, nullable=False),
    Column("valid_until", Instant),
    Column("rulebook_version", Integer, nullable=False),
    Column("cause", String(16), nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Index("ix_status_changes_person", "person_key", "effective_at"),
)

# Households as the identity provider registers them (hukou): personal data, read by oversight
# only to find orders or evidence that spread through household links (A4).
households = Table(
    "households",
    metadata,
    Column("person_key", String(32), primary_key=True),
    Column("household_id", ID, nullable=False),
    Index("ix_households_household", "household_id"),
)

# Refused input: what was refused and why, never what it said about anyone. A staff member's
# refused act names them (invariant 4: officials are accountable, their badge is no resident's
# personal data); a person's refusal names nobody.
refusals = Table(
    "refusals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("code", String(64), nullable=False),
    Column("route", String(128), nullable=False),
    Column("source_id", ID),
    Column("actor_id", ID),
    Column("actor_role", String(16)),
    Column("actor_authority", ID),
    # Only staff refusals: few beside the persons' and the sources' (the `refused_acts` detector).
    Index(
        "ix_refusals_actor",
        "actor_id",
        "at",
        sqlite_where=text("actor_id IS NOT NULL"),
        postgresql_where=text("actor_id IS NOT NULL"),
    ),
)

# Notices to people (their colour changed, an appeal or an order concerning them moved), written
# in the same transaction as the event: the outbox an SMS or push adapter delivers from.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_key", String(32), nullable=False),
    # status | appeal | order | token | guardianship (services/notifications.py)
    Column("kind", String(16), nullable=False),
    Column("subject", ID),  # the appeal's or order's id; a token's or guardianship's log index
    Column("step", String(32), nullable=False),  # the colour, or the step the appeal/order took
    Column("at", Instant, nullable=False),
    Column("delivered_at", Instant),
    Index("ix_notices_person", "person_key", "id"),
)

# --- retention (docs/operations.md, "Retention") ---------------------------------------------

# One purge transaction: the cutoff it applied and what it removed; its `retention_purge` entry.
retention_purges = Table(
    "retention_purges",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("purged_at", Instant, nullable=False),
    Column("cutoff", Instant, nullable=False),
    Column("days", Integer, nullable=False),  # the retention period in force
    Column("evidence", Integer, nullable=False),
    Column("notices", Integer, nullable=False),
    Column("identity_cards", Integer, nullable=False),
    Column("removed", LargeBinary(32), nullable=False),  # commitment to the removed leaves
)

# Which leaves of which batch a purge removed (positions only: no personal data).
retention_purge_batches = Table(
    "retention_purge_batches",
    metadata,
    Column(
        "purge_log_index",
        BigInteger,
        ForeignKey("retention_purges.log_index"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("source_id", ID, primary_key=True),
    Column("batch_id", ID, primary_key=True),
    Column("positions", Text, nullable=False),  # JSON list of the removed leaves' positions
)


# Tables whose row counts must not move when input is refused.
COUNTED_TABLES = tuple(t for t in metadata.sorted_tables if t.name != "refusals")
