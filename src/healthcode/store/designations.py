"""Rows of risk designations as the acts on them read them: one by id, an authority's, each
with its ends (the one in effect on the designation's row, those it replaced in
`designation_earlier_ends`, as `store.orders` keeps an order's). The reads of designations as
status inputs (`store.evidence`) build them here too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, exists, not_, or_, select

from healthcode.domain.designations import VOIDING, DesignationEnd, RiskDesignation, RiskLevel
from healthcode.store import tables as t


@dataclass(frozen=True)
class StoredEnd:
    """One end as recorded: what the rules read, who recorded it, and its log entry."""

    ended_at: datetime
    recorded_at: datetime
    reason: str
    ended_by: str
    log_index: int

    def as_input(self) -> DesignationEnd:
        return DesignationEnd(self.ended_at, self.recorded_at, self.reason)


def ends_of(conn: Connection, rows: Sequence[Row[Any]]) -> dict[str, list[StoredEnd]]:
    """The ends of the designations of ``rows``, each in the order recorded (the row's, the
    one in effect, last). Only a designation with an end on its row can have earlier ones:
    most have none, and reading them costs no statement."""
    ended = [row for row in rows if row.end_log_index is not None]
    found: dict[str, list[StoredEnd]] = defaultdict(list)
    earlier = t.designation_earlier_ends
    ids = [row.id for row in ended]
    for start in range(0, len(ids), 500):
        query = (
            select(earlier)
            .where(earlier.c.designation_id.in_(ids[start : start + 500]))
            .order_by(earlier.c.log_index)
        )
        for end in conn.execute(query):
            found[end.designation_id].append(
                StoredEnd(end.ended_at, end.recorded_at, end.reason, end.ended_by, end.log_index)
            )
    for row in ended:
        found[row.id].append(
            StoredEnd(row.ended_at, row.ended_recorded_at, row.end_reason, row.ended_by,
                      int(row.end_log_index))
        )  # fmt: skip
    return found


def from_rows(
    conn: Connection, rows: Sequence[Row[Any]], *, as_recorded: bool = False
) -> list[RiskDesignation]:
    """The designations of ``rows`` with their ends, each counting from when it became active
    (co-signed), or, ``as_recorded``, from when it was recorded (pending ones too)."""
    ends = ends_of(conn, rows)
    return [
        RiskDesignation(
            id=row.id,
            area=row.area_code,
            level=RiskLevel(row.level),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            authority_id=row.authority_id,
            case_count=row.case_count,
            basis=row.basis,
            recorded_at=row.recorded_at if as_recorded else row.activated_at,
            venue_id=row.venue_id,
            ends=tuple(end.as_input() for end in ends.get(row.id, ())),
        )
        for row in rows
    ]


def counts_at(
    occurred: ColumnElement[datetime] | datetime, at: ColumnElement[datetime] | datetime
) -> ColumnElement[bool]:
    """SQL over `t.designations`: whether the ends recorded by ``at`` leave a visit at
    ``occurred`` inside the period (before each of those ends) and the designation not
    withdrawn as made in error (`RiskDesignation.as_known_at`; its own start and `valid_to` are
    the caller's to compare). A withdrawal is always the row's end: nothing follows one."""
    d, earlier = t.designations.c, t.designation_earlier_ends.c
    row_end_unknown = or_(d.ended_recorded_at.is_(None), d.ended_recorded_at > at)
    return and_(
        or_(row_end_unknown, and_(d.end_reason != VOIDING, d.ended_at > occurred)),
        not_(
            exists().where(
                earlier.designation_id == d.id,
                earlier.recorded_at <= at,
                earlier.ended_at <= occurred,
            )
        ),
    )


def by_id(conn: Connection, designation_id: str) -> Row[Any] | None:
    query = select(t.designations).where(t.designations.c.id == designation_id)
    return conn.execute(query).first()


def of_authority(conn: Connection, authority_id: str) -> list[tuple[RiskDesignation, Row[Any]]]:
    """The authority's designations, newest first, each as recorded (pending ones counting
    from when they were recorded), with its row."""
    d = t.designations.c
    query = (
        select(t.designations)
        .where(d.authority_id == authority_id)
        .order_by(d.recorded_at.desc(), d.id)
    )
    rows = conn.execute(query).all()
    return list(zip(from_rows(conn, rows, as_recorded=True), rows, strict=True))


def record_end(
    conn: Connection, row: Row[Any], *, ended_at: datetime, recorded_at: datetime, reason: str,
    ended_by: str, log_index: int,
) -> None:  # fmt: skip
    """Record designation ``row``'s new end in effect on its row; the end it replaces, if any,
    becomes one of its earlier ends."""
    if row.end_log_index is not None:
        conn.execute(t.designation_earlier_ends.insert().values(
            log_index=row.end_log_index, designation_id=row.id, ended_at=row.ended_at,
            recorded_at=row.ended_recorded_at, reason=row.end_reason, ended_by=row.ended_by,
        ))  # fmt: skip
    conn.execute(t.designations.update().where(t.designations.c.id == row.id).values(
        ended_at=ended_at, ended_recorded_at=recorded_at, end_reason=reason, ended_by=ended_by,
        end_log_index=log_index,
    ))  # fmt: skip
