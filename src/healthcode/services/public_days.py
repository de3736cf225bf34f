"""The local days the public statistics count by, and the SQL that sorts an instant into one.

A day is a calendar day in the pages' time zone (HEALTHCODE_TIMEZONE), not a UTC day: a code
that turned red at 07:00 in Zhengzhou belongs to that morning's date. Instants are stored as
UTC microseconds, so the day boundaries are computed here, once, from the zone's rules (which
handles daylight saving time where a zone has it), and the database compares each row with
them; no row is read into Python to be bucketed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, literal_column

from healthcode.store.instants import to_micros


@dataclass(frozen=True)
class Window:
    days: tuple[date, ...]  # oldest first; the last one is today
    starts: tuple[datetime, ...]  # each day's local midnight (UTC), then the next midnight
    now: datetime

    @classmethod
    def ending(cls, now: datetime, zone: ZoneInfo, days: int) -> Window:
        """The ``days`` local days up to and including today."""
        today = now.astimezone(zone).date()
        found = tuple(today - timedelta(days=days - 1 - n) for n in range(days))
        starts = tuple(
            datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
            for day in (*found, today + timedelta(days=1))
        )
        return cls(found, starts, now)

    @property
    def start(self) -> datetime:
        return self.starts[0]

    @property
    def ends(self) -> tuple[datetime, ...]:
        """When each day's state is taken: its end (the next midnight), and now for today."""
        return (*self.starts[1:-1], self.now)

    def day_of(self, column: ColumnElement[datetime]) -> ColumnElement[int]:
        """The index of the day an instant falls on (0 is the first day), or ``len(days)``
        from the end of today on; only meaningful for rows at or after ``start``."""
        # Written as literal integers (they are computed here, never input), so that the
        # expression reads the same in SELECT and GROUP BY: with bound parameters PostgreSQL
        # numbers them apart and refuses to group by "another" expression.
        whens: list[tuple[ColumnElement[bool], ColumnElement[int]]] = [
            (column < literal_column(str(to_micros(boundary))), literal_column(str(n)))
            for n, boundary in enumerate(self.starts[1:])
        ]
        return case(*whens, else_=literal_column(str(len(self.days))))
