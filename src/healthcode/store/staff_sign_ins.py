"""Each time a member of staff signed in with their password: the table and its queries.

A row is written with its ``staff_sign_in`` entry (services/staff.py) and holds what the entry
says (domain/staff_sign_ins.py), so the self-check rebuilds the entry from the row; the
member's page lists their latest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, ForeignKey, Index, Row, String, Table, select

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

staff_sign_ins = Table(
    "staff_sign_ins",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    # Both reference tables on Citus (docs/citus.md), so the key holds there too.
    Column("staff_id", ID, ForeignKey("staff.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("authority_id", ID),
    Column("signed_in_at", Instant, nullable=False),
    Index("ix_staff_sign_ins_staff", "staff_id", "log_index"),
)

_T = staff_sign_ins


@dataclass(frozen=True)
class SignIn:
    log_index: int
    staff_id: str
    role: str
    authority_id: str | None
    signed_in_at: datetime


def insert(conn: Connection, sign_in: SignIn) -> None:
    conn.execute(_T.insert().values(asdict(sign_in)))


def every(conn: Connection) -> Iterator[SignIn]:
    for row in conn.execute(select(_T).order_by(_T.c.log_index)):
        yield _sign_in(row)


def latest(conn: Connection, staff_id: str, limit: int) -> list[SignIn]:
    """The member's last ``limit`` sign-ins, the newest first."""
    query = select(_T).where(_T.c.staff_id == staff_id).order_by(_T.c.log_index.desc())
    return [_sign_in(row) for row in conn.execute(query.limit(limit))]


def _sign_in(row: Row[Any]) -> SignIn:
    return SignIn(row.log_index, row.staff_id, row.role, row.authority_id, row.signed_in_at)
