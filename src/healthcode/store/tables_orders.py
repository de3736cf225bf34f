"""The tables of people who act and what they order: staff and their roles, guardians, revoked
tokens, staff tokens the operator issued and the acts made with them, orders on a legal basis with per-person evidence, set-asides, and the access log.

Declared here, registered in ``metadata`` and named by ``store/tables.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

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
    # When the password was last set (by a load or by the member): a sign-in from before it
    # acts no more (web/auth.py). NULL: set before migration 0032, or never.
    Column("password_set_at", Instant),
)

guardianships = Table(
    "guardianships",
    metadata,
    Column("person_key", String(32), primary_key=True),  # the dependant
    Column("guardian_key", String(32), primary_key=True),
    Column("since", Instant, nullable=False),
    # Its ``guardianship`` entry (services/guardianships.py); NULL for one recorded before
    # migration 0027 (nothing could log it then) until it is recorded again.
    Column("log_index", BigInteger),
    # Set by migration 0027 on the rows it found: unlogged by then, not by tampering. A row
    # without an entry and without this mark was written outside the service: the self-check
    # reports it (and halts the log), where an upgrade's own rows must not.
    Column("before_logging", Boolean, nullable=False, server_default=false()),
    # A guardian's dependants (their page, their reads) and oversight's ``guardianships``.
    Index("ix_guardianships_guardian", "guardian_key"),
)

# Guardianships ended (`healthcode admin guardian --end`): the row moved here from
# ``guardianships``, which holds the current ones only (what every read checks), with both
# its entries, so the self-check rebuilds them; a pair may be recorded again afterwards.
guardianship_ends = Table(
    "guardianship_ends",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),  # the end's entry
    Column("person_key", String(32), nullable=False),  # the dependant
    Column("guardian_key", String(32), nullable=False),
    Column("since", Instant, nullable=False),
    Column("start_log_index", BigInteger),  # NULL: recorded before 0027, never logged
    Column("until", Instant, nullable=False),
    Index("ix_guardianship_ends_person", "person_key"),
    # Oversight's ``guardianships``: a guardian's ended ones, and those ended in its window.
    Index("ix_guardianship_ends_guardian", "guardian_key"),
    Index("ix_guardianship_ends_until", "until"),
)

token_revocations = Table(
    "token_revocations",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("revoked_at", Instant, nullable=False),
)

# A staff token the operator minted instead of a sign-in (services/staff_tokens.py): each the
# row behind a `staff_token` log entry, so no one holds a member's role unseen.
staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),  # the token's jti
    Column("staff_id", ID, ForeignKey("staff.id"), nullable=False),
    Column("role", String(16), nullable=False),  # the member's, as the token states it
    Column("authority_id", ID),  # the member's when it was minted; none for an auditor
    Column("valid_from", Instant, nullable=False),
    Column("valid_until", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
)

# An act made with such a token (a co-signature, a refusal, a case step): the row behind a
# `staff_token_use` entry naming the act's own entry (`act_index`), for oversight.
staff_token_uses = Table(
    "staff_token_uses",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("token_id", String(64), ForeignKey("staff_tokens.token_id"), nullable=False),
    Column("act_index", BigInteger, nullable=False, unique=True),
    Column("act", String(32), nullable=False),  # the act's entry kind
    Column("at", Instant, nullable=False),
    Index("ix_staff_token_uses_token", "token_id"),
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
    # The last act recorded: pending (issued, awaiting co-signature) | active | ended (an end
    # recorded, which may still lie ahead). What the order is at an instant is
    # `store.orders.in_state`, from the times.
    Column("status", String(16), nullable=False),
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

# An order's ends before the one in effect (on its row): an end recorded ahead may be replaced
# by an earlier one (shortened again, lifted, ended by an appeal), and each was a log entry the
# self-check rebuilds, and what a status as known at an instant read (`domain.orders.Order`).
order_earlier_ends = Table(
    "order_earlier_ends",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("person_key", String(32), nullable=False),
    Column("ended_at", Instant, nullable=False),
    Column("recorded_at", Instant, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("ended_by", ID, nullable=False),
    Index("ix_order_earlier_ends_order", "order_id"),
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
