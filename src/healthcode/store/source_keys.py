"""Proposed changes of a source's key and kinds: the table and its queries.

One row per proposal, written with its ``source_key_proposal`` entry; its co-signature or
withdrawal is written on the same row with that entry's index, so the self-check rebuilds both
entries from the row. The source's own row changes only in the co-signature's transaction. A
new source's proposal has no previous key and holds the name and area its registration will
have; its source has no row until the co-signature, so ``source_id`` is no foreign key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    LargeBinary,
    Row,
    String,
    Table,
    Text,
    select,
)

from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.source_keys import KeyChange, NewSource
from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

source_key_changes = Table(
    "source_key_changes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source_id", ID, nullable=False),  # not yet registered, for a new source
    Column("authority_id", ID, ForeignKey("authorities.id"), nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("kinds", Text, nullable=False),  # space-separated, as `sources.kinds`
    # The source's key and kinds when proposed: a co-signature applies to exactly those.
    Column("previous_key", LargeBinary(32)),  # NULL: a new source
    Column("previous_kinds", Text, nullable=False),
    # A new source's registration besides its key and kinds; NULL for a key change.
    Column("name", Text),
    Column("area_code", String(6), ForeignKey("areas.code")),
    Column("proposed_by", ID, ForeignKey("staff.id")),  # NULL: the operator
    Column("proposed_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("status", String(16), nullable=False),  # pending | cosigned | withdrawn
    Column("decided_by", ID, ForeignKey("staff.id")),  # NULL: pending, or the operator withdrew
    Column("decided_at", Instant),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("decision_log_index", BigInteger, unique=True),
    Index("ix_source_key_changes_source_id", "source_id"),
)

_T = source_key_changes


def insert(conn: Connection, change: KeyChange) -> None:
    conn.execute(
        _T.insert().values(
            id=change.id, source_id=change.source_id, authority_id=change.authority_id,
            public_key=change.public_key, kinds=_joined(change.kinds),
            previous_key=change.previous_key, previous_kinds=_joined(change.previous_kinds),
            name=None if change.new_source is None else change.new_source.name,
            area_code=None if change.new_source is None else change.new_source.area,
            proposed_by=change.proposed_by, proposed_at=change.proposed_at,
            expires_at=change.expires_at, status=change.status, log_index=change.log_index,
        )
    )  # fmt: skip


def decide(conn: Connection, change: KeyChange) -> None:
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


def find(conn: Connection, change_id: str) -> KeyChange | None:
    row = conn.execute(select(_T).where(_T.c.id == change_id)).first()
    return None if row is None else _change(row)


def pending_of_source(conn: Connection, source_id: str) -> list[KeyChange]:
    query = select(_T).where(_T.c.source_id == source_id, _T.c.status == "pending")
    return [_change(row) for row in conn.execute(query)]


def of_authority(conn: Connection, authority_id: str, *, status: str | None) -> list[KeyChange]:
    """The authority's changes, newest first; only those of ``status`` if given."""
    query = select(_T).where(_T.c.authority_id == authority_id)
    if status is not None:
        query = query.where(_T.c.status == status)
    return [_change(row) for row in conn.execute(query.order_by(_T.c.log_index.desc()))]


def every(conn: Connection) -> list[KeyChange]:
    """Every change, oldest first (the self-check's)."""
    return [_change(row) for row in conn.execute(select(_T).order_by(_T.c.log_index))]


def _joined(kinds: frozenset[EvidenceKind]) -> str:
    return " ".join(sorted(kinds))


def _kinds(text: str) -> frozenset[EvidenceKind]:
    return frozenset(EvidenceKind(kind) for kind in text.split())


def _change(row: Row[Any]) -> KeyChange:
    return KeyChange(
        id=row.id, source_id=row.source_id, authority_id=row.authority_id,
        public_key=bytes(row.public_key), kinds=_kinds(row.kinds),
        previous_key=None if row.previous_key is None else bytes(row.previous_key),
        previous_kinds=_kinds(row.previous_kinds),
        proposed_by=row.proposed_by, proposed_at=row.proposed_at, expires_at=row.expires_at,
        status=row.status, decided_by=row.decided_by, decided_at=row.decided_at,
        log_index=int(row.log_index),
        decision_log_index=None if row.decision_log_index is None else int(row.decision_log_index),
        new_source=None if row.area_code is None else NewSource(str(row.name), row.area_code),
    )  # fmt: skip
