"""What the rules read of a designation's ends (docs/api.md, "Risk designations"): a period cut
at or after the instant it is recorded changes no one's status then (every visit known lies
before the new end); a withdrawal as made in error changes nothing before it is recorded and,
from then on, is as if the designation had never been."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.domain.bulk_inputs import EDITION_1, STEP, T0, World, instants, worlds

from healthcode.domain.designations import (
    VOIDING,
    DesignationEnd,
    RiskDesignation,
    RiskLevel,
    end_time,
    in_effect,
)
from healthcode.domain.rulebook import Colour
from healthcode.errors import InputRejected

DAY = timedelta(days=1)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def statuses(world: World) -> list[tuple[Colour, str, datetime | None]]:
    return [world.decided(person) for person in world.persons]


def with_end(world: World, index: int, end: DesignationEnd) -> World:
    designations = list(world.designations)
    chosen = designations[index]
    designations[index] = replace(chosen, ends=(*chosen.ends, end))
    return replace(world, designations=designations)


@EXAMPLES
@given(worlds(st.just(EDITION_1)), st.data())
def test_a_cut_from_now_on_changes_no_status_now(world: World, data: st.DataObject) -> None:
    if not world.designations:
        return
    index = data.draw(st.integers(0, len(world.designations) - 1))
    ahead = data.draw(st.integers(0, 40)) * STEP
    reason = data.draw(st.sampled_from(("no_longer_needed", "shortened")))
    cut = with_end(world, index, DesignationEnd(world.at + ahead, world.at, reason))
    assert statuses(cut) == statuses(world)


@EXAMPLES
@given(worlds(st.just(EDITION_1)), st.data())
def test_a_withdrawal_as_made_in_error_counts_from_when_it_is_recorded(
    world: World, data: st.DataObject
) -> None:
    if not world.designations:
        return
    index = data.draw(st.integers(0, len(world.designations) - 1))
    recorded = data.draw(instants(high=130))
    voided = with_end(world, index, DesignationEnd(recorded, recorded, VOIDING))
    if world.at < recorded:
        assert statuses(voided) == statuses(world)  # history is not rewritten
    else:
        others = [d for n, d in enumerate(world.designations) if n != index]
        assert statuses(voided) == statuses(replace(world, designations=others))


def designation(**changes: object) -> RiskDesignation:
    made = RiskDesignation(id="d", area="410103", level=RiskLevel.HIGH, valid_from=T0,
                           valid_to=T0 + 6 * DAY, authority_id="zz", case_count=3, basis="3",
                           recorded_at=T0)  # fmt: skip
    return replace(made, **changes)


def test_the_end_known_at_an_instant_is_the_earliest_recorded_by_then() -> None:
    d = designation(ends=(
        DesignationEnd(T0 + 4 * DAY, T0 + DAY, "shortened"),
        DesignationEnd(T0 + 2 * DAY, T0 + 1.5 * DAY, "no_longer_needed"),
        DesignationEnd(T0 + 2 * DAY, T0 + 3 * DAY, VOIDING),
    ))  # fmt: skip
    assert d.as_known_at(T0 + 0.5 * DAY) == d
    assert [x.valid_to for x in in_effect([d], T0 + DAY)] == [T0 + 4 * DAY]
    assert [x.valid_to for x in in_effect([d], T0 + 1.5 * DAY)] == [T0 + 2 * DAY]
    assert in_effect([d], T0 + 3 * DAY) == []
    assert [d.phase(at) for at in (T0 + 1.5 * DAY, T0 + 2 * DAY, T0 + 3 * DAY)] == [
        "in_force", "ended", "ended",
    ]  # fmt: skip
    assert d.last_end(T0 + 2 * DAY) == d.ends[1]


def test_a_designation_cut_before_its_start_is_ended_not_scheduled() -> None:
    d = designation(valid_from=T0 + 2 * DAY, ends=(DesignationEnd(T0 + DAY, T0, "shortened"),))
    assert d.phase(T0) == "ended"


@pytest.mark.parametrize(
    ("pending", "reason", "ends_at", "now", "expected"),
    [
        (False, "shortened", T0 + 2 * DAY, T0 + DAY, T0 + 2 * DAY),
        (False, "no_longer_needed", None, T0 + DAY, T0 + DAY),
        (False, "shortened", T0 + DAY - timedelta(minutes=4), T0 + DAY, T0 + DAY),
        (False, VOIDING, None, T0 + DAY, T0 + DAY),
        (False, VOIDING, None, T0 + 9 * DAY, T0 + 6 * DAY),  # over: its end stays
        (True, "shortened", None, T0 + 9 * DAY, T0 + 9 * DAY),  # pending: withdrawn now
    ],
)
def test_when_an_end_cuts(
    pending: bool, reason: str, ends_at: datetime | None, now: datetime, expected: datetime
) -> None:
    found = end_time(designation(), pending=pending, reason=reason, ends_at=ends_at, now=now)
    assert found == expected


@pytest.mark.parametrize(
    ("pending", "reason", "ends_at", "now", "code"),
    [
        (False, "shortened", T0 + 6 * DAY, T0 + DAY, "designation.invalid_end"),
        (False, "shortened", T0 + DAY - timedelta(minutes=6), T0 + DAY, "designation.invalid_end"),
        (False, VOIDING, T0 + 2 * DAY, T0 + DAY, "designation.invalid_end"),
        (True, "shortened", T0 + 2 * DAY, T0 + DAY, "designation.invalid_end"),
        (False, "shortened", None, T0 + 6 * DAY, "designation.not_in_force"),
    ],
)
def test_which_ends_are_refused(
    pending: bool, reason: str, ends_at: datetime | None, now: datetime, code: str
) -> None:
    with pytest.raises(InputRejected) as refused:
        end_time(designation(), pending=pending, reason=reason, ends_at=ends_at, now=now)
    assert refused.value.code == code
    voided = designation(ends=(DesignationEnd(T0, T0, VOIDING),))
    with pytest.raises(InputRejected) as again:
        end_time(voided, pending=False, reason=VOIDING, ends_at=None, now=now)
    assert again.value.code == "designation.not_in_force"
