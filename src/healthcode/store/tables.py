"""The schema, as SQLAlchemy Core tables; Alembic migrations are generated from it.

Every person-scoped table carries ``person_key`` so the schema can be distributed by person.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)

# Tables declared beside their queries are registered here, so `metadata` is the whole schema.
from healthcode.store.idempotency import idempotency_keys as idempotency_keys
from healthcode.store.instants import Instant
from healthcode.store.regions import regional_checkpoints as regional_checkpoints
from healthcode.store.schema import ID as ID
from healthcode.store.schema import metadata as metadata

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

# Refused input: what was refused and why, never who or what it said about anyone.
refusals = Table(
    "refusals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("code", String(64), nullable=False),
    Column("route", String(128), nullable=False),
    Column("source_id", ID),
)

# --- the transparency log (docs/transparency-log.md) ----------------------------------------

log_entries = Table(
    "log_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),  # the leaf: canonical JSON, no personal data
    Column("recorded_at", Instant, nullable=False),
)

# Node hashes at tree levels 0, 8, 16, ...: exactly the contents of the tlog-tiles hash tiles.
log_hashes = Table(
    "log_hashes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),  # the signed note, witnesses' cosignatures appended
    Column("signed_at", Instant, nullable=False),
)

# Set when the self-check finds stored rows and the log disagreeing: nothing more is signed.
log_halts = Table(
    "log_halts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("reason", Text, nullable=False),
)

# Each person's log secret, encrypted to oversight's key (HPKE); the server derives it itself.
person_secrets = Table(
    "person_secrets",
    metadata,
    Column("person_key", String(80), primary_key=True),  # a person key, or "staff:<id>"
    Column("escrow", LargeBinary, nullable=False),
    Column("created_at", Instant, nullable=False),
)

# --- people who act: staff and their roles, guardians, revoked tokens -----------------------

staff = Table(
    "staff",
    metadata,
    Column("id", ID, primary_key=True),  # an official's badge id
    Column("role", String(16), nullable=False),  # official | supervisor | hotline | auditor
    Column("authority_id", ID, ForeignKey("authorities.id")),  # none for auditors
    Column("area_code", String(6), ForeignKey("areas.code")),  # a hotline's district
    Column("name", Text, nullable=False),
    Column("password_hash", Text),
    Column("active", Boolean, nullable=False),
    Column("registered_at", Instant, nullable=False),
)

guardianships = Table(
    "guardianships",
    metadata,
    Column("person_key", String(32), primary_key=True),  # the dependant
    Column("guardian_key", String(32), primary_key=True),
    Column("since", Instant, nullable=False),
)

token_revocations = Table(
    "token_revocations",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("revoked_at", Instant, nullable=False),
)

# --- orders: issued by accountable officials, on a legal basis, with per-person evidence ----

orders = Table(
    "orders",
    metadata,
    Column("id", ID, primary_key=True),
    Column("request_id", ID, nullable=False),  # the orders issued together, co-signed together
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
    Column("official_id", ID, ForeignKey("staff.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("legal_basis", String(64), nullable=False),
    Column("person_key", String(32), nullable=False),
    Column("valid_from", Instant, nullable=False),
    Column("valid_until", Instant, nullable=False),
    Column("status", String(16), nullable=False),  # pending | active | ended
    Column("recorded_at", Instant, nullable=False),
    Column("activated_at", Instant),
    Column("cosigned_by", ID, ForeignKey("staff.id")),
    Column("cosign_log_index", BigInteger),
    Column("extends", ID),  # the order this one continues, on new evidence
    Column("ended_at", Instant),
    Column("ended_recorded_at", Instant),
    Column("end_reason", String(32)),
    Column("ended_by", ID),
    Column("end_log_index", BigInteger),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Index("ix_orders_person", "person_key"),
    Index("ix_orders_authority", "authority_id", "recorded_at"),
)

order_evidence = Table(
    "order_evidence",
    metadata,
    Column("order_id", ID, ForeignKey("orders.id"), primary_key=True),
    Column("source_id", ID, primary_key=True),
    Column("record_id", ID, primary_key=True),
    Column("person_key", String(32), nullable=False),
)

# Evidence that stops counting: one record for one person (an appeal), or a revoked source.
set_asides = Table(
    "set_asides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_key", String(32)),  # none: for everyone (a revoked source)
    Column("source_id", ID, nullable=False),
    Column("record_id", ID),  # none: every record of the source
    Column("effective_at", Instant, nullable=False),
    Column("recorded_at", Instant, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
)

# Every read of a person's record by someone else: who, when, why (shown to the person).
access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_key", String(32), nullable=False),
    Column("accessor_id", ID, nullable=False),
    Column("accessor_role", String(16), nullable=False),
    Column("authority_id", ID),
    Column("purpose", String(32), nullable=False),
    Column("at", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Index("ix_access_log_person", "person_key", "at"),
)

# --- appeals: one contested input, a deadline, closed outcomes, lapse on silence -------------

appeals = Table(
    "appeals",
    metadata,
    Column("id", ID, primary_key=True),
    Column("person_key", String(32), nullable=False),  # whose record is contested
    Column("filed_by", String(32), nullable=False),  # the person, or their guardian
    Column("target", String(16), nullable=False),  # colour | order | evidence
    # The one input contested: an order, or an evidence record (a colour is resolved to one).
    Column("order_id", ID),
    Column("source_id", ID),
    Column("record_id", ID),
    Column("colour", String(8)),  # the colour and rule appealed against (target colour)
    Column("rule_id", String(48)),
    Column("ground", String(24), nullable=False),
    Column("text", Text),  # the short text of the ground `other`, nothing else
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
    Column("filed_at", Instant, nullable=False),
    Column("deadline", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # open | upheld | overturned | corrected | lapsed
    Column("answered_at", Instant),
    Column("answered_by", ID, ForeignKey("staff.id")),
    Column("ends_at", Instant),  # corrected: the order's new, earlier end
    Column("replacement_order_id", ID),  # corrected: the order citing different evidence
    Column("answer_log_index", BigInteger, unique=True),
    Column("lapsed_at", Instant),
    Column("lapse_log_index", BigInteger, unique=True),
    Index("ix_appeals_person", "person_key"),
    Index("ix_appeals_due", "status", "deadline"),
    Index("ix_appeals_authority", "authority_id", "status", "deadline"),
)

# Evidence an answer cites: what supports an upheld appeal, or what replaces a corrected input.
appeal_citations = Table(
    "appeal_citations",
    metadata,
    Column("appeal_id", ID, ForeignKey("appeals.id"), primary_key=True),
    Column("source_id", ID, primary_key=True),
    Column("record_id", ID, primary_key=True),
    Column("person_key", String(32), nullable=False),
)

# Oversight's cases: an upheld appeal the person escalated, or a detector's finding. A case
# moves open -> investigating -> referred -> closed (with a conclusion); oversight sets no colour.
oversight_cases = Table(
    "oversight_cases",
    metadata,
    Column("id", ID, primary_key=True),
    Column("appeal_id", ID, ForeignKey("appeals.id"), unique=True),  # an escalated appeal
    Column("finding_id", ID, ForeignKey("oversight_findings.id"), unique=True),  # or a finding
    Column("person_key", String(32)),  # the appellant; none for a finding
    Column("status", String(16), nullable=False),  # open | investigating | referred | closed
    Column("opened_at", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("updated_at", Instant),
    Column("conclusion", Text),  # set when closed
)

# What a detector found (services/oversight): the records that support it, by reference.
oversight_findings = Table(
    "oversight_findings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("detector", String(48), nullable=False),
    Column("subject", String(128), nullable=False),  # e.g. "official:<badge>", "venue:<id>"
    Column("fingerprint", String(64), nullable=False, unique=True),  # the same finding again
    Column("score", Float, nullable=False),
    Column("summary_zh", Text, nullable=False),
    Column("summary_en", Text, nullable=False),
    Column("window_from", Instant, nullable=False),
    Column("window_to", Instant, nullable=False),
    Column("records", Text, nullable=False),  # JSON list of "kind:ref" (docs/oversight.md)
    Column("found_at", Instant, nullable=False),
    Index("ix_oversight_findings_detector", "detector", "found_at"),
)

# Every step of a case after it opened, by whom, with its note (each one a log entry).
oversight_case_steps = Table(
    "oversight_case_steps",
    metadata,
    Column("case_id", ID, ForeignKey("oversight_cases.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("by_id", ID, nullable=False),  # the auditor's badge
    Column("at", Instant, nullable=False),
    Column("note", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
)

# --- EU DCC: the trust list of document signers, and what DCC holders are matched on --------

# Document signer certificates (X.509) DCCs are verified with; a removed one stays, marked.
dcc_signers = Table(
    "dcc_signers",
    metadata,
    Column("fingerprint", String(64), primary_key=True),  # SHA-256 of the DER certificate
    Column("kid", String(16), nullable=False),  # HCERT kid: its first 8 bytes, hex
    Column("country", String(2), nullable=False),
    Column("source_id", ID, ForeignKey("sources.id"), nullable=False),  # dcc-<country>
    Column("certificate", LargeBinary, nullable=False),  # DER
    Column("not_before", Instant, nullable=False),
    Column("not_after", Instant, nullable=False),
    Column("kinds", Text, nullable=False),  # evidence kinds its key usage allows
    Column("added_at", Instant, nullable=False),
    Column("added_by", ID, nullable=False),  # a supervisor's badge, or "operator"
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("removed_at", Instant),
    Column("removed_by", ID),
    Column("remove_reason", String(32)),
    Column("remove_log_index", BigInteger, unique=True),
    Index("ix_dcc_signers_kid", "kid"),
)

# The local identity provider's Latin-script name (ICAO 9303) and date of birth of a person:
# personal data, used only to check that a submitted DCC is the person's own.
person_identities = Table(
    "person_identities",
    metadata,
    Column("person_key", String(32), primary_key=True),
    Column("family_name", String(80)),  # ICAO standardised: A-Z and <
    Column("given_name", String(80)),
    Column("birth_date", String(10)),  # ISO 8601 date
)

# --- places, passes and the trust list (docs/passes.md) ---------------------------------------

# A venue's place-code signing keys. The private half is derived from the server's places
# secret (store/keyfiles.py) and never stored; each key is logged when registered.
venue_keys = Table(
    "venue_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),  # hex
    Column("venue_id", ID, ForeignKey("venues.id"), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("not_before", Instant, nullable=False),
    Column("not_after", Instant, nullable=False),
    Column("registered_at", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Index("ix_venue_keys_venue", "venue_id", "generation"),
)

# Issuer keys of the trust list: per authority (or the national issuer), with their usages.
trust_keys = Table(
    "trust_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),  # hex
    Column("issuer", ID, nullable=False),  # an authority id, or "national"
    Column("generation", Integer, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("usages", Text, nullable=False),  # space-separated key usages
    Column("not_before", Instant, nullable=False),
    Column("not_after", Instant, nullable=False),
    Column("registered_at", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("revoked_at", Instant),
    Column("revocation_reason", String(32)),
    Column("revoked_by", ID),
    Column("revocation_log_index", BigInteger, unique=True),
    Index("ix_trust_keys_issuer", "issuer", "generation"),
)

# Every signed trust list document, by version; the newest is served.
trust_lists = Table(
    "trust_lists",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("issued_at", Instant, nullable=False),
    Column("document", LargeBinary, nullable=False),  # the signed JSON, as served
    Column("digest", String(64), nullable=False),  # SHA-256 of the document, hex
    Column("log_index", BigInteger, nullable=False, unique=True),
)

# Scan batches: scans land at once as evidence rows of the open batch of their source and
# shard; the sealer then writes its evidence_batches row and log entry, and it never changes.
scan_batches = Table(
    "scan_batches",
    metadata,
    Column("source_id", ID, ForeignKey("sources.id"), primary_key=True),
    Column("batch_id", ID, primary_key=True),
    Column("shard", Integer, nullable=False),
    Column("opened_at", Instant, nullable=False),
    Column("records", Integer, nullable=False),  # records so far: the next position
    Column("sealed_at", Instant),  # set with the evidence_batches row, in one transaction
    Index("ix_scan_batches_open", "sealed_at", "source_id", "shard"),
)

# Identity cards for people without phones: the commitment a venue device exchanges online.
identity_cards = Table(
    "identity_cards",
    metadata,
    Column("person_key", String(32), primary_key=True),
    Column("commitment", String(64), nullable=False, unique=True),  # hex of 32 random bytes
    Column("issuer", ID, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("issued_at", Instant, nullable=False),
    Column("valid_until", Instant, nullable=False),
)

# Notices to people (their colour changed, an appeal or an order concerning them moved), written
# in the same transaction as the event: the outbox an SMS or push adapter delivers from.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_key", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # status | appeal | order
    Column("subject", ID),  # the appeal's or order's id
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
