"""Public statistics: how many people hold each colour, per city, and the colour changes of
the last days, for anyone to see (and compare with what they are told).

Counts below the appeals policy's smallest cell (10) are shown as "<10", so that no one can be
singled out; the daily changes are counted per local day (the pages' time zone).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from healthcode.domain import areas
from healthcode.domain.appeals import suppress
from healthcode.store import tables as t
from healthcode.store.database import Database

COLOURS = ("green", "yellow", "red")


@dataclass(frozen=True)
class DayOfChanges:
    day: date
    counts: dict[str, int]  # changes to each colour that day (suppressed in the page only)


@dataclass(frozen=True)
class PublicStats:
    people: int | str
    colours: dict[str, int | str]
    cities: dict[str, dict[str, int | str]]  # city area code -> colour -> count
    days: list[DayOfChanges]
    busiest_day: int  # the largest daily total, to scale the chart
    min_cell: int


class PublicStatistics:
    def __init__(self, db: Database, timezone: str, min_cell: int) -> None:
        self._db = db
        self._zone = ZoneInfo(timezone)
        self._min_cell = min_cell

    def compute(self, now: datetime, days: int = 30) -> PublicStats:
        since = now - timedelta(days=days)
        with self._db.read() as conn:
            # Counted by the database: one row per home area and colour, not one per person.
            held = t.person_status.c.colour
            rows = conn.execute(
                select(t.persons.c.home_area, held, func.count())
                .select_from(
                    t.persons.outerjoin(
                        t.person_status, t.persons.c.person_key == t.person_status.c.person_key
                    )
                )
                .group_by(t.persons.c.home_area, held)
            ).all()
            changes = conn.execute(
                select(t.status_changes.c.recorded_at, t.status_changes.c.colour).where(
                    t.status_changes.c.recorded_at > since
                )
            ).all()
        colours: Counter[str] = Counter()
        cities: dict[str, Counter[str]] = {}
        for home, colour, count in rows:
            colours[colour or "green"] += count
            cities.setdefault(_city_of(home), Counter())[colour or "green"] += count
        per_day: dict[date, Counter[str]] = {}
        for recorded_at, colour in changes:
            per_day.setdefault(recorded_at.astimezone(self._zone).date(), Counter())[colour] += 1
        first = since.astimezone(self._zone).date() + timedelta(days=1)
        series = [
            DayOfChanges(day, dict(per_day.get(day, Counter())))
            for day in (first + timedelta(days=n) for n in range(days))
        ]
        cell = self._min_cell
        return PublicStats(
            people=suppress(sum(colours.values()), cell),
            colours={c: suppress(colours[c], cell) for c in COLOURS},
            cities={
                city: {c: suppress(n[c], cell) for c in COLOURS}
                for city, n in sorted(cities.items())
            },
            days=series,
            busiest_day=max((sum(d.counts.values()) for d in series), default=0),
            min_cell=cell,
        )


def _city_of(area: str) -> str:
    """The city a home area lies in (the area itself when it is a city or a province)."""
    if areas.level_of(area) is areas.AreaLevel.DISTRICT:
        return areas.parent_of(area) or area
    return area
