"""The tables of places, passes and the trust list (docs/passes.md).

Declared here, registered in ``metadata`` and named by ``store/tables.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

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
