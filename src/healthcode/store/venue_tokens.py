"""Venue device tokens the operator issued: the table and its queries.

One row per token, written with its ``venue_token`` entry (services/venue_tokens.py), found by
its venue (the venue's page lists them); the self-check rebuilds each entry from its row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, ForeignKey, Index, Row, Table, select

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata
from healthcode.store.tables_orders import token_revocations

venue_tokens = Table(
    "venue_tokens",
    metadata,
    Column("token_id", ID, primary_key=True),  # the token's jti
    # Both reference tables on Citus (docs/citus.md), so the key holds there too.
    Column("venue_id", ID, ForeignKey("venues.id"), nullable=False),
    Column("valid_from", Instant, nullable=False),
    Column("valid_until", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Index("ix_venue_tokens_venue", "venue_id", "valid_from"),
)

_T = venue_tokens


@dataclass(frozen=True)
class IssuedVenueToken:
    token_id: str  # the token's jti
    venue_id: str
    valid_from: datetime
    valid_until: datetime
    log_index: int


@dataclass(frozen=True)
class VenueTokenView:
    """A token as its venue's page lists it: with when it was revoked, if it was."""

    issued: IssuedVenueToken
    revoked_at: datetime | None


def insert(conn: Connection, issued: IssuedVenueToken) -> None:
    conn.execute(_T.insert().values(asdict(issued)))


def of_venue(conn: Connection, venue_id: str) -> list[VenueTokenView]:
    """Every token issued for the venue's devices, the newest first."""
    r = token_revocations
    query = (
        select(_T, r.c.revoked_at)
        .outerjoin(r, r.c.jti == _T.c.token_id)
        .where(_T.c.venue_id == venue_id)
        .order_by(_T.c.log_index.desc())
    )
    return [VenueTokenView(_issued(row), row.revoked_at) for row in conn.execute(query)]


def every(conn: Connection) -> list[IssuedVenueToken]:
    """Every token issued, in the order of their entries."""
    return [_issued(row) for row in conn.execute(select(_T).order_by(_T.c.log_index))]


def _issued(row: Row[Any]) -> IssuedVenueToken:
    return IssuedVenueToken(
        row.token_id, row.venue_id, row.valid_from, row.valid_until, row.log_index
    )
