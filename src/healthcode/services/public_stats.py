"""Public statistics: how many people hold each colour, per city, now and at the end of each of
the last days; the colour changes per day; and the authorities' acts (orders, designations,
appeals) and oversight's findings (`public_acts.py`), for anyone to see and compare with what
they are told.

Counts below the appeals policy's smallest cell (10) are hidden ("<10"), together with any
count a published total would give away (`domain/disclosure.py`), so that no one can be
singled out. Every count is made by the database, grouped by area, day and colour: a city of
millions costs a few hundred result rows, never one per person.

Not protected: the difference between two days' counts of a city is that day's net change,
which may be small (12 red yesterday, 14 today). It is a net flow over a whole city, not a
cell that picks anyone out; rounding the daily counts would close it, at the price of exact
numbers.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from healthcode.domain import areas
from healthcode.domain.disclosure import GUARD, Count, Table, crosstab, small_hidden
from healthcode.services import public_acts
from healthcode.services.public_acts import Acts
from healthcode.services.public_days import Window
from healthcode.store import tables as t
from healthcode.store.database import Database

COLOURS = ("green", "yellow", "red")
HELD = ("red", "yellow")  # the colours drawn per day (green is everyone else)
DRAWN_CITIES = 12  # small multiples beyond this stop being readable on a phone
# The page is public and each count reads every status change of the window (about a second
# for the 100,000-person demo on SQLite): anyone may reload it, so it is counted once a minute.
MAX_AGE = timedelta(minutes=1)


@dataclass(frozen=True)
class CityDays:
    """A city's red and yellow codes held at the end of each day (today: now)."""

    city: str
    held: dict[str, tuple[Count, ...]]  # colour -> per day


@dataclass(frozen=True)
class PublicStats:
    counted_at: datetime
    min_cell: int
    days: tuple[date, ...]
    cities: Table  # city x colour, now, with totals per city, per colour and overall
    city_days: tuple[CityDays, ...]  # cities with a count to draw, the most codes drawn first
    cities_not_drawn: int
    changes: dict[str, tuple[Count, ...]]  # colour -> codes that turned to it, per day
    acts: Acts


class PublicStatistics:
    def __init__(self, db: Database, timezone: str, min_cell: int) -> None:
        self._db = db
        self._zone = ZoneInfo(timezone)
        self._min_cell = min_cell
        self._latest: PublicStats | None = None
        self._lock = threading.Lock()  # one count at a time; the others wait and share it

    @property
    def min_cell(self) -> int:
        return self._min_cell

    def appeals(self) -> Table | None:
        """The appeals table alone (for the appeal statistics page's chart)."""
        with self._db.read() as conn:
            return public_acts.appeals(conn, self._min_cell)

    def latest(self, now: datetime) -> PublicStats:
        """The statistics counted at most ``MAX_AGE`` before ``now`` (counted now if not)."""
        with self._lock:
            last = self._latest
            if last is None or not last.counted_at <= now < last.counted_at + MAX_AGE:
                self._latest = last = self.compute(now)
            return last

    def compute(self, now: datetime, days: int = 30) -> PublicStats:
        window = Window.ending(now, self._zone, days)
        cell = self._min_cell
        with self._db.read() as conn:
            held_now = _held_now(conn)
            moves = _moves(conn, window)
            acts = public_acts.count(conn, window, cell)
        cities_now: dict[tuple[str, str], int] = defaultdict(int)
        for (area, colour), count in held_now.items():
            cities_now[(_city_of(area), colour)] += count
        city_codes = sorted({city for city, _ in cities_now})
        cities = crosstab(cities_now, city_codes, COLOURS, cell)
        drawn = _city_days(cities_now, cities, moves, window, cell)
        changes: dict[str, list[int]] = {c: [0] * days for c in COLOURS}
        for (_area, day, colour, previous), count in moves.items():
            if day < days and colour != previous:  # not a new rule under the same colour
                changes[colour][day] += count
        return PublicStats(
            counted_at=now,
            min_cell=cell,
            days=window.days,
            cities=cities,
            city_days=tuple(drawn[:DRAWN_CITIES]),
            cities_not_drawn=max(0, len(drawn) - DRAWN_CITIES),
            changes={c: tuple(small_hidden(n, cell) for n in changes[c]) for c in COLOURS},
            acts=acts,
        )


def _held_now(conn: Connection) -> dict[tuple[str, str], int]:
    """People per home area and current colour (no status row yet: green)."""
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
    found: dict[tuple[str, str], int] = defaultdict(int)
    for area, colour, count in rows:
        found[(area, colour or "green")] += count
    return found


def _moves(conn: Connection, window: Window) -> dict[tuple[str, int, str, str], int]:
    """Status changes that took effect in the window, counted per home area, day, new colour
    and previous colour."""
    changes = t.status_changes
    day = window.day_of(changes.c.effective_at)
    rows = conn.execute(
        select(t.persons.c.home_area, day, changes.c.colour, changes.c.previous_colour,
               func.count())
        .select_from(changes.join(t.persons, t.persons.c.person_key == changes.c.person_key))
        .where(changes.c.effective_at >= window.start)
        .group_by(t.persons.c.home_area, day, changes.c.colour, changes.c.previous_colour)
    ).all()  # fmt: skip
    return {(area, int(n), colour, previous): count for area, n, colour, previous, count in rows}


def _city_days(
    now: dict[tuple[str, str], int],
    cities: Table,
    moves: dict[tuple[str, int, str, str], int],
    window: Window,
    min_cell: int,
) -> list[CityDays]:
    """Red and yellow held at the end of each day, per city, walking back from now.

    What was held at the end of day i is what is held now less every change that took effect
    after it: each change adds one to its colour and takes one from its previous colour. So the
    window's changes and today's counts suffice; history before the window is never read.
    """
    days = len(window.days)
    # after[(city, colour)][j]: the net change that took effect on day j (j == days: later).
    after: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (days + 1))
    for (area, day, colour, previous), count in moves.items():
        city = _city_of(area)
        after[(city, colour)][day] += count
        after[(city, previous)][day] -= count
    found = []
    for city in cities.rows:
        held: dict[str, tuple[Count, ...]] = {}
        for colour in HELD:
            count, net = now.get((city, colour), 0), after.get((city, colour), [0] * (days + 1))
            ends = [0] * days
            for i in reversed(range(days)):
                count -= net[i + 1]
                ends[i] = count
            shown = [small_hidden(n, min_cell) for n in ends]
            # Today's count is also a cell of the cities table; hide it here when the table
            # hid it to guard another cell, or the chart would give that cell away.
            if cities.cell(city, colour) == GUARD:
                shown[-1] = GUARD
            held[colour] = tuple(shown)
        visible = sum(n for series in held.values() for n in series if isinstance(n, int))
        if visible:
            found.append((visible, CityDays(city, held)))
    found.sort(key=lambda pair: (-pair[0], pair[1].city))
    return [city for _, city in found]


def _city_of(area: str) -> str:
    """The city a home area lies in (the area itself when it is a city or a province)."""
    if areas.level_of(area) is areas.AreaLevel.DISTRICT:
        return areas.parent_of(area) or area
    return area
