"""The tables of appeals and of oversight's cases (docs/appeals.md, docs/oversight.md).

Declared here, registered in ``metadata`` and named by ``store/tables.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

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
