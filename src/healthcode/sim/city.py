"""Build the demo city: register it, then replay its days through the service layer.

Each simulated day's evidence is signed by the source that would have produced it and
submitted at the end of that day, officials order and answer appeals as they would, and the
simulator's abuse attempts (``sim/abuse.py``) are made on their days, so the status history,
the log and oversight's findings look as they would in production.
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
from healthcode.domain.person_tokens import LOGIN_LINK
from healthcode.sim import geography
from healthcode.sim.abuse import plan
from healthcode.sim.actions import Replayer
from healthcode.sim.world import World, register, simulate
from healthcode.store import tables as t


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
    world = register(services, people=people, seed=seed, days=days, now=now)
    _, planner = plan(world, rng)
    replayer = Replayer(services)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating days", total=days)

        def each_day(world: World, day: int) -> None:
            planner(world, day)
            progress.advance(task)

        simulate(world, rng, replayer.replay, each_day)
    services.ticker.tick(now=now)
    services.oversight.run(now)  # the auditor's page opens on what the detectors found


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
        # Issued as the operator's and logged, as `healthcode admin token` does: the one running
        # the demo is the operator, and the person's page lists the link.
        [token] = services.person_tokens.issue(key, [LOGIN_LINK], now=now, ttl=timedelta(days=7))
        summary.login_links[colour] = f"{base}/login?token={token}"
    summary.staff_links = _staff_links(services, base, now)
    return summary


def _staff_links(services: Services, base: str, now: datetime) -> dict[str, str]:
    """Sign-in links for the demo's staff of Zhengzhou, oversight's auditor and one of
    Zhengzhou's venues' devices.

    These staff have no passwords (each city's second supervisor has one no one keeps,
    `sim/world.py`): whoever runs it is the operator, handing out their
    tokens, so each link is issued as the operator's (`Staff.issue_token`; the venue's,
    `VenueTokens.issue`, listed on the venue's page) and logged as one, like any other. An unlogged way kept for the demo would be the very hole that closes.
    Issuing them opens no case: ``operator_tokens`` flags a token only once it is used to act
    (any logged act: an order, a co-signature, a read of a record, a case step), which in the
    demo is the one running it doing what that detector is there to show."""
    links: dict[str, str] = {}
    for role, badge in (("official", "410100-official"), ("supervisor", "410100-supervisor-1"),
                        ("hotline", "410100-hotline"), ("auditor", "oversight-auditor")):  # fmt: skip
        member = services.staff.find(badge)
        if member is not None and member.active:
            token = services.staff.issue_token(badge, now=now, ttl=timedelta(hours=12))
            links[role] = f"{base}/staff/login?token={token}"
    with services.db.read() as conn:
        venue = conn.scalar(
            select(t.venues.c.id).where(t.venues.c.area_code.startswith("4101")).limit(1)
        )
    if venue is not None:
        token = services.venue_tokens.issue(venue, now=now, ttl=timedelta(days=7))
        links[f"venue device ({venue})"] = f"{base}/venue/login?token={token}"
    return links
