"""Each registration of a member of staff since migration 0024: the table and its queries.

A row is written with its ``registry`` entry (``what: staff``) and holds everything that entry
says (`domain/staff_registry.py`), so the self-check rebuilds the entry from the row and an
edited row no longer matches the log; oversight's ``staff_registry`` detector reads the rows of
its window. ``staff`` itself holds only the member as they are now.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    func,
    select,
)

from healthcode.domain.staff_registry import StaffRegistration, Standing
from healthcode.store.instants import Instant
from healthcode.store.schema import ID, metadata

staff_registrations = Table(
    "staff_registrations",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("staff_id", ID, ForeignKey("staff.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("authority_id", ID),
    Column("area_code", String(6)),
    Column("active", Boolean, nullable=False),
    Column("password", String(8), nullable=False),  # set | kept | none: never the password
    # The member before this registration; all NULL for a new member.
    Column("before_role", String(16)),
    Column("before_authority_id", ID),
    Column("before_active", Boolean),
    Column("before_had_password", Boolean),
    Column("supervisors_before", Integer),
    Column("supervisors_left", Integer),
    Column("recorded_at", Instant, nullable=False),
    Index("ix_staff_registrations_recorded_at", "recorded_at"),
)

_T = staff_registrations


def insert(conn: Connection, registration: StaffRegistration) -> None:
    r, before = registration, registration.before
    conn.execute(
        _T.insert().values(
            log_index=r.log_index, staff_id=r.staff_id, role=r.role, name=r.name,
            authority_id=r.authority_id, area_code=r.area_code, active=r.active,
            password=r.password,
            before_role=before.role if before else None,
            before_authority_id=before.authority_id if before else None,
            before_active=before.active if before else None,
            before_had_password=before.had_password if before else None,
            supervisors_before=r.supervisors_before, supervisors_left=r.supervisors_left,
            recorded_at=r.recorded_at,
        )
    )  # fmt: skip


def every(conn: Connection) -> Iterator[StaffRegistration]:
    for row in conn.execute(select(_T).order_by(_T.c.log_index)):
        yield _registration(row)


def recorded_between(conn: Connection, since: datetime, until: datetime) -> list[StaffRegistration]:
    query = (
        select(_T)
        .where(_T.c.recorded_at >= since, _T.c.recorded_at < until)
        .order_by(_T.c.log_index)
    )
    return [_registration(row) for row in conn.execute(query)]


def _registration(row: Row[Any]) -> StaffRegistration:
    before = None
    if row.before_role is not None:
        before = Standing(
            row.before_role, row.before_authority_id, bool(row.before_active),
            bool(row.before_had_password),
        )  # fmt: skip
    return StaffRegistration(
        int(row.log_index), row.staff_id, row.role, row.name, row.authority_id, row.area_code,
        bool(row.active), row.password, before, row.supervisors_before, row.supervisors_left,
        row.recorded_at,
    )  # fmt: skip


def latest_index(conn: Connection, staff_id: str) -> int | None:
    """The entry index of the member's last registration (the simulator's ground truth)."""
    query = select(func.max(_T.c.log_index)).where(_T.c.staff_id == staff_id)
    found = conn.scalar(query)
    return None if found is None else int(found)
