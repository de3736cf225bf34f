"""Person tokens the operator issued: the table and its queries.

One row per token (bearer or sign-in link), written with its ``person_token`` entry
(services/person_tokens.py), found by the token's ``jti`` or by its person; the self-check
rebuilds each entry from its row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, Row, String, Table, select

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata
from healthcode.store.tables_orders import token_revocations

person_tokens = Table(
    "person_tokens",
    metadata,
    Column("token_id", ID, primary_key=True),  # the token's jti
    # No foreign key to `persons`, as `access_log` has none: on Citus every key between
    # distributed tables would have to hold the person key twice.
    Column("person_key", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # bearer | login_link
    Column("valid_from", Instant, nullable=False),
    Column("valid_until", Instant, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Index("ix_person_tokens_person", "person_key", "valid_from"),
)

_T = person_tokens


@dataclass(frozen=True)
class IssuedPersonToken:
    token_id: str  # the token's jti
    person_key: str
    kind: str
    valid_from: datetime
    valid_until: datetime
    log_index: int


@dataclass(frozen=True)
class PersonTokenView:
    """A token as its person's page lists it: with when it was spent (a link opened) or
    revoked (a session signed out), if it was."""

    issued: IssuedPersonToken
    revoked_at: datetime | None


def insert(conn: Connection, issued: IssuedPersonToken) -> None:
    conn.execute(_T.insert().values(asdict(issued)))


def of_person(conn: Connection, person_key: str) -> list[PersonTokenView]:
    """Every token issued for the person, the newest first."""
    r = token_revocations
    query = (
        select(_T, r.c.revoked_at)
        .outerjoin(r, r.c.jti == _T.c.token_id)
        .where(_T.c.person_key == person_key)
        .order_by(_T.c.log_index.desc())
    )
    return [PersonTokenView(_issued(row), row.revoked_at) for row in conn.execute(query)]


def every(conn: Connection) -> list[IssuedPersonToken]:
    """Every token issued, in the order of their entries."""
    return [_issued(row) for row in conn.execute(select(_T).order_by(_T.c.log_index))]


def _issued(row: Row[Any]) -> IssuedPersonToken:
    return IssuedPersonToken(
        row.token_id, row.person_key, row.kind, row.valid_from, row.valid_until, row.log_index
    )
