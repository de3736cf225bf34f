"""A city with ground truth, as a stream of actions: the outbreak's evidence and designations,
and what honest officials and residents do about them (orders for close contacts, appeals,
answers in time). ``sim/abuse.py`` adds the attempts; ``sim/actions.py`` replays it all.

People, households (sizes 1-5, in one district), the registry and the staff are registered
first, through the services, because person keys come from the identity provider. The days are
then generated one at a time and every action is handed on in time order as soon as no later
day can add an earlier one, so a city of any size streams through in constant memory.
"""

from __future__ import annotations

import heapq
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from healthcode.bootstrap import Services
from healthcode.domain.batches import sign_batch
from healthcode.services.rulebooks import default_edition_source
from healthcode.sim import geography
from healthcode.sim.identities import demo_identity
from healthcode.sim.outbreak import Outbreak, Resident

HOUSEHOLD_SIZES = [1, 2, 3, 4, 5]
HOUSEHOLD_WEIGHTS = [0.25, 0.3, 0.25, 0.15, 0.05]
ORDERS_PER_DAY = 10  # an official's daily capacity: the sample of contacts ordered to quarantine
ORDER_SHARE = 0.7
APPEAL_CHANCE = 0.4
OVERTURN_CHANCE = 0.2
ORDER_DAYS = 10
ARRIVALS_PER_DAY = 6  # at most; one per thousand residents
BATCH_SIZE = 1000


@dataclass(frozen=True)
class Visit:
    person: str
    ref: str  # "source/record"
    proven: bool
    at: datetime


@dataclass
class World:
    seed: int
    start: datetime
    days: int
    end: datetime  # now: what would happen later has not happened yet and is not replayed
    residents: list[Resident]
    venues: list[geography.DemoVenue]
    outbreak: Outbreak
    visits: dict[tuple[int, str], list[Visit]] = field(default_factory=lambda: defaultdict(list))
    ordered: dict[str, datetime] = field(default_factory=dict)  # person -> last order
    # An authority that answers no appeals (an abuse attempt): city -> the attempt's action ids
    # and how many more appeals it leaves unanswered.
    silenced: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    appeals_filed: Counter[str] = field(default_factory=Counter)  # city -> appeals so far
    _pending: list[tuple[datetime, int, dict[str, Any]]] = field(default_factory=list)
    _count: int = 0

    def add(self, action: dict[str, Any]) -> dict[str, Any]:
        self._count += 1
        action["id"] = f"n{self._count:07d}"
        heapq.heappush(self._pending, (datetime.fromisoformat(action["at"]), self._count, action))
        return action

    def due(self, before: datetime) -> list[dict[str, Any]]:
        """The actions due before ``before``, in time order, each handed out once."""
        out = []
        while self._pending and self._pending[0][0] < before:
            out.append(heapq.heappop(self._pending)[2])
        return out

    def day_start(self, day: int) -> datetime:
        return self.start + timedelta(days=day)


def _households(rng: random.Random, people: int) -> list[int]:
    found: list[int] = []
    while len(found) < people:
        found += [len(found)] * rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0]
    return [found[n] for n in range(people)]


def register(services: Services, *, people: int, seed: int, days: int, now: datetime) -> World:
    """Register the city's places, institutions, staff and residents; no evidence yet."""
    rng = random.Random(seed)
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    with services.db.write() as conn:
        if not services.rulebooks.editions(conn):
            services.rulebooks.publish(conn, default_edition_source(), now=start)
    venue_list = geography.venues(rng, max(24, people // 50))
    services.registry.load(geography.registry_config(seed, venue_list), now=start)
    # Each city's second supervisor signs in with a password of their own, which no one here
    # keeps (the others act through tokens the operator issues): what `password_reset` takes.
    services.staff.register(
        [
            {**m, "password": secrets.token_urlsafe(16)} if m["id"].endswith("-supervisor-2")
            else m
            for m in geography.staff()
        ],
        now=start,
    )  # fmt: skip
    household_of = _households(rng, people)
    homes: list[str] = []
    for n in range(people):
        first = household_of.index(household_of[n])
        homes.append(homes[first] if first < n else rng.choice(geography.DISTRICTS)[0])
    ids = [(f"sim-{seed}-{n:07d}", geography.person_name(rng), homes[n]) for n in range(people)]
    keys = services.identity.register_many(
        ids, now=start, identities=[demo_identity(i, name) for i, name, _ in ids],
        households=[f"hh-{seed}-{h:07d}" for h in household_of],
    )  # fmt: skip
    residents = [
        Resident(key, home, household=h)
        for key, home, h in zip(keys, homes, household_of, strict=True)
    ]
    return World(
        seed, start, days, now, residents, venue_list, Outbreak(rng, residents, venue_list)
    )


Planner = Callable[[World, int], None]


def simulate(
    world: World, rng: random.Random, apply: Callable[[dict[str, Any]], None],
    attempts: Planner = lambda world, day: None,
) -> None:  # fmt: skip
    """Every day's evidence, designations, orders, appeals and answers of the honest city, and
    what ``attempts`` adds on each day, handed to ``apply`` in time order."""
    keys = {source.id: source for source in geography.sources(world.seed)}
    designations = 0
    for day in range(world.days):
        start = world.day_start(day)
        received = start + timedelta(hours=22)
        output = world.outbreak.day(day, start)
        for source_id, records in sorted(output.records.items()):
            for offset in range(0, len(records), BATCH_SIZE):
                batch = {"source": source_id, "batch_id": f"d{day:03d}-{offset // BATCH_SIZE:04d}",
                         "records": records[offset : offset + BATCH_SIZE]}  # fmt: skip
                world.add({"type": "evidence", "at": received.isoformat(),
                           "batch": sign_batch(batch, keys[source_id].key.sign)})  # fmt: skip
            _index_visits(world, day, source_id, records)
        for district, venue_id, level, cases in output.designations:
            designations += 1
            city = geography.city_of(district)
            world.add({
                "type": "designation", "at": (received + timedelta(minutes=10)).isoformat(),
                "by": f"{city}-official", "cosign_by": f"{city}-supervisor-1",
                "request": {
                    "id": f"des-{designations:04d}", "area": district, "level": str(level),
                    "valid_from": (start - timedelta(days=1)).isoformat(),
                    "valid_to": (start + timedelta(days=6)).isoformat(), "case_count": cases,
                    "basis": f"{cases} cases in 3 days" + (f" at venue {venue_id}" if venue_id else ""),
                    "venue_id": venue_id,
                },
            })  # fmt: skip
        _orders_for_contacts(world, rng, day, output.records)
        _arrivals(world, rng, day, keys["border-cgo"])
        attempts(world, day)
        world.add({"type": "tick", "at": (start + timedelta(hours=23, minutes=50)).isoformat()})
        # Nothing generated later happens before tomorrow.
        for action in world.due(min(world.day_start(day + 1), world.end)):
            apply(action)
    for action in world.due(world.end):
        apply(action)


def _index_visits(world: World, day: int, source_id: str, records: list[dict[str, Any]]) -> None:
    for record in records:
        if record["kind"] == "venue_visit":
            world.visits[(day, record["venue_id"])].append(Visit(
                record["person"], f"{source_id}/{record['record_id']}",
                record["presence"] == "proven", datetime.fromisoformat(record["occurred_at"]),
            ))  # fmt: skip


def _arrivals(world: World, rng: random.Random, day: int, border: geography.DemoSource) -> None:
    """Residents coming home through Zhengzhou airport, quarantine required: border control
    signs their entries at night, and next morning Zhengzhou's official orders each one into
    inbound quarantine (a steady flow of orders and appeals, whatever the outbreak does)."""
    start = world.day_start(day)
    arriving = rng.sample(
        world.residents, min(ARRIVALS_PER_DAY, max(1, len(world.residents) // 1000))
    )
    records: list[dict[str, Any]] = [{
        "record_id": f"entry-{day:03d}-{n:03d}", "kind": "border_entry", "person": r.key,
        "area": border.area, "occurred_at": (start + timedelta(hours=rng.uniform(6, 20))).isoformat(),
        "port": "CGO", "quarantine_required": True,
    } for n, r in enumerate(arriving)]  # fmt: skip
    batch = {"source": border.id, "batch_id": f"d{day:03d}", "records": records}
    world.add({"type": "evidence", "at": (start + timedelta(hours=22)).isoformat(),
               "batch": sign_batch(batch, border.key.sign)})  # fmt: skip
    morning = world.day_start(day + 1) + timedelta(hours=10, minutes=30)
    for n, record in enumerate(records):
        add_order(world, geography.city_of(border.area), record["person"],
                  [f"{border.id}/{record['record_id']}"], morning + timedelta(minutes=5 * n),
                  kind="inbound_quarantine", appeals=rng)  # fmt: skip


def _orders_for_contacts(
    world: World, rng: random.Random, day: int, records: dict[str, list[dict[str, Any]]]
) -> None:
    """Next morning each city's official orders a sample of the day's close contacts home."""
    morning = world.day_start(day + 1) + timedelta(hours=9)
    for source_id, found in sorted(records.items()):
        if not source_id.startswith("cdc-"):
            continue
        city = source_id.removeprefix("cdc-")
        contacts: dict[str, str] = {}
        for record in found:
            if record["kind"] == "close_contact":
                contacts.setdefault(record["person"], f"{source_id}/{record['record_id']}")
        # In the order the records came (person keys depend on the server's secret: sorting by
        # them would make a seed's city differ from one store to the next).
        fresh = [
            person for person in contacts
            if person not in world.ordered or world.ordered[person] < morning - timedelta(days=14)
        ]  # fmt: skip
        chosen = rng.sample(fresh, min(len(fresh), ORDERS_PER_DAY, round(len(fresh) * ORDER_SHARE) or 1)) if fresh else []  # fmt: skip
        for number, person in enumerate(chosen):
            at = morning + timedelta(minutes=7 * number)
            add_order(world, city, person, [contacts[person]], at, appeals=rng)


def add_order(
    world: World, city: str, person: str, evidence: list[str], at: datetime, *,
    kind: str = "close_contact_quarantine", basis: str = "idl-art-41-quarantine",
    appeals: random.Random | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An order by the city's official (co-signed by a supervisor when the two-person rule asks)
    and, drawn with ``appeals``, the person's appeal and the authority's answer in time."""
    world.ordered[person] = at
    days = 5 if kind == "home_health_monitoring" else ORDER_DAYS
    action = world.add({
        "type": "order", "at": at.isoformat(), "by": f"{city}-official",
        "cosign_by": f"{city}-supervisor-1",
        "request": {"kind": kind, "legal_basis": basis,
                    "persons": [{"person": person, "evidence": evidence}],
                    "valid_until": (at + timedelta(days=days)).isoformat()},
    })  # fmt: skip
    action["ref"] = action["id"]
    rng = appeals
    if rng is not None and evidence and rng.random() < APPEAL_CHANCE:
        filed = at + timedelta(hours=rng.uniform(2, 20))
        appeal = world.add({"type": "appeal", "at": filed.isoformat(), "person": person,
                            "target": "order", "order": action["ref"], "ground": "not_there"})  # fmt: skip
        appeal["ref"] = appeal["id"]
        world.appeals_filed[city] += 1
        silenced = world.silenced.get(city)
        if silenced is not None:
            appeals_left, remaining = silenced
            appeals_left.append(appeal["id"])
            if remaining > 1:
                world.silenced[city] = (appeals_left, remaining - 1)
            else:
                del world.silenced[city]
            return action
        overturned = rng.random() < OVERTURN_CHANCE
        world.add({
            "type": "answer", "at": (filed + timedelta(hours=rng.uniform(1, 18))).isoformat(),
            "appeal": appeal["ref"], "by": f"{city}-official",
            "outcome": "overturned" if overturned else "upheld",
            "evidence": [] if overturned else evidence,
        })  # fmt: skip
    return action
