"""Build the demo city: register it, then replay its days through the real intake path.

Each simulated day's evidence is signed by the source that would have produced it and
submitted at the end of that day, so the status history looks as it would in production.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from healthcode.bootstrap import Services
from healthcode.domain.batches import sign_batch
from healthcode.services.designations import DesignationRequest
from healthcode.services.rulebooks import default_edition_source
from healthcode.services.tokens import PERSON_AUDIENCE, VENUE_AUDIENCE
from healthcode.sim import geography
from healthcode.sim.identities import demo_identity
from healthcode.sim.outbreak import Outbreak, Resident
from healthcode.store import tables as t

BATCH_SIZE = 1000


@dataclass
class CitySummary:
    people: int
    built: bool
    by_colour: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    by_city: dict[str, Counter[str]] = field(default_factory=dict)
    login_links: dict[str, str] = field(default_factory=dict)  # a person of each colour
    staff_links: dict[str, str] = field(default_factory=dict)  # official, venue device, ...


def build_city(
    services: Services, *, people: int, seed: int, console: Console | None = None, days: int = 30
) -> CitySummary:
    """Build the city unless the database already holds people; then summarise it."""
    console = console or Console(quiet=True)
    now = services.clock.now()
    with services.db.read() as conn:
        existing = conn.scalar(select(func.count()).select_from(t.persons)) or 0
    if not existing:
        _build(services, people=people, seed=seed, console=console, days=days, now=now)
    return summarise(services, built=not existing)


def _build(
    services: Services, *, people: int, seed: int, console: Console, days: int, now: datetime
) -> None:
    rng = random.Random(seed)
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    with services.db.write() as conn:
        if not services.rulebooks.editions(conn):
            services.rulebooks.publish(conn, default_edition_source(), now=start)
    venue_list = geography.venues(rng, max(24, people // 50))
    services.registry.load(geography.registry_config(seed, venue_list), now=start)
    services.staff.register(geography.staff(), now=start)
    keys = {source.id: source for source in geography.sources(seed)}
    homes = [rng.choice(geography.DISTRICTS)[0] for _ in range(people)]
    residents = [
        (f"demo-{seed}-{n:07d}", geography.person_name(rng), homes[n]) for n in range(people)
    ]
    registered = services.identity.register_many(
        residents,
        now=start,
        identities=[demo_identity(identity_id, name) for identity_id, name, _ in residents],
    )
    outbreak = Outbreak(
        rng, [Resident(key, home) for key, home in zip(registered, homes, strict=True)], venue_list
    )
    designation_number = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating days", total=days)
        for day in range(days):
            day_start = start + timedelta(days=day)
            received = min(day_start + timedelta(hours=22), now)
            output = outbreak.day(day, day_start)
            for source_id, records in sorted(output.records.items()):
                kept = [r for r in records if datetime.fromisoformat(r["occurred_at"]) <= received]
                for offset in range(0, len(kept), BATCH_SIZE):
                    batch = {
                        "source": source_id,
                        "batch_id": f"d{day:03d}-{offset // BATCH_SIZE:04d}",
                        "records": kept[offset : offset + BATCH_SIZE],
                    }
                    services.intake.submit(
                        sign_batch(batch, keys[source_id].key.sign), now=received
                    )
            for district, venue_id, level, cases in output.designations:
                designation_number += 1
                valid_from = day_start - timedelta(days=1)
                services.designations.designate(
                    DesignationRequest(
                        id=f"des-{designation_number:04d}",
                        area=district,
                        level=level,
                        valid_from=valid_from,
                        valid_to=valid_from + timedelta(days=7),
                        authority_id=geography.authority_of(district),
                        case_count=cases,
                        basis=f"{cases} cases in 3 days"
                        + (f" at venue {venue_id}" if venue_id else ""),
                        venue_id=venue_id,
                    ),
                    now=received,
                )
            progress.advance(task)
    services.ticker.tick(now=now)


def summarise(services: Services, *, built: bool) -> CitySummary:
    with services.db.read() as conn:
        people = conn.scalar(select(func.count()).select_from(t.persons)) or 0
        rows = conn.execute(
            select(t.persons.c.person_key, t.persons.c.home_area, t.person_status.c.colour, t.person_status.c.rule_id)
            .select_from(t.persons.outerjoin(t.person_status, t.persons.c.person_key == t.person_status.c.person_key))
        ).all()  # fmt: skip
    summary = CitySummary(people=people, built=built)
    # A person of each colour to sign in as, from Zhengzhou if there is one: the staff whose
    # links are printed too are Zhengzhou's, so they can answer that person's appeal.
    examples: dict[str, str] = {}
    elsewhere: dict[str, str] = {}
    for row in rows:
        colour = row.colour or "green"
        rule = row.rule_id or "no-risk"
        summary.by_colour[colour] += 1
        summary.by_rule[rule] += 1
        home_city = geography.city_of(row.home_area)
        summary.by_city.setdefault(home_city, Counter())[colour] += 1
        (examples if home_city == "410100" else elsewhere).setdefault(colour, row.person_key)
    for colour, key in elsewhere.items():
        examples.setdefault(colour, key)
    now = services.clock.now()
    base = f"http://{services.settings.host}:{services.settings.port}"
    for colour, key in sorted(examples.items()):
        token = services.tokens.mint(
            key, role="person", audience=PERSON_AUDIENCE, now=now, ttl=timedelta(days=7)
        )
        summary.login_links[colour] = f"{base}/login?token={token}"
    summary.staff_links = _staff_links(services, base, now)
    return summary


def _staff_links(services: Services, base: str, now: datetime) -> dict[str, str]:
    """Sign-in links for the demo's staff of Zhengzhou and one of its venues' devices (the
    auditor is registered too, but has no pages yet)."""
    links: dict[str, str] = {}
    for role, badge in (("official", "410100-official"), ("supervisor", "410100-supervisor-1"),
                        ("hotline", "410100-hotline")):  # fmt: skip
        member = services.staff.find(badge)
        if member is not None and member.active:
            token = services.staff.token(member, now=now, ttl=timedelta(hours=12))
            links[role] = f"{base}/staff/login?token={token}"
    with services.db.read() as conn:
        venue = conn.scalar(
            select(t.venues.c.id).where(t.venues.c.area_code.startswith("4101")).limit(1)
        )
    if venue is not None:
        token = services.tokens.mint(
            venue, role="venue", audience=VENUE_AUDIENCE, now=now, ttl=timedelta(days=7)
        )
        links[f"venue device ({venue})"] = f"{base}/venue/login?token={token}"
    return links
