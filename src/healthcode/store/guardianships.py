"""Rows of guardianships: the current ones, each with its log entry, and those ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select

from healthcode.store import tables as t


@dataclass(frozen=True)
class Guardianship:
    dependant: str
    guardian: str
    since: datetime
    log_index: int | None  # None: recorded before migration 0027, not logged yet
    # Marked by migration 0027 as found then, so its want of an entry is no tampering.
    before_logging: bool = False


@dataclass(frozen=True)
class EndedGuardianship:
    log_index: int  # the end's entry
    dependant: str
    guardian: str
    since: datetime
    start_log_index: int | None
    until: datetime


def _current(row: Row[Any]) -> Guardianship:
    index = None if row.log_index is None else int(row.log_index)
    return Guardianship(
        row.person_key, row.guardian_key, row.since, index, bool(row.before_logging)
    )


def find(conn: Connection, guardian: str, dependant: str) -> Guardianship | None:
    row = conn.execute(
        select(t.guardianships).where(
            t.guardianships.c.person_key == dependant, t.guardianships.c.guardian_key == guardian
        )
    ).first()
    return None if row is None else _current(row)


def insert(conn: Connection, found: Guardianship) -> None:
    conn.execute(t.guardianships.insert().values(
        person_key=found.dependant, guardian_key=found.guardian, since=found.since,
        log_index=found.log_index,
    ))  # fmt: skip


def set_logged(conn: Connection, guardian: str, dependant: str, log_index: int) -> None:
    """Give a guardianship recorded before migration 0027 the entry that now logs it."""
    conn.execute(
        t.guardianships.update()
        .where(
            t.guardianships.c.person_key == dependant, t.guardianships.c.guardian_key == guardian
        )
        .values(log_index=log_index)
    )


def end(conn: Connection, found: Guardianship, log_index: int, until: datetime) -> None:
    """Move the guardianship to the ended ones: it grants no read from now on."""
    conn.execute(
        t.guardianships.delete().where(
            t.guardianships.c.person_key == found.dependant,
            t.guardianships.c.guardian_key == found.guardian,
        )
    )
    conn.execute(t.guardianship_ends.insert().values(
        log_index=log_index, person_key=found.dependant, guardian_key=found.guardian,
        since=found.since, start_log_index=found.log_index, until=until,
    ))  # fmt: skip


def guardians_of(conn: Connection, dependant: str) -> list[Guardianship]:
    """The dependant's current guardians, the longest-standing first."""
    query = (
        select(t.guardianships)
        .where(t.guardianships.c.person_key == dependant)
        .order_by(t.guardianships.c.since, t.guardianships.c.guardian_key)
    )
    return [_current(row) for row in conn.execute(query)]


def guardians_by_entry(conn: Connection, dependant: str, indices: set[int]) -> dict[int, str]:
    """The guardian's key by the log index of the dependant's guardianship entries among
    ``indices``: of those in force, and of those ended (their start's and their end's)."""
    if not indices:
        return {}
    g, e = t.guardianships.c, t.guardianship_ends.c
    in_force = select(g.log_index, g.guardian_key).where(
        g.person_key == dependant, g.log_index.in_(indices)
    )
    found = {int(index): key for index, key in conn.execute(in_force)}
    ended = select(e.log_index, e.start_log_index, e.guardian_key).where(
        e.person_key == dependant, or_(e.log_index.in_(indices), e.start_log_index.in_(indices))
    )
    for end, start, key in conn.execute(ended):
        found.update({int(i): key for i in (end, start) if i is not None and int(i) in indices})
    return found


def every(conn: Connection) -> list[Guardianship]:
    return [_current(row) for row in conn.execute(select(t.guardianships))]


def every_end(conn: Connection) -> list[EndedGuardianship]:
    return [
        EndedGuardianship(
            int(row.log_index), row.person_key, row.guardian_key, row.since,
            None if row.start_log_index is None else int(row.start_log_index), row.until,
        )
        for row in conn.execute(select(t.guardianship_ends))
    ]  # fmt: skip
