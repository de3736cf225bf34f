"""Each time a member of staff chose their own password: the table and its queries.

A row is written with its ``staff_password`` entry (services/staff_passwords.py) and holds what
the entry says (domain/staff_passwords.py), so the self-check rebuilds the entry from the row;
the member's console reads whether the password in use is still the operator's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    String,
    Table,
    func,
    select,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata
from healthcode.store.staff_registrations import staff_registrations

staff_password_changes = Table(
    "staff_password_changes",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    # Both reference tables on Citus (docs/citus.md), so the key holds there too.
    Column("staff_id", ID, ForeignKey("staff.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("authority_id", ID),
    Column("changed_at", Instant, nullable=False),
    Index("ix_staff_password_changes_staff", "staff_id", "log_index"),
)

_T = staff_password_changes


@dataclass(frozen=True)
class PasswordChange:
    log_index: int
    staff_id: str
    role: str
    authority_id: str | None
    changed_at: datetime


def insert(conn: Connection, change: PasswordChange) -> None:
    conn.execute(_T.insert().values(asdict(change)))


def every(conn: Connection) -> Iterator[PasswordChange]:
    for row in conn.execute(select(_T).order_by(_T.c.log_index)):
        yield PasswordChange(
            row.log_index, row.staff_id, row.role, row.authority_id, row.changed_at
        )


def find(conn: Connection, log_index: int) -> PasswordChange | None:
    row = conn.execute(select(_T).where(_T.c.log_index == log_index)).first()
    if row is None:
        return None
    return PasswordChange(row.log_index, row.staff_id, row.role, row.authority_id, row.changed_at)


def last_indices(conn: Connection, staff_id: str) -> tuple[int | None, int | None]:
    """The log indices of the member's last registration that set a password (the operator's)
    and of their last change of their own; None for either there is none of."""
    r = staff_registrations
    set_by_operator = conn.scalar(
        select(func.max(r.c.log_index)).where(r.c.staff_id == staff_id, r.c.password == "set")
    )
    changed = conn.scalar(select(func.max(_T.c.log_index)).where(_T.c.staff_id == staff_id))
    return (
        None if set_by_operator is None else int(set_by_operator),
        None if changed is None else int(changed),
    )
