"""A day-by-day outbreak among the demo residents: visits, infections, tests, tracing.

Produces evidence records (as sources would submit them) and designation requests, with the
time each becomes known; it decides nothing about colours, which come from the rulebook.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from healthcode.domain.designations import RiskLevel
from healthcode.sim.geography import DISTRICTS, DemoVenue, city_of

INFECTIOUS_FROM, INFECTIOUS_TO = 2, 8  # days after infection
RECOVERY_AFTER = 12  # days after the positive test
TRANSMISSION = 0.006  # chance per infectious co-visitor per venue-day: R of about 1.5
VISIT_CHANCE = 0.3  # a resident scans into a venue on about a third of the days
TEST_CHANCE = 1 / 10  # routine testing, besides people with symptoms
IMPORTED_EVERY = 4  # days between new cases arriving from elsewhere, so the outbreak goes on
HOUSEHOLD_TRANSMISSION = 0.08  # chance per infectious household member per day


@dataclass
class Resident:
    key: str
    home: str  # district code
    infected_on: int | None = None
    positive_on: int | None = None
    household: int | None = None  # people sharing one are infected and traced together


@dataclass
class DayOutput:
    """What one simulated day produces: records per source, and designations to make."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    designations: list[tuple[str, str | None, RiskLevel, int]] = field(default_factory=list)


class Outbreak:
    def __init__(
        self, rng: random.Random, residents: list[Resident], venues: list[DemoVenue]
    ) -> None:
        self.rng = rng
        self.residents = residents
        self.venues = venues
        self.venue_by_id = {venue.id: venue for venue in venues}
        self.by_district: dict[str, list[DemoVenue]] = defaultdict(list)
        for venue in venues:
            self.by_district[venue.area].append(venue)
        self.visits: dict[
            int, dict[str, list[tuple[int, datetime]]]
        ] = {}  # day -> venue -> visitors
        self.cases_by_day: dict[int, list[tuple[str, str]]] = defaultdict(list)  # (district, venue)
        self.designated: set[tuple[str, str | None]] = set()
        self.households: dict[int, list[int]] = defaultdict(list)
        for number, resident in enumerate(residents):
            if resident.household is not None:
                self.households[resident.household].append(number)
        self.positives: list[tuple[int, datetime]] = []  # (resident, test sampled at): truth
        self.counter = 0
        seeds = rng.sample(range(len(residents)), max(3, len(residents) // 400))
        for index in seeds:
            residents[index].infected_on = -3

    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:08d}"

    def _pick_venue(self, home: str) -> DemoVenue:
        roll = self.rng.random()
        if roll < 0.7:
            district = home
        elif roll < 0.95:
            same_city = [code for code, _, _ in DISTRICTS if city_of(code) == city_of(home)]
            district = self.rng.choice(same_city)
        else:
            district = self.rng.choice(DISTRICTS)[0]
        return self.rng.choice(self.by_district[district])

    def day(self, index: int, start: datetime) -> DayOutput:
        out = DayOutput()
        rng = self.rng
        if index % IMPORTED_EVERY == 0:
            for number in rng.sample(
                range(len(self.residents)), max(2, len(self.residents) // 2000)
            ):
                if self.residents[number].infected_on is None:
                    self.residents[number].infected_on = index
        venue_visits: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
        for number, person in enumerate(self.residents):
            if rng.random() < VISIT_CHANCE:
                venue = self._pick_venue(person.home)
                when = start + timedelta(hours=8 + rng.random() * 12)
                proven = rng.random() < 0.95
                venue_visits[venue.id].append((number, when))
                out.records[f"scan-{city_of(venue.area)}"].append({
                    "record_id": self._id("visit"), "kind": "venue_visit", "person": person.key,
                    "area": venue.area, "occurred_at": when.isoformat(), "venue_id": venue.id,
                    "presence": "proven" if proven else "unverified",
                })  # fmt: skip
        self.visits[index] = venue_visits
        self._spread(index, venue_visits)
        self._test(index, start, out)
        self._designate(index, out)
        return out

    def _infectious(self, person: Resident, day: int) -> bool:
        return (
            person.infected_on is not None
            and INFECTIOUS_FROM <= day - person.infected_on <= INFECTIOUS_TO
        )

    def _spread(self, day: int, venue_visits: dict[str, list[tuple[int, datetime]]]) -> None:
        for members in self.households.values():
            if any(self._infectious(self.residents[n], day) for n in members):
                for n in members:
                    person = self.residents[n]
                    if person.infected_on is None and self.rng.random() < HOUSEHOLD_TRANSMISSION:
                        person.infected_on = day
        for visitors in venue_visits.values():
            if not any(self._infectious(self.residents[n], day) for n, _ in visitors):
                continue
            for n, _ in visitors:
                person = self.residents[n]
                if person.infected_on is None and self.rng.random() < TRANSMISSION:
                    person.infected_on = day

    def _test(self, day: int, start: datetime, out: DayOutput) -> None:
        rng = self.rng
        for number, person in enumerate(self.residents):
            lab = f"lab-{city_of(person.home)}"
            if person.positive_on is not None:
                if day - person.positive_on == RECOVERY_AFTER:
                    out.records[lab].append({
                        "record_id": self._id("recovery"), "kind": "recovery", "person": person.key,
                        "area": person.home, "occurred_at": (start + timedelta(hours=9)).isoformat(),
                    })  # fmt: skip
                continue
            infected = person.infected_on is not None and day - person.infected_on >= 2
            symptomatic = infected and day - person.infected_on == 3  # type: ignore[operator]
            if not (symptomatic and rng.random() < 0.7) and rng.random() > TEST_CHANCE:
                continue
            sampled = start + timedelta(hours=7 + rng.random() * 4)
            out.records[lab].append({
                "record_id": self._id("test"), "kind": "test_result", "person": person.key,
                "area": person.home, "occurred_at": sampled.isoformat(), "method": "pcr",
                "result": "positive" if infected else "negative",
            })  # fmt: skip
            if infected:
                person.positive_on = day
                self.positives.append((number, sampled))
                self._trace(day, number, out)
                self._trace_household(number, sampled, out)

    def _trace(self, day: int, number: int, out: DayOutput) -> None:
        """Close contacts: people at the same venue on the same day, over the last 3 days."""
        for past in range(max(0, day - 2), day + 1):
            for venue_id, visitors in self.visits.get(past, {}).items():
                if all(n != number for n, _ in visitors):
                    continue
                venue = self.venue_by_id[venue_id]
                self.cases_by_day[day].append((venue.area, venue_id))
                for n, when in visitors[:30]:
                    if n == number:
                        continue
                    contact = self.residents[n]
                    out.records[f"cdc-{city_of(venue.area)}"].append({
                        "record_id": self._id("contact"), "kind": "close_contact",
                        "person": contact.key, "area": venue.area, "occurred_at": when.isoformat(),
                        "case_ref": f"case-{number:07d}",
                    })  # fmt: skip

    def _trace_household(self, number: int, sampled: datetime, out: DayOutput) -> None:
        """A case's household members are close contacts at home (their exposure is the case)."""
        person = self.residents[number]
        if person.household is None:
            return
        for n in self.households[person.household]:
            member = self.residents[n]
            if n == number or member.positive_on is not None:
                continue
            out.records[f"cdc-{city_of(person.home)}"].append({
                "record_id": self._id("contact"), "kind": "close_contact", "person": member.key,
                "area": member.home, "occurred_at": sampled.isoformat(),
                "case_ref": f"case-{number:07d}",
            })  # fmt: skip

    def _designate(self, day: int, out: DayOutput) -> None:
        recent = [
            hit for past in range(max(0, day - 2), day + 1) for hit in self.cases_by_day[past]
        ]
        by_venue: dict[tuple[str, str], int] = defaultdict(int)
        by_district: dict[str, int] = defaultdict(int)
        for district, venue_id in recent:
            by_venue[(district, venue_id)] += 1
            by_district[district] += 1
        for (district, venue_id), cases in by_venue.items():
            if cases >= 3 and (district, venue_id) not in self.designated:
                self.designated.add((district, venue_id))
                out.designations.append((district, venue_id, RiskLevel.HIGH, cases))
        for district, cases in by_district.items():
            if cases >= 6 and (district, None) not in self.designated:
                self.designated.add((district, None))
                out.designations.append((district, None, RiskLevel.MEDIUM, cases))
