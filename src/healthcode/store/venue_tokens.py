"""Venue device tokens the operator issued and the card checks made with them: the tables
and their queries.

One row per token, written with its ``venue_token`` entry (services/venue_tokens.py), found by
its venue (the venue's page lists them, each with the checks made with it); one row per card
check made with one, written with its ``venue_token_use`` entry in the check's transaction.
The self-check rebuilds each entry from its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
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
    func,
    select,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata
from healthcode.store.tables_orders import access_log, token_revocations

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

# A card check made with such a token: the row behind a `venue_token_use` entry naming the
# check's own `access` entry (`act_index`). Found by its token, newest last, for the venue's
# page (how many checks, the last one).
venue_token_uses = Table(
    "venue_token_uses",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("token_id", ID, ForeignKey("venue_tokens.token_id"), nullable=False),
    Column("act_index", BigInteger, nullable=False, unique=True),
    Column("act", String(32), nullable=False),  # the act's entry kind
    Column("at", Instant, nullable=False),
    Index("ix_venue_token_uses_token", "token_id", "at"),
)

_T = venue_tokens
_U = venue_token_uses


@dataclass(frozen=True)
class IssuedVenueToken:
    token_id: str  # the token's jti
    venue_id: str
    valid_from: datetime
    valid_until: datetime
    log_index: int


@dataclass(frozen=True)
class VenueTokenUse:
    log_index: int  # the `venue_token_use` entry's
    token_id: str
    act_index: int  # the act's own entry: the card check's `access`
    act: str  # its kind
    at: datetime


@dataclass(frozen=True)
class VenueTokenView:
    """A token as its venue's page lists it: how many card checks were made with it and the
    last one's instant (None: never used), and when it was revoked, if it was."""

    issued: IssuedVenueToken
    revoked_at: datetime | None
    checks: int = 0
    last_used: datetime | None = None


@dataclass(frozen=True)
class CheckedRead:
    """The ``access`` row a use names as its act, as the self-check compares them."""

    accessor_id: str
    accessor_role: str
    purpose: str


def insert(conn: Connection, issued: IssuedVenueToken) -> None:
    conn.execute(_T.insert().values(asdict(issued)))


def find(conn: Connection, token_id: str) -> IssuedVenueToken | None:
    row = conn.execute(select(_T).where(_T.c.token_id == token_id)).first()
    return None if row is None else _issued(row)


def insert_uses(conn: Connection, uses: Sequence[VenueTokenUse]) -> None:
    conn.execute(_U.insert(), [asdict(use) for use in uses])


def of_venue(conn: Connection, venue_id: str) -> list[VenueTokenView]:
    """Every token issued for the venue's devices, the newest first, each with its uses."""
    r = token_revocations
    # Per token, from the uses' index (token, instant): a venue has a handful of tokens, and
    # the page never aggregates another venue's uses.
    mine = _U.c.token_id == _T.c.token_id
    checks = select(func.count()).where(mine).scalar_subquery()
    last_used = select(func.max(_U.c.at)).where(mine).scalar_subquery()
    query = (
        select(_T, r.c.revoked_at, checks.label("checks"), last_used.label("last_used"))
        .outerjoin(r, r.c.jti == _T.c.token_id)
        .where(_T.c.venue_id == venue_id)
        .order_by(_T.c.log_index.desc())
    )
    return [
        VenueTokenView(_issued(row), row.revoked_at, int(row.checks), row.last_used)
        for row in conn.execute(query)
    ]


def every(conn: Connection) -> list[IssuedVenueToken]:
    """Every token issued, in the order of their entries."""
    return [_issued(row) for row in conn.execute(select(_T).order_by(_T.c.log_index))]


def every_use(conn: Connection) -> list[VenueTokenUse]:
    """Every card check made with one, in the order of their entries."""
    query = select(_U).order_by(_U.c.log_index)
    return [
        VenueTokenUse(row.log_index, row.token_id, row.act_index, row.act, row.at)
        for row in conn.execute(query)
    ]


def reads_named(conn: Connection) -> dict[int, CheckedRead]:
    """The ``access`` rows the uses name as their acts, by their entry's index (one a use
    names that no access row has is absent)."""
    a = access_log
    query = select(a.c.log_index, a.c.accessor_id, a.c.accessor_role, a.c.purpose).join(
        _U, _U.c.act_index == a.c.log_index
    )
    return {
        int(row.log_index): CheckedRead(row.accessor_id, row.accessor_role, row.purpose)
        for row in conn.execute(query)
    }


def _issued(row: Row[Any]) -> IssuedVenueToken:
    return IssuedVenueToken(
        row.token_id, row.venue_id, row.valid_from, row.valid_until, row.log_index
    )
