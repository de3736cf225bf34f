"""The EU DCC tables (docs/dcc.md): the document signers' trust list and what DCC holders are
matched on.

Declared here, registered in ``metadata`` and named by ``store/tables.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

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
