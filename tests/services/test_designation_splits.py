"""The two-person rule cannot be dodged by cutting a designation into slices, and a
co-signature puts in force only what could be designated at that moment (docs/api.md, "Risk
designations"): an authority's designations in force without a co-signature within the bulk
window are counted together, as its orders are; one left pending past its end or past the
back-dating bound can no longer be co-signed, and leaves the supervisors' queue."""

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
SUPERVISOR = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))


def request(id: str, start: datetime, end: datetime | None) -> DesignationRequest:
    return DesignationRequest(id=id, area=ERQI, level=RiskLevel.HIGH, valid_from=start, valid_to=end,
                              authority_id="zz-health", case_count=4, basis="4 cases")  # fmt: skip


def pending_ids(town: Town) -> list[str]:
    now = town.clock.now()
    return sorted(d.id for d in town.services.designations.pending("zz-health", now=now))


def test_back_dated_one_day_slices_are_counted_together(town: Town) -> None:
    """Reviewer: 60 people visited Erqi over 12 days; twelve one-day back-dated designations
    each reached 5 and went into force at once: 60 of 60 red, no co-signature."""
    town.register_staff()
    now = town.clock.now()
    start = now - days(12)
    visitors = [town.person(f"v{n}") for n in range(60)]
    for n, person in enumerate(visitors):
        town.visit(person, start + days(n // 5) + timedelta(hours=1))
    whole = town.services.designations.designate_as(
        OFFICIAL, request("d-whole", start, now), now=now
    )
    assert whole.pending
    made = [
        town.services.designations.designate_as(
            OFFICIAL, request(f"d-{k:02}", start + days(k), start + days(k + 1)), now=now
        )
        for k in range(12)
    ]
    # 5, 10, 15, 20 people: within the threshold (20); the fifth slice would make it 25.
    assert [d.pending for d in made] == [False] * 4 + [True] * 8
    red = [p for p in visitors if town.status(p)[0] == "red"]
    assert len(red) == 20
    # The rest wait for a supervisor, as the whole one does.
    assert sorted(pending_ids(town)) == sorted(["d-whole", *(f"d-{k:02}" for k in range(4, 12))])


def test_consecutive_forward_slices_are_counted_together(town: Town) -> None:
    """Twelve two-hour designations, each made as the one before ends: alone each reaches the
    5 people of the two hours before it; together, within the 24-hour window, they reach
    everyone who visited while the earlier ones were in force."""
    town.register_staff()
    made = []
    for k in range(12):
        now = town.clock.now()
        for n in range(5):  # the people of the two hours just gone
            town.visit(town.person(f"v{k}-{n}"), now - timedelta(hours=1))
        made.append(town.services.designations.designate_as(
            OFFICIAL, request(f"d-{k:02}", now, now + timedelta(hours=2)), now=now
        ))  # fmt: skip
        town.clock.advance(hours=2)
    # Slice k reaches the 5k people of the slices before it (5 for the first): 20 at the fifth.
    assert [d.pending for d in made] == [False] * 5 + [True] * 7


def test_forward_slices_made_at_once_wait_from_the_second(town: Town) -> None:
    """Slices after the first start in the future, whose reach no one can know yet."""
    town.register_staff()
    now = town.clock.now()
    made = [
        town.services.designations.designate_as(
            OFFICIAL, request(f"d-{k:02}", now + days(k), now + days(k + 1)), now=now
        )
        for k in range(3)
    ]
    assert [d.pending for d in made] == [False, True, True]


def test_a_slice_after_the_window_counts_alone(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    for n in range(15):
        town.visit(town.person(f"a{n}"), now - timedelta(hours=2))
    first = town.services.designations.designate_as(
        OFFICIAL, request("d-first", now - days(1), now), now=now
    )
    assert not first.pending
    town.clock.advance(hours=24, seconds=1)
    later = town.clock.now()
    for n in range(15):
        town.visit(town.person(f"b{n}"), later - timedelta(hours=2))
    second = town.services.designations.designate_as(
        OFFICIAL, request("d-second", later - timedelta(hours=6), later), now=later
    )
    assert not second.pending


def test_a_designation_left_pending_past_the_bound_cannot_be_co_signed(town: Town) -> None:
    """Reviewer: left pending 30 days, then co-signed, it went into force starting 44 days
    back against a 14-day bound."""
    town.register_staff()
    now = town.clock.now()
    town.services.designations.designate_as(
        OFFICIAL, request("d-old", now - days(14), None), now=now
    )
    # Starts in 20 days: 30 days on, it starts 10 days back, within the bound.
    town.services.designations.designate_as(
        OFFICIAL, request("d-later", now + days(20), None), now=now
    )
    assert pending_ids(town) == ["d-later", "d-old"]
    town.clock.advance(days=30)
    later = town.clock.now()
    assert pending_ids(town) == ["d-later"]
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        town.services.designations.cosign(SUPERVISOR, "d-old", now=later)
    assert refused.value.code == "designation.backdated"
    assert counts(town.services.db) == before
    assert town.services.designations.cosign(SUPERVISOR, "d-later", now=later).pending is False
    assert [d.id for d in town.services.designations.all()] == ["d-later"]


def test_a_designation_whose_period_is_over_may_still_be_co_signed(town: Town) -> None:
    """Its visitors are red for the rules' look-back, as after a designation made late."""
    town.register_staff()
    now = town.clock.now()
    visitors = [town.person(f"v{n}") for n in range(25)]
    for person in visitors:
        town.visit(person, now - timedelta(hours=3))
    made = town.services.designations.designate_as(
        OFFICIAL, request("d-bulk", now - days(1), now + days(2)), now=now
    )
    assert made.pending and pending_ids(town) == ["d-bulk"]
    town.clock.advance(days=2, hours=1)
    assert pending_ids(town) == ["d-bulk"]
    cosigned = town.services.designations.cosign(SUPERVISOR, "d-bulk", now=town.clock.now())
    assert not cosigned.pending and cosigned.status_changes == len(visitors)


def test_a_slice_withdrawn_as_made_in_error_still_counts_as_an_order_issued_in_error_does(
    town: Town,
) -> None:
    """Reviewer: designate 12 people red alone, withdraw it "as made in error", designate 12
    others alone, and so on: 24 people made red within the window by one official, each slice
    alone, where 20 needs a supervisor. An order issued in error and ended still counts
    towards its authority's bulk threshold (`store.orders.people_touched`); a designation
    reached whoever visited while it was in force just the same."""
    town.register_staff()
    now = town.clock.now()
    for n in range(12):
        town.visit(town.person(f"a{n}"), now - days(1.8))
        town.visit(town.person(f"b{n}"), now - days(1.2))
    first = town.services.designations.designate_as(
        OFFICIAL, request("d-one", now - days(2), now - days(1.5)), now=now
    )
    assert not first.pending
    assert town.status(town.person("a0"))[0] == "red"
    town.services.designations.end(
        OFFICIAL, "d-one", reason="issued_in_error", ends_at=None, now=now
    )
    assert town.status(town.person("a0"))[0] == "green"
    second = town.services.designations.designate_as(
        OFFICIAL, request("d-two", now - days(1.5), now - days(1)), now=now
    )
    assert second.pending  # 12 and 12 more: over the threshold together
    assert town.status(town.person("b0"))[0] == "green"


def test_public_statistics_count_only_designations_that_are_public(town: Town) -> None:
    """The page says each designation counted is public on the designations page, so their
    counts are shown in full; a pending one is not public (another authority asking about it
    is told it does not exist), nor one withdrawn while pending, which never will be."""
    town.register_staff()
    now = town.clock.now()
    for n in range(25):
        town.visit(town.person(f"v{n}"), now - timedelta(hours=3))
    for id in ("d-waits", "d-withdrawn", "d-cosigned"):
        made = town.services.designations.designate_as(
            OFFICIAL, request(id, now - days(1), now + days(2)), now=now
        )
        assert made.pending
    town.services.designations.end(
        OFFICIAL, "d-withdrawn", reason="no_longer_needed", ends_at=None, now=now
    )
    assert town.services.public_stats.compute(now).acts.designations is None
    town.services.designations.cosign(SUPERVISOR, "d-cosigned", now=now)
    public = [d.id for d in town.services.designations.all()]
    table = town.services.public_stats.compute(now).acts.designations
    assert public == ["d-cosigned"]
    assert table is not None and table.cell("zz-health", "high") == 1
