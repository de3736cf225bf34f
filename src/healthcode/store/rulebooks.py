"""Rows of published rulebook editions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from healthcode.store import tables as t


@dataclass(frozen=True)
class StoredEdition:
    version: int
    published_at: datetime
    effective_from: datetime
    source: dict[str, Any]
    digest: str


def _edition(row: Any) -> StoredEdition:
    return StoredEdition(
        version=row.version,
        published_at=row.published_at,
        effective_from=row.effective_from,
        source=json.loads(row.source),
        digest=row.digest,
    )


def insert(conn: Connection, edition: StoredEdition, canonical: bytes, log_index: int) -> None:
    conn.execute(
        t.rulebooks.insert().values(
            version=edition.version,
            published_at=edition.published_at,
            effective_from=edition.effective_from,
            source=canonical.decode(),
            digest=edition.digest,
            log_index=log_index,
        )
    )


def editions(conn: Connection) -> list[StoredEdition]:
    rows = conn.execute(select(t.rulebooks).order_by(t.rulebooks.c.version)).all()
    return [_edition(row) for row in rows]


_SOURCES = select(
    t.rulebooks.c.published_at, t.rulebooks.c.effective_from, t.rulebooks.c.source
).order_by(t.rulebooks.c.version)


def edition_sources(conn: Connection) -> list[tuple[datetime, datetime, str]]:
    """(published, effective from, canonical source text) of every edition, by version: what
    a status computation reads, every time; the caller parses each text once."""
    return [(row.published_at, row.effective_from, row.source) for row in conn.execute(_SOURCES)]


def edition(conn: Connection, version: int) -> StoredEdition | None:
    row = conn.execute(select(t.rulebooks).where(t.rulebooks.c.version == version)).first()
    return None if row is None else _edition(row)


def unapplied(conn: Connection, at: datetime) -> list[int]:
    """Editions in force by ``at`` whose recompute of everyone has not run yet."""
    query = select(t.rulebooks.c.version).where(
        t.rulebooks.c.applied_at.is_(None), t.rulebooks.c.effective_from <= at
    )
    return sorted(conn.scalars(query))


def mark_applied(conn: Connection, version: int, at: datetime) -> None:
    conn.execute(t.rulebooks.update().where(t.rulebooks.c.version == version).values(applied_at=at))
