"""Proposed widenings of an authority's jurisdiction: the table and its queries.

As for a source's key changes (`store/source_keys.py`): one row per proposal, written with its
``jurisdiction_proposal`` entry, and its co-signature or withdrawal on the same row with that
entry's index, so the self-check rebuilds every entry from the row. The authority's own
jurisdiction changes only in the co-signature's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Row,
    String,
    Table,
    Text,
    select,
)

from healthcode.domain.jurisdiction_changes import JurisdictionChange
from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

jurisdiction_changes = Table(
    "jurisdiction_changes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
    Column("jurisdiction", Text, nullable=False),  # space-separated area codes, sorted
    # The authority's jurisdiction when proposed: a co-signature applies to exactly that one.
    Column("previous_jurisdiction", Text, nullable=False),
    Column("proposed_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("status", String(16), nullable=False),  # pending | cosigned | withdrawn
    Column("decided_by", ID, ForeignKey("staff.id")),  # NULL: pending, or the operator withdrew
    Column("decided_at", Instant),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("decision_log_index", BigInteger, unique=True),
    Index("ix_jurisdiction_changes_authority_id", "authority_id"),
)

_T = jurisdiction_changes


def insert(conn: Connection, change: JurisdictionChange) -> None:
    conn.execute(
        _T.insert().values(
            id=change.id, authority_id=change.authority_id,
            jurisdiction=_joined(change.jurisdiction),
            previous_jurisdiction=_joined(change.previous), proposed_at=change.proposed_at,
            expires_at=change.expires_at, status=change.status, log_index=change.log_index,
        )
    )  # fmt: skip


def decide(conn: Connection, change: JurisdictionChange) -> None:
    """Record a change's co-signature or withdrawal (its status, who, when, which entry)."""
    conn.execute(
        _T.update()
        .where(_T.c.id == change.id)
        .values(
            status=change.status,
            decided_by=change.decided_by,
            decided_at=change.decided_at,
            decision_log_index=change.decision_log_index,
        )
    )


def find(conn: Connection, change_id: str) -> JurisdictionChange | None:
    row = conn.execute(select(_T).where(_T.c.id == change_id)).first()
    return None if row is None else _change(row)


def pending_of_authority(conn: Connection, authority_id: str) -> list[JurisdictionChange]:
    query = select(_T).where(_T.c.authority_id == authority_id, _T.c.status == "pending")
    return [_change(row) for row in conn.execute(query)]


def of_authority(
    conn: Connection, authority_id: str, *, status: str | None
) -> list[JurisdictionChange]:
    """The authority's changes, newest first; only those of ``status`` if given."""
    query = select(_T).where(_T.c.authority_id == authority_id)
    if status is not None:
        query = query.where(_T.c.status == status)
    return [_change(row) for row in conn.execute(query.order_by(_T.c.log_index.desc()))]


def every(conn: Connection) -> list[JurisdictionChange]:
    """Every change, oldest first (the self-check's)."""
    return [_change(row) for row in conn.execute(select(_T).order_by(_T.c.log_index))]


def _joined(codes: frozenset[str]) -> str:
    return " ".join(sorted(codes))


def _change(row: Row[Any]) -> JurisdictionChange:
    return JurisdictionChange(
        id=row.id, authority_id=row.authority_id,
        jurisdiction=frozenset(row.jurisdiction.split()),
        previous=frozenset(row.previous_jurisdiction.split()), proposed_at=row.proposed_at,
        expires_at=row.expires_at, status=row.status, decided_by=row.decided_by,
        decided_at=row.decided_at, log_index=int(row.log_index),
        decision_log_index=None if row.decision_log_index is None else int(row.decision_log_index),
    )  # fmt: skip
