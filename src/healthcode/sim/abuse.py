"""Abuse attempts modelled on the seed's A1-A8, with randomised parameters, added to a world's
action stream on their days; each attempt names its actions (the ground truth, written
beside the data).

Some attempts the API refuses outright (an order on a list of names, on a relative's evidence,
on the wrong legal basis); the others land as they would in production and are for oversight's
detectors to find. Attempts happen after the first week, so every detector has a baseline.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from healthcode.domain.batches import sign_batch
from healthcode.sim import geography
from healthcode.sim.world import Planner, World, add_order

# attempt kind -> the seed's abuse it is modelled on (docs/oversight.md)
KINDS = {
    "fabricated_contacts": "A1",  # one compromised source, depositors in several cities
    "list_order": "A1",  # orders on a list of names, no evidence: refused
    "forwarded_code": "A2",  # a venue's code sent to people elsewhere
    "wrong_basis": "A3",  # petitioners ordered as inbound travellers: refused
    "station_designation": "A3",  # a station designated on a protest day, no cases
    "household_contacts": "A4",  # fabricated contacts for whole households, then orders
    "relative_evidence": "A4",  # a child ordered on a parent's evidence: refused
    "order_burst": "A5",  # one official orders a crowd in a day
    "appeal_lapse": "A8",  # an authority stops answering appeals
    "operator_cosign": "A8",  # the operator co-signs as a supervisor, with a token they issued
    "password_reset": "A8",  # the operator sets a supervisor's password, then co-signs as them
    "guardian_of_many": "A8",  # the operator makes one person guardian of many, briefly
}
# Attempts drawn from a generator of their own (seeded by the world's seed and their kind), not
# the city's: added after the others were measured, they leave the honest city and every other
# attempt exactly as they were (docs/oversight.md's tables).
OWN_DRAWS = frozenset({"operator_cosign", "password_reset", "guardian_of_many"})
CITIES = [code for code, _, _ in geography.CITIES]
LAPSED = 8  # appeals an authority lets lapse, at least


@dataclass
class Attempt:
    id: str
    kind: str
    city: str
    day: int
    actions: list[str] = field(default_factory=list)  # action ids

    @property
    def abuse(self) -> str:
        return KINDS[self.kind]


def plan(world: World, rng: random.Random) -> tuple[list[Attempt], Planner]:
    """One attempt of every kind, each in a random city on a random day after the first week
    (an appeal lapse early enough for appeals to come, by the authority that has had the most
    so far); the planner makes each on its day. A city simulated under two weeks gets none."""
    if world.days < 14:
        return [], lambda world, day: None
    attempts = []
    draws = {kind: random.Random(f"{world.seed}:{kind}") for kind in OWN_DRAWS}
    for number, kind in enumerate(KINDS, 1):
        drawn = draws.get(kind, rng)
        city, day = drawn.choice(CITIES), drawn.randrange(8, world.days - 3)
        if kind == "appeal_lapse":
            day = rng.randrange(8, 11)
        attempts.append(Attempt(f"att-{number:02d}-{kind}", kind, city, day))

    def planner(world: World, day: int) -> None:
        for attempt in attempts:
            if attempt.day == day:
                _MAKERS[attempt.kind](world, draws.get(attempt.kind, rng), attempt)

    return attempts, planner


def _made_up(rng: random.Random) -> str:
    """An id for what an attempt makes up, shaped like the honest ones: nothing in the data
    says which records belong to an attempt (only labels.ndjson does)."""
    return f"x{rng.randrange(16**7):07x}"


def _at(world: World, day: int, hour: float) -> datetime:
    return world.day_start(day) + timedelta(hours=hour)


def _add(world: World, attempt: Attempt, action: dict[str, Any]) -> dict[str, Any]:
    added = world.add(action)
    attempt.actions.append(added["id"])
    return added


def _districts(city: str) -> list[str]:
    return [code for code, _, _ in geography.DISTRICTS if geography.city_of(code) == city]


def _fabricate(
    world: World, rng: random.Random, attempt: Attempt, people: list[tuple[str, str]]
) -> list[str]:
    """A compromised tracing source of the attempt's city signs close contacts for ``people``
    (person, case reference), placed in a district the person does not live in."""
    source = next(s for s in geography.sources(world.seed) if s.id == f"cdc-{attempt.city}")
    homes = {r.key: r.home for r in world.residents}
    records = []
    for person, case_ref in people:
        districts = [d for d in _districts(attempt.city) if d != homes[person]]
        records.append({
            "record_id": f"contact-{_made_up(rng)}", "kind": "close_contact", "person": person,
            "area": rng.choice(districts),
            "occurred_at": _at(world, attempt.day, rng.uniform(9, 18)).isoformat(),
            "case_ref": case_ref,
        })  # fmt: skip
    batch = {
        "source": source.id,
        "batch_id": f"d{attempt.day:03d}-{_made_up(rng)}",
        "records": records,
    }
    _add(world, attempt, {"type": "evidence", "at": _at(world, attempt.day, 22.5).isoformat(),
                          "batch": sign_batch(batch, source.key.sign)})  # fmt: skip
    return [f"{source.id}/{r['record_id']}" for r in records]


def _order_all(
    world: World, attempt: Attempt, people: list[str], evidence: list[list[str]], day: int,
    kind: str = "close_contact_quarantine", basis: str = "idl-art-41-quarantine",
) -> None:  # fmt: skip
    for number, (person, cited) in enumerate(zip(people, evidence, strict=True)):
        at = _at(world, day, 10) + timedelta(minutes=2 * number)
        order = add_order(world, attempt.city, person, cited, at, kind=kind, basis=basis)
        attempt.actions.append(order["id"])


def _fabricated_contacts(world: World, rng: random.Random, attempt: Attempt) -> None:
    everyone = [r.key for r in world.residents]
    depositors = rng.sample(everyone, min(len(everyone), rng.randint(12, 40)))
    shared = f"case-{_made_up(rng)}" if rng.random() < 0.5 else None  # one case for all?
    cases = [shared or f"case-{_made_up(rng)}" for _ in depositors]
    refs = _fabricate(world, rng, attempt, list(zip(depositors, cases, strict=True)))
    _order_all(world, attempt, depositors, [[ref] for ref in refs], attempt.day + 1)


def _list_order(world: World, rng: random.Random, attempt: Attempt) -> None:
    everyone = [r.key for r in world.residents]
    people = rng.sample(everyone, min(len(everyone), rng.randint(10, 30)))
    _order_all(world, attempt, people, [[] for _ in people], attempt.day)


def _wrong_basis(world: World, rng: random.Random, attempt: Attempt) -> None:
    """Petitioners who scanned in at one venue, ordered into inbound-traveller quarantine."""
    visits = _proven_visits(world, attempt.city, attempt.day)[: rng.randint(5, 15)]
    _order_all(world, attempt, [v[0] for v in visits], [[v[1]] for v in visits], attempt.day,
               kind="inbound_quarantine")  # fmt: skip


def _relative_evidence(world: World, rng: random.Random, attempt: Attempt) -> None:
    """A child ordered to monitoring on the visit their parent made."""
    visits = _proven_visits(world, attempt.city, attempt.day)
    by_key = {r.key: r for r in world.residents}
    for person, ref in visits:
        relatives = [r.key for r in world.residents if r.household == by_key[person].household
                     and r.key != person]  # fmt: skip
        if relatives:
            _order_all(world, attempt, [relatives[0]], [[ref]], attempt.day,
                       kind="home_health_monitoring", basis="ephr-art-44-monitoring")  # fmt: skip
            return


def _proven_visits(world: World, city: str, day: int) -> list[tuple[str, str]]:
    """(person, evidence ref) of proven visits in the city over the three days before ``day``."""
    found: dict[str, str] = {}
    for (visit_day, venue_id), visits in sorted(world.visits.items()):
        venue = next(v for v in world.venues if v.id == venue_id)
        if day - 3 <= visit_day < day and geography.city_of(venue.area) == city:
            for visit in visits:
                if visit.proven:
                    found.setdefault(visit.person, visit.ref)
    return list(found.items())


def _forwarded_code(world: World, rng: random.Random, attempt: Attempt) -> None:
    venue = rng.choice([v for v in world.venues if geography.city_of(v.area) == attempt.city])
    elsewhere = [r.key for r in world.residents if geography.city_of(r.home) != attempt.city]
    code_at = _at(world, attempt.day, 9.5)
    for person in rng.sample(elsewhere, min(len(elsewhere), rng.randint(40, 150))):
        _add(world, attempt, {
            "type": "scan", "at": _at(world, attempt.day, rng.uniform(10, 21)).isoformat(),
            "person": person, "venue": venue.id, "code_at": code_at.isoformat(),
        })  # fmt: skip


def _station_designation(world: World, rng: random.Random, attempt: Attempt) -> None:
    """A station (or, without one, any venue) no positive person visited in the fortnight
    before (the detector looks at tests of the week before, and visits five days before them)."""
    positives = {world.residents[n].key for n, sampled in world.outbreak.positives
                 if sampled <= _at(world, attempt.day, 12)}  # fmt: skip
    visited_by_cases = {venue for (day, venue), visits in world.visits.items()
                        if attempt.day - 14 <= day <= attempt.day
                        and any(v.person in positives for v in visits)}  # fmt: skip
    candidates = [v for v in world.venues if geography.city_of(v.area) == attempt.city
                  and v.id not in visited_by_cases]  # fmt: skip
    stations = [v for v in candidates if v.en.split()[1] == "Station"] or candidates
    if not stations:  # a tiny city where cases went everywhere: no attempt to make
        return
    venue = rng.choice(stations)
    start = world.day_start(attempt.day)
    _add(world, attempt, {
        "type": "designation", "at": _at(world, attempt.day, 12).isoformat(),
        "by": f"{attempt.city}-official", "cosign_by": f"{attempt.city}-supervisor-1",
        "request": {
            "id": f"des-{_made_up(rng)}", "area": venue.area, "level": "high",
            "valid_from": (start - timedelta(days=1)).isoformat(),
            "valid_to": (start + timedelta(days=6)).isoformat(),
            "case_count": rng.randint(3, 8), "basis": "cases linked to the venue",
            "venue_id": venue.id,
        },
    })  # fmt: skip


def _household_contacts(world: World, rng: random.Random, attempt: Attempt) -> None:
    households: dict[int, list[str]] = {}
    for resident in world.residents:
        if resident.household is not None:
            households.setdefault(resident.household, []).append(resident.key)
    shared = [m for m in households.values() if len(m) >= 2]
    targets = rng.sample(shared, min(len(shared), rng.randint(2, 4)))
    people = []
    for members in targets:  # one made-up case per household
        case = f"case-{_made_up(rng)}"
        people += [(person, case) for person in members]
    refs = _fabricate(world, rng, attempt, people)
    _order_all(world, attempt, [p for p, _ in people], [[ref] for ref in refs], attempt.day + 1)


def _order_burst(world: World, rng: random.Random, attempt: Attempt) -> None:
    visits = _proven_visits(world, attempt.city, attempt.day)
    chosen = rng.sample(visits, min(len(visits), rng.randint(25, 60)))
    _order_all(world, attempt, [p for p, _ in chosen], [[ref] for _, ref in chosen], attempt.day,
               kind="home_health_monitoring", basis="ephr-art-44-monitoring")  # fmt: skip


def _operator_cosign(world: World, rng: random.Random, attempt: Attempt) -> None:
    """The operator issues a token of the city's second supervisor (who co-signs nothing
    otherwise) and with it co-signs the official's proposal that the city's tracing source may
    sign test results too: one person meets the two-person rule, and a compromised tracing
    source could make anyone red by a positive test (A1, A8). Nothing else changes: its key
    stays, and so does every honest batch."""
    source = next(s for s in geography.sources(world.seed) if s.id == f"cdc-{attempt.city}")
    at = _at(world, attempt.day, rng.uniform(19, 22))
    token = _add(world, attempt, {
        "type": "staff_token", "at": at.isoformat(), "badge": f"{attempt.city}-supervisor-2",
        "minutes": 15,
    })  # fmt: skip
    token["ref"] = token["id"]
    _add(world, attempt, {
        "type": "key_change", "at": (at + timedelta(minutes=2)).isoformat(),
        "by": f"{attempt.city}-official", "source": source.id,
        "public_key": source.public_key_b64(), "kinds": [*source.kinds, "test_result"],
        "cosign_by": f"{attempt.city}-supervisor-2", "cosign_token": token["ref"],
    })  # fmt: skip


def _password_reset(world: World, rng: random.Random, attempt: Attempt) -> None:
    """The operator re-registers the city's second supervisor with a password they know (a
    plain registration to anyone reading the log before `staff_registry`), and signed in as
    them co-signs the official's proposal that the city's vaccination clinics may sign test
    results too: one person meets the two-person rule, and no token of theirs is in the log."""
    source = next(s for s in geography.sources(world.seed) if s.id == f"clinic-{attempt.city}")
    at = _at(world, attempt.day, rng.uniform(19, 22))
    member = next(m for m in geography.staff() if m["id"] == f"{attempt.city}-supervisor-2")
    _add(world, attempt, {
        "type": "staff", "at": at.isoformat(),
        "members": [{**member, "password": f"reset-{_made_up(rng)}"}],
    })  # fmt: skip
    _add(world, attempt, {
        "type": "key_change", "at": (at + timedelta(minutes=5)).isoformat(),
        "by": f"{attempt.city}-official", "source": source.id,
        "public_key": source.public_key_b64(), "kinds": [*source.kinds, "test_result"],
        "cosign_by": member["id"],
    })  # fmt: skip


def _guardian_of_many(world: World, rng: random.Random, attempt: Attempt) -> None:
    """The operator makes one resident of the city (a corrupt official's contact) guardian of
    8-14 residents of other households, one a minute in the evening; the guardian reads each
    one's code, and each guardianship is ended 10-40 minutes after it was recorded: every read
    is recorded, but as a guardian's, and by morning no guardianship is left to see."""
    in_city = [r for r in world.residents if geography.city_of(r.home) == attempt.city]
    if not in_city:
        return
    guardian = rng.choice(in_city)
    others = [
        r.key
        for r in world.residents
        if r.key != guardian.key
        and (guardian.household is None or r.household != guardian.household)
    ]
    start = _at(world, attempt.day, rng.uniform(19, 21))
    for number, dependant in enumerate(rng.sample(others, min(len(others), rng.randint(8, 14)))):
        at = start + timedelta(minutes=number)
        pair = {"guardian": guardian.key, "dependant": dependant}
        _add(world, attempt, {"type": "guardian", "at": at.isoformat(), **pair})
        read = at + timedelta(seconds=rng.uniform(10, 50))
        _add(world, attempt, {"type": "guardian_read", "at": read.isoformat(), **pair})
        end = at + timedelta(minutes=rng.uniform(10, 40))
        _add(world, attempt, {"type": "guardian", "at": end.isoformat(), "end": True, **pair})


def _appeal_lapse(world: World, rng: random.Random, attempt: Attempt) -> None:
    """From today the busiest authority answers none of its next 8-12 appeals: they lapse."""
    attempt.city = max(CITIES, key=lambda city: world.appeals_filed[city])
    world.silenced[attempt.city] = (attempt.actions, rng.randint(LAPSED, LAPSED + 4))


_MAKERS = {
    "fabricated_contacts": _fabricated_contacts,
    "list_order": _list_order,
    "forwarded_code": _forwarded_code,
    "wrong_basis": _wrong_basis,
    "station_designation": _station_designation,
    "household_contacts": _household_contacts,
    "relative_evidence": _relative_evidence,
    "order_burst": _order_burst,
    "appeal_lapse": _appeal_lapse,
    "operator_cosign": _operator_cosign,
    "password_reset": _password_reset,
    "guardian_of_many": _guardian_of_many,
}
