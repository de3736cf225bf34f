"""A designation's end (docs/api.md, "Risk designations"): cut short, a visit during the period
that was in force still counts for the rules' look-back; withdrawn as made in error, it counts
for no one from then on, and the people it alone kept red turn green now, their history as it
was; a pending one is withdrawn and leaves the co-sign queue."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from healthcode.domain.designations import RiskLevel
from healthcode.errors import HealthcodeError
from healthcode.services.cohort import count_cells
from healthcode.services.designations import DesignationRequest
from healthcode.services.orders import Actor
from healthcode.store import tables as t
from tests.counting import counts
from tests.log_rows import stored
from tests.town import ERQI, ZHENGZHOU, ZHONGYUAN, Town, days

OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))
SUPERVISOR = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))
GREEN = ("green", "no-risk")
ELSEWHERE = Actor("sh-off-1", "official", "sh-health", frozenset({"310100"}))


def end(
    town: Town, designation_id: str, reason: str, ends_at: datetime | None = None,
    actor: Actor = OFFICIAL,
) -> tuple[str, int]:  # fmt: skip
    """The designation's status after the end, and the status changes it caused."""
    now = town.clock.now()
    ended = town.services.designations.end(
        actor, designation_id, reason=reason, ends_at=ends_at, now=now
    )
    state = "withdrawn" if ended.withdrawn else ended.designation.phase(now)
    return state, ended.status_changes


def refused(town: Town, code: str, designation_id: str, reason: str, **kw: object) -> None:
    """Refused with ``code``, and nothing written: no row, no entry, the designation as it was."""
    before = counts(town.services.db), designation_row(town, designation_id)
    with pytest.raises(HealthcodeError) as caught:
        end(town, designation_id, reason, **kw)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert (counts(town.services.db), designation_row(town, designation_id)) == before


def designation_row(town: Town, designation_id: str) -> object:
    with town.services.db.read() as conn:
        return conn.execute(
            select(t.designations).where(t.designations.c.id == designation_id)
        ).first()


def red_by_a_visit(town: Town, name: str) -> tuple[str, str]:
    """A person who visited Erqi's station yesterday, under a high-risk designation of Erqi
    from two days ago to five days ahead: red for 14 days after the visit."""
    now = town.clock.now()
    person = town.person(name)
    town.visit(person, now - days(1))
    town.designate(ERQI, RiskLevel.HIGH, now - days(2), now + days(5), id=f"d-{name}")
    assert town.status(person) == ("red", "high-risk-visit")
    return person, f"d-{name}"


def test_made_in_error_it_counts_for_no_one_from_now_and_history_stays(town: Town) -> None:
    person, designation = red_by_a_visit(town, "wang")
    town.clock.advance(hours=1)
    before = town.history(person)
    assert end(town, designation, "issued_in_error") == ("ended", 1)
    assert town.status(person) == GREEN
    after = town.history(person)
    assert after[: len(before)] == before  # recorded history is never rewritten
    assert after[len(before) :] == [("green", "no-risk", town.clock.now(), "designation")]
    # As known an instant before the end, the designation still counted.
    with town.services.db.read() as conn:
        earlier = town.clock.now() - days(0.01)
        assert str(town.services.derivation.status_at(conn, person, earlier).colour) == "red"
    # A later visit during what was its period counts neither.
    later = town.person("li")
    town.visit(later, town.clock.now())
    assert town.status(later) == GREEN
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_no_longer_needed_cuts_the_period_and_the_look_back_lasts(town: Town) -> None:
    person, designation = red_by_a_visit(town, "zhao")
    town.clock.advance(hours=1)
    assert end(town, designation, "no_longer_needed") == ("ended", 0)
    assert town.status(person) == ("red", "high-risk-visit")
    after = town.person("sun")
    town.clock.advance(hours=1)
    town.visit(after, town.clock.now())
    assert town.status(after) == GREEN  # visited after the end
    town.clock.advance(days=13)  # 14 days after the visit
    assert town.status(person) == GREEN
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_shortened_ahead_it_counts_until_then_and_may_be_shortened_again(town: Town) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(6), id="d-short")
    assert end(town, "d-short", "shortened", now + days(3)) == ("in_force", 0)
    refused(town, "designation.invalid_end", "d-short", "shortened", ends_at=now + days(4))
    assert end(town, "d-short", "shortened", now + days(2)) == ("in_force", 0)
    inside, outside = town.person("in"), town.person("out")
    town.clock.advance(days=1)
    town.visit(inside, town.clock.now())
    town.clock.advance(days=1.5)
    town.visit(outside, town.clock.now())
    town.clock.advance(days=0.5)
    assert town.status(inside) == ("red", "high-risk-visit")
    assert town.status(outside) == GREEN
    # Over now: it cannot be ended again for its period, but it can still be withdrawn as made
    # in error, which clears those its look-back still holds.
    refused(town, "designation.not_in_force", "d-short", "no_longer_needed")
    assert end(town, "d-short", "issued_in_error") == ("ended", 1)
    assert town.status(inside) == GREEN
    refused(town, "designation.not_in_force", "d-short", "issued_in_error")
    with town.services.db.read() as conn:
        assert len(conn.execute(select(t.designation_earlier_ends)).all()) == 2
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_a_pending_designation_is_withdrawn_and_leaves_the_queue(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    request = DesignationRequest(id="d-open", area=ERQI, level=RiskLevel.HIGH, valid_from=now,
                                 valid_to=None, authority_id="zz-health", case_count=4, basis="4")  # fmt: skip
    assert town.services.designations.designate_as(OFFICIAL, request, now=now).pending
    refused(town, "designation.invalid_end", "d-open", "no_longer_needed", ends_at=now + days(1))
    assert end(town, "d-open", "no_longer_needed") == ("withdrawn", 0)
    assert town.services.designations.pending("zz-health", now=now) == []
    with pytest.raises(HealthcodeError) as caught:
        town.services.designations.cosign(
            Actor("zz-sup-2", "supervisor", "zz-health", frozenset({ZHENGZHOU})), "d-open", now=now
        )
    assert caught.value.code == "designation.not_pending"
    refused(town, "designation.not_in_force", "d-open", "issued_in_error")
    states = {d.designation.id: d.state for d in town.services.designations.of_authority(
        OFFICIAL, now=now)}  # fmt: skip
    assert states == {"d-open": "withdrawn"}
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_bad_ends_are_refused_and_change_nothing(town: Town) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(6), id="d-bad")
    refused(town, "designation.not_found", "d-none", "no_longer_needed")
    refused(town, "request.malformed", "d-bad", "appeal_lapsed")
    refused(town, "designation.invalid_end", "d-bad", "shortened", ends_at=now - days(1))
    refused(town, "designation.invalid_end", "d-bad", "shortened", ends_at=now + days(6))
    refused(town, "designation.invalid_end", "d-bad", "issued_in_error", ends_at=now + days(1))
    with pytest.raises(HealthcodeError) as caught:
        end(town, "d-bad", "no_longer_needed", actor=ELSEWHERE)
    assert caught.value.code == "designation.outside_jurisdiction"
    with pytest.raises(HealthcodeError) as caught:
        end(
            town,
            "d-bad",
            "no_longer_needed",
            actor=Actor("hl", "hotline", "zz-health", frozenset()),
        )
    assert caught.value.code == "auth.forbidden"
    # Within a client's clock of now, a stated end is now.
    assert end(town, "d-bad", "shortened", now - days(0.002), actor=SUPERVISOR) == ("ended", 0)


def test_a_scheduled_designation_cut_before_its_start_never_comes_into_force(town: Town) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now + days(2), now + days(6), id="d-later")
    assert end(town, "d-later", "no_longer_needed", now + days(1)) == ("ended", 0)
    person = town.person("zhou")
    town.clock.advance(days=3)
    town.visit(person, town.clock.now())
    assert town.status(person) == GREEN


def test_the_self_check_rebuilds_every_end_and_finds_one_out_of_order(town: Town) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(6), id="d-log")
    end(town, "d-log", "shortened", now + days(3))
    town.clock.advance(hours=1)
    end(town, "d-log", "shortened", now + days(2))
    town.clock.advance(hours=1)
    end(town, "d-log", "issued_in_error")
    check = town.services.self_check
    assert check.run(now=town.clock.now()).ok
    with town.services.db.read() as conn:
        ends = [json.loads(body) for _, kind, body in stored(conn) if kind == "designation_end"]
    assert [e["data"]["reason"] for e in ends] == ["shortened", "shortened", "issued_in_error"]
    assert set(ends[-1]["data"]) == {
        "id", "authority", "official", "ended_at", "reason", "recorded_at",
    }  # fmt: skip
    assert ends[-1]["data"]["id"] == "d-log" and "zz-off-1" not in json.dumps(ends)
    # An earlier end changed: its entry no longer matches.
    d, earlier = t.designations, t.designation_earlier_ends
    with town.services.db.write() as conn:
        first = conn.execute(select(earlier).order_by(earlier.c.log_index)).first()
        assert first is not None
        conn.execute(
            earlier.update()
            .where(earlier.c.log_index == first.log_index)
            .values(ended_at=now + days(4))
        )
    problems = check.run(now=town.clock.now(), halt=False).problems
    assert any("(designation_end) does not match the record it logs" in p for p in problems)
    with town.services.db.write() as conn:
        conn.execute(
            earlier.update()
            .where(earlier.c.log_index == first.log_index)
            .values(ended_at=now + days(3))
        )
        # The row's end (the withdrawal) swapped with the one before it: each entry still
        # matches its own row, but a cut no longer follows a withdrawal.
        [row] = conn.execute(select(d).where(d.c.id == "d-log")).all()
        last = conn.execute(select(earlier).order_by(earlier.c.log_index.desc())).first()
        assert last is not None
        conn.execute(d.update().where(d.c.id == "d-log").values(
            ended_at=last.ended_at, ended_recorded_at=last.recorded_at, end_reason=last.reason,
            ended_by=last.ended_by, end_log_index=last.log_index,
        ))  # fmt: skip
        conn.execute(earlier.update().where(earlier.c.log_index == last.log_index).values(
            ended_at=row.ended_at, recorded_at=row.ended_recorded_at, reason=row.end_reason,
            ended_by=row.ended_by, log_index=row.end_log_index,
        ))  # fmt: skip
    problems = check.run(now=town.clock.now(), halt=False).problems
    assert problems == [
        "designation d-log: its ends do not follow one another (the row holds the last"
        " recorded, each no later than the one it replaced, none after a withdrawal, and no"
        " co-signature after one)"
    ]


def test_oversight_cohorts_and_public_counts_read_the_ends_known_then(town: Town) -> None:
    """The cohort test's exposures and the public count of designations in force per day are
    SQL of their own: they read a designation as its ends known at their instant leave it."""
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(3), now + days(5), id="d-err")
    town.designate(ZHONGYUAN, RiskLevel.MEDIUM, now - days(3), now + days(5), id="d-cut")
    wrongly, before_cut, after_cut = (town.person(n) for n in ("wrongly", "before", "after"))
    town.visit(wrongly, now - days(1))  # the station, in Erqi
    town.visit(before_cut, now - days(1), venue="market")
    town.clock.advance(days=1.5)
    end(town, "d-err", "issued_in_error")
    end(town, "d-cut", "no_longer_needed")
    town.clock.advance(hours=1)
    town.visit(after_cut, town.clock.now(), venue="market")
    at = town.clock.now()
    with town.services.db.read() as conn:
        cells, _ = count_cells(conn, [wrongly, before_cut, after_cut], since=at - days(30), now=at)
        earlier, _ = count_cells(conn, [wrongly], since=now - days(30), now=now)
    exposures = {exposure for (_, exposure, _), n in cells.items() if n}
    # Wrongly: red until the withdrawal, no exposure now; before the cut: a designated visit.
    assert sorted((exposure, level) for (_, exposure, level), n in cells.items() if n) == [
        ("designated_visit", 1), ("none", 0), ("none", 2),
    ]  # fmt: skip
    assert exposures == {"designated_visit", "none"}
    assert [exposure for (_, exposure, _), n in earlier.items() if n] == ["designated_visit"]
    days_ = town.services.public_stats.compute(at).acts.designation_days
    assert days_["high"][-1] == 0 and days_["medium"][-1] == 0
    assert days_["high"][-2] == 1 and days_["medium"][-2] == 1  # as the day before ended
