"""Rows of staff tokens the operator issued and of the acts made with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from healthcode.store import tables as t


@dataclass(frozen=True)
class IssuedToken:
    token_id: str  # the token's jti
    staff_id: str
    role: str
    authority_id: str | None
    valid_from: datetime
    valid_until: datetime
    log_index: int


@dataclass(frozen=True)
class TokenUse:
    log_index: int  # the `staff_token_use` entry's
    token_id: str
    act_index: int  # the act's own entry
    act: str  # its kind
    at: datetime


def insert(conn: Connection, issued: IssuedToken) -> None:
    conn.execute(t.staff_tokens.insert().values(asdict(issued)))


def find(conn: Connection, token_id: str) -> IssuedToken | None:
    row = conn.execute(select(t.staff_tokens).where(t.staff_tokens.c.token_id == token_id)).first()
    return None if row is None else _issued(row)


def insert_uses(conn: Connection, uses: Sequence[TokenUse]) -> None:
    conn.execute(t.staff_token_uses.insert(), [asdict(use) for use in uses])


def every(conn: Connection) -> list[IssuedToken]:
    """Every token issued, in the order of their entries."""
    query = select(t.staff_tokens).order_by(t.staff_tokens.c.log_index)
    return [_issued(row) for row in conn.execute(query)]


def every_use(conn: Connection) -> list[TokenUse]:
    """Every act made with one, in the order of their entries."""
    query = select(t.staff_token_uses).order_by(t.staff_token_uses.c.log_index)
    return [
        TokenUse(row.log_index, row.token_id, row.act_index, row.act, row.at)
        for row in conn.execute(query)
    ]


def _issued(row: Row[Any]) -> IssuedToken:
    return IssuedToken(
        row.token_id, row.staff_id, row.role, row.authority_id, row.valid_from, row.valid_until,
        row.log_index,
    )  # fmt: skip
