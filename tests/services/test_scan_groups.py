"""Person scans submitted together are written together (group commit): one transaction and
one commit for the group, each scan still recorded at its own instant, refused on its own with
nothing of it written, and answered only once the group has committed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from healthcode.domain.evidence import Presence
from healthcode.errors import HealthcodeError
from healthcode.services.places import Places, ScanResult
from healthcode.store import tables as t
from tests.counting import counts
from tests.town import Town


@contextmanager
def held(places: Places, first: Future[ScanResult]) -> Iterator[None]:
    """Hold the places' write lock while ``first`` waits for it (its group taken by the scan
    thread): what is submitted meanwhile is written as the next group."""
    with places._lock:
        for _ in range(1000):
            with places._scans._ready:
                if not places._scans._items:
                    break
            threading.Event().wait(0.01)
        yield
        assert not first.done()


def commits(town: Town) -> list[int]:
    seen: list[int] = []
    event.listen(town.services.db.engine, "commit", lambda _conn: seen.append(1))
    return seen


def answer(future: Future[ScanResult]) -> Presence | str:
    error = future.exception(10)
    if error is not None:
        assert isinstance(error, HealthcodeError)
        return error.code
    return future.result().presence


def test_scans_submitted_together_are_one_transaction_each_at_its_own_instant(
    town: Town,
) -> None:
    places = town.services.places
    now = town.clock.now()
    code = places.current_code("market", now).text
    people = [town.person(f"group-{n}") for n in range(5)]
    committed = commits(town)
    first = places.submit(people[0], code, now)
    with held(places, first):
        group = [
            places.submit(person, code, now + timedelta(milliseconds=10 * n))
            for n, person in enumerate(people[1:], start=1)
        ]
        assert not any(future.done() for future in group)
    results = [first.result(10), *(future.result(10) for future in group)]
    assert len(committed) == 2  # the first scan alone, then the four submitted meanwhile
    assert [r.presence for r in results] == [Presence.PROVEN] * 5
    assert [r.at for r in results] == [now + timedelta(milliseconds=10 * n) for n in range(5)]
    with town.services.db.read() as conn:
        stored = dict(
            conn.execute(
                t.evidence.select()
                .with_only_columns(t.evidence.c.record_id, t.evidence.c.occurred_at)
                .where(t.evidence.c.record_id.in_([r.record_id for r in results]))
            ).all()
        )
    assert [stored[r.record_id] for r in results] == [r.at for r in results]
    # All of one second: one batch, in the order of their instants, sealed like any other.
    town.clock.advance(seconds=1)
    assert places.seal_due(town.clock.now()) == 1
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_a_replay_in_a_group_is_refused_alone_and_writes_nothing(town: Town) -> None:
    places = town.services.places
    now = town.clock.now()
    code = places.current_code("station", now).text
    first_person, twice, other = (town.person(f"replay-{n}") for n in range(3))
    before = counts(town.services.db)["evidence"]
    first = places.submit(first_person, code, now)
    with held(places, first):
        group = [places.submit(p, code, now) for p in (twice, twice, other, first_person)]
    assert answer(first) is Presence.PROVEN
    assert [answer(f) for f in group] == [
        Presence.PROVEN, "place.replayed", Presence.PROVEN, "place.replayed",
    ]  # fmt: skip
    assert counts(town.services.db)["evidence"] == before + 3


def test_a_revoked_scan_source_refuses_only_its_own_venues_scans(town: Town) -> None:
    from healthcode.services.orders import Actor

    places = town.services.places
    now = town.clock.now()
    market = places.scan(town.person("before"), places.current_code("market", now).text, now)
    supervisor = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({"410100"}))
    town.services.sources.revoke(supervisor, market.source_id, reason="key_compromised", now=now)
    there, elsewhere = town.person("at-market"), town.person("at-mall")
    blocker = places.submit(town.person("blocker"), places.current_code("mall", now).text, now)
    with held(places, blocker):
        refused = places.submit(there, places.current_code("market", now).text, now)
        kept = places.submit(elsewhere, places.current_code("mall", now).text, now)
    assert answer(blocker) is Presence.PROVEN
    assert answer(refused) == "source.inactive"
    assert answer(kept) is Presence.PROVEN
    with town.services.db.read() as conn:
        mine = conn.execute(t.evidence.select().where(t.evidence.c.person_key == there)).all()
    assert mine == []


def test_a_group_of_refused_scans_changes_nothing(town: Town) -> None:
    places = town.services.places
    now = town.clock.now()
    person = town.person("refused-group")
    code = places.current_code("station", now).text
    places.scan(person, code, now)
    before = counts(town.services.db)
    blocker = places.submit(person, code, now)
    with held(places, blocker):
        group = [places.submit(person, code, now), places.submit(person, "HCV1:???", now)]
    assert answer(blocker) == "place.replayed"
    assert [answer(f) for f in group] == ["place.replayed", "place.malformed"]
    assert counts(town.services.db) == before
    with pytest.raises(HealthcodeError):
        places.scan(person, code, now)
