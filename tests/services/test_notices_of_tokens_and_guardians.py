"""A person is told of a token the operator issued for them and of a guardianship of theirs
recorded or ended: a notice per event, written in the event's own transaction (none when it is
refused or writes nothing), its subject the entry's log index, never another person's key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Connection, insert

from healthcode.errors import HealthcodeError
from healthcode.services.guardianships import Guardianships
from healthcode.services.notifications import Notice
from healthcode.services.person_tokens import PersonTokens
from healthcode.store import tables as t
from tests.counting import counts
from tests.services.test_notifications import steps
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ERQI, Town, days


class BrokenNotifier:
    """A notifier whose store fails: the event it was handed must fail with it."""

    def notify(self, conn: Connection, notices: Sequence[Notice]) -> None:
        raise RuntimeError("the outbox went away")


def test_each_token_issued_is_one_notice_to_its_person(town: Town) -> None:
    person, other = town.person("令牌通知"), town.person("旁人")
    size = log_size(town)
    town.services.person_tokens.issue(
        person, ["bearer", "login_link"], now=town.clock.now(), ttl=timedelta(hours=2)
    )
    first, second = (str(index) for index, _, _ in entries_after(town, size))
    assert steps(town, person) == [
        ("token", "bearer_issued", first),
        ("token", "login_link_issued", second),
    ]
    assert steps(town, other) == []


@pytest.mark.parametrize(
    ("who", "ttl"), [("unknown", days(1)), ("known", timedelta(0)), ("known", days(8))]
)
def test_a_refused_token_notifies_nobody(town: Town, who: str, ttl: timedelta) -> None:
    known = town.person("拒发")
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError):
        town.services.person_tokens.issue(
            known if who == "known" else "0" * 32, ["bearer"], now=town.clock.now(), ttl=ttl
        )
    assert counts(town.services.db) == before and steps(town, known) == []


def test_a_token_whose_notice_cannot_be_written_is_not_issued(town: Town) -> None:
    person = town.person("无通知")
    s = town.services
    tokens = PersonTokens(s.db, s.tokens, s.secrets, BrokenNotifier())
    before = counts(s.db)
    with pytest.raises(RuntimeError):
        tokens.issue(person, ["login_link"], now=town.clock.now(), ttl=days(1))
    assert counts(s.db) == before  # no row, no entry: the notice is in their transaction


def test_a_guardianship_recorded_and_ended_is_told_to_the_dependant_only(town: Town) -> None:
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    stranger = town.person("陌生人")
    size = log_size(town)
    assert town.services.guardianships.record(parent, child, now=town.clock.now()) is True
    [(start, _, _)] = entries_after(town, size)
    before = counts(town.services.db)
    assert town.services.guardianships.record(parent, child, now=town.clock.now()) is False
    assert counts(town.services.db) == before  # recorded again: nothing written, no notice
    town.clock.advance(days=1)
    size = log_size(town)
    town.services.guardianships.end(parent, child, now=town.clock.now())
    [(end, _, _)] = entries_after(town, size)
    assert steps(town, child) == [
        ("guardianship", "added", str(start)),
        ("guardianship", "ended", str(end)),
    ]
    assert steps(town, parent) == []
    # The page names the guardian from the dependant's own guardianships, and for no one else.
    names = town.services.guardianships.names_by_entry
    assert names(child, [start, end]) == {start: "段父", end: "段父"}
    assert names(stranger, [start, end]) == {} and names(parent, [start, end]) == {}


def test_a_guardianship_whose_notice_cannot_be_written_is_not_recorded(town: Town) -> None:
    parent, child = town.person("段母", home=ERQI), town.person("段小明", home=ERQI)
    s = town.services
    guardianships = Guardianships(s.db, s.secrets, BrokenNotifier())
    before = counts(s.db)
    with pytest.raises(RuntimeError):
        guardianships.record(parent, child, now=town.clock.now())
    assert counts(s.db) == before
    s.guardianships.record(parent, child, now=town.clock.now())
    before = counts(s.db)
    with pytest.raises(RuntimeError):
        guardianships.end(parent, child, now=town.clock.now())
    assert counts(s.db) == before and [g.name for g in s.guardianships.guardians_of(child)] == [
        "段母"
    ]


def test_one_recorded_before_it_was_logged_is_told_when_it_is_logged(town: Town) -> None:
    """Migration 0027 found it unlogged, and no one was told: logging it now tells them."""
    parent, child = town.person("段祖父", home=ERQI), town.person("段小刚", home=ERQI)
    with town.services.db.write() as conn:
        conn.execute(insert(t.guardianships).values(
            person_key=child, guardian_key=parent, since=town.clock.now() - days(100),
            log_index=None, before_logging=True,
        ))  # fmt: skip
    size = log_size(town)
    assert town.services.guardianships.record(parent, child, now=town.clock.now()) is True
    [(index, _, _)] = entries_after(town, size)
    assert steps(town, child) == [("guardianship", "added", str(index))]
    assert town.services.guardianships.names_by_entry(child, [index]) == {index: "段祖父"}
