"""An official's designation: what it may reach decides whether it needs a supervisor's
co-signature, it says whether it is pending, and it cannot start further back than a rule
that reads designations looks (docs/api.md, "Risk designations")."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from healthcode.domain.designations import RiskLevel
from healthcode.errors import HealthcodeError
from healthcode.services.designations import DesignationRequest
from healthcode.services.orders import Actor
from tests.counting import counts
from tests.town import ERQI, ZHENGZHOU, Town, days

OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))


def request(
    id: str, start: datetime, end: datetime | None, level: RiskLevel = RiskLevel.HIGH
) -> DesignationRequest:
    return DesignationRequest(id=id, area=ERQI, level=level, valid_from=start, valid_to=end,
                              authority_id="zz-health", case_count=4, basis="4 cases")  # fmt: skip


def test_a_designation_starting_in_the_future_waits_for_a_co_signature(town: Town) -> None:
    """QA: a designation from 2027 counted nobody (no visit yet) and was in force at once."""
    town.register_staff()
    now = town.clock.now()
    done = town.services.designations.designate_as(
        OFFICIAL, request("d-future", now + days(365), None), now=now
    )
    assert (done.pending, done.status_changes) == (True, 0)
    assert town.services.designations.all() == []
    assert [d.id for d in town.services.designations.pending("zz-health", now=now)] == ["d-future"]


def test_an_open_ended_designation_waits_for_a_co_signature(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    done = town.services.designations.designate_as(
        OFFICIAL, request("d-open", now - days(1), None), now=now
    )
    assert done.pending and town.services.designations.all() == []


def test_the_visitors_of_the_span_before_now_stand_for_those_of_the_span_after(
    town: Town,
) -> None:
    """A designation from now on has touched nobody yet; the people who visited the area over
    an equally long span before now are who it can be expected to reach."""
    town.register_staff()
    now = town.clock.now()
    for n in range(21):
        town.visit(town.person(f"v{n}"), now - days(2))
    ahead = town.services.designations.designate_as(
        OFFICIAL, request("d-ahead", now, now + days(3)), now=now
    )
    assert ahead.pending
    short = town.services.designations.designate_as(
        OFFICIAL, request("d-short", now, now + timedelta(hours=12)), now=now
    )
    assert (short.pending, short.status_changes) == (False, 0)
    assert [d.id for d in town.services.designations.all()] == ["d-short"]


def test_a_bounded_designation_touching_few_is_in_force_at_once(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    visitor = town.person("visitor")
    town.visit(visitor, now - timedelta(hours=3))
    done = town.services.designations.designate_as(
        OFFICIAL, request("d-few", now - days(1), now + days(6)), now=now
    )
    assert (done.pending, done.status_changes) == (False, 1)
    assert town.status(visitor) == ("red", "high-risk-visit")


def test_a_designation_cannot_start_before_the_longest_rule_reading_designations_looks(
    town: Town,
) -> None:
    """Edition 1's longest such rule is high-risk-visit: 14 days after the visit."""
    town.register_staff()
    now = town.clock.now()
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        town.services.designations.designate_as(
            OFFICIAL, request("d-old", now - days(14) - timedelta(seconds=1), now), now=now
        )
    assert refused.value.code == "designation.backdated"
    assert counts(town.services.db) == before
    done = town.services.designations.designate_as(
        OFFICIAL, request("d-14", now - days(14), now + timedelta(hours=1)), now=now
    )
    assert not done.pending
