"""Rulebook editions need a second supervisor and cannot be back-dated; a revoked source's
evidence stops counting from the revocation instant; designations respect jurisdiction and
the two-person rule."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from healthcode.domain.designations import RiskLevel
from healthcode.errors import HealthcodeError
from healthcode.services.designations import DesignationRequest
from healthcode.services.orders import Actor
from healthcode.services.rulebooks import default_edition_source
from tests.town import ERQI, ZHENGZHOU, Town, days

ZZ = frozenset({ZHENGZHOU})


def actor(staff_id: str, role: str) -> Actor:
    return Actor(staff_id, role, "zz-health", ZZ)


def edition_2() -> dict[str, object]:
    source = copy.deepcopy(default_edition_source())
    source["edition"] = 2
    source["parameters"]["high_risk_visit_days"] = 7
    return source


def test_a_rulebook_edition_needs_a_different_supervisor(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    proposals = town.services.proposals
    proposal = proposals.propose(
        actor("zz-sup-1", "supervisor"), edition_2(), effective_from=now + days(1), now=now
    )
    assert proposal.status == "pending"
    with pytest.raises(HealthcodeError) as own:
        proposals.cosign(actor("zz-sup-1", "supervisor"), 2, now=now)
    assert own.value.code == "rulebook.cosign_self"
    with pytest.raises(HealthcodeError) as official:
        proposals.cosign(actor("zz-off-1", "official"), 2, now=now)
    assert official.value.code == "auth.forbidden"
    with town.services.db.read() as conn:
        assert [e.rulebook.version for e in town.services.rulebooks.editions(conn)] == [1]
    edition = proposals.cosign(actor("zz-sup-2", "supervisor"), 2, now=now + timedelta(hours=1))
    assert edition.effective_from == now + days(1)
    with town.services.db.read() as conn:
        assert town.services.rulebooks.in_force(conn, now + timedelta(hours=2)).version == 1
        assert town.services.rulebooks.in_force(conn, now + days(1)).version == 2


def test_a_back_dated_edition_is_refused(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    with pytest.raises(HealthcodeError) as backdated:
        town.services.proposals.propose(
            actor("zz-off-1", "official"),
            edition_2(),
            effective_from=now - timedelta(minutes=1),
            now=now,
        )
    assert backdated.value.code == "rulebook.backdated"
    town.services.proposals.propose(
        actor("zz-off-1", "official"), edition_2(), effective_from=now + timedelta(hours=1), now=now
    )
    with pytest.raises(HealthcodeError) as stale:  # co-signed only after its start has passed
        town.services.proposals.cosign(
            actor("zz-sup-1", "supervisor"), 2, now=now + timedelta(hours=2)
        )
    assert stale.value.code == "rulebook.backdated"
    lower = default_edition_source()
    with pytest.raises(HealthcodeError) as same_version:
        town.services.proposals.propose(
            actor("zz-off-1", "official"), lower, effective_from=None, now=now
        )
    assert same_version.value.code == "rulebook.version_not_increasing"


def test_a_revoked_sources_evidence_stops_counting_from_the_revocation(town: Town) -> None:
    town.register_staff()
    victim = town.person("victim")
    t0 = town.clock.now()
    town.test(victim, t0 - timedelta(hours=1), "positive")  # fabricated by a compromised lab
    assert town.status(victim) == ("red", "confirmed-case")
    town.clock.advance(days=2)
    t1 = town.clock.now()
    with pytest.raises(HealthcodeError):
        town.services.sources.revoke(
            actor("zz-off-1", "official"), "lab-1", reason="fabricated_evidence", now=t1
        )
    changes = town.services.sources.revoke(
        actor("zz-sup-1", "supervisor"), "lab-1", reason="fabricated_evidence", now=t1
    )
    assert changes == 1
    assert town.status(victim) == ("green", "no-risk")
    assert town.history(victim) == [
        ("red", "confirmed-case", t0, "evidence"),
        ("green", "no-risk", t1, "evidence"),
    ]
    with town.services.db.read() as conn:  # the status at an earlier instant is as it was
        assert (
            str(town.services.derivation.status_at(conn, victim, t1 - timedelta(seconds=1)).colour)
            == "red"
        )
    with pytest.raises(HealthcodeError) as refused:
        town.test(victim, t1, "positive")
    assert refused.value.code == "source.inactive"
    assert town.services.self_check.run(now=t1).ok


def test_designations_by_officials_keep_to_jurisdiction_and_two_persons(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    visitors = [town.person(f"v{n}") for n in range(25)]
    for person in visitors:
        town.visit(person, now - timedelta(hours=3))
    request = DesignationRequest(id="d-bulk", area=ERQI, level=RiskLevel.HIGH, valid_from=now - days(1), valid_to=None,
                                 authority_id="zz-health", case_count=12, basis="12 cases")  # fmt: skip
    with pytest.raises(HealthcodeError) as outside:
        town.services.designations.designate_as(
            Actor("sh-off-1", "official", "sh-health", frozenset({"310100"})), request, now=now
        )
    assert outside.value.code == "designation.outside_jurisdiction"
    made = town.services.designations.designate_as(actor("zz-off-1", "official"), request, now=now)
    assert (made.pending, made.status_changes) == (True, 0)
    assert {town.status(p) for p in visitors} == {("green", "no-risk")}  # pending: no effect
    with pytest.raises(HealthcodeError):
        town.services.designations.cosign(actor("zz-off-1", "supervisor"), "d-bulk", now=now)
    town.clock.advance(minutes=10)
    assert (
        town.services.designations.cosign(
            actor("zz-sup-1", "supervisor"), "d-bulk", now=town.clock.now()
        ).status_changes
        == 25
    )
    assert {town.status(p) for p in visitors} == {("red", "high-risk-visit")}
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_a_new_edition_recomputes_everyone_once_in_force(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(10), None, id="d-h")
    person = town.person("visitor")
    town.visit(person, now - days(8))  # red for 14 days under edition 1, 7 under edition 2
    assert town.status(person) == ("red", "high-risk-visit")
    town.services.proposals.propose(
        actor("zz-off-1", "official"), edition_2(), effective_from=now + timedelta(hours=1), now=now
    )
    town.services.proposals.cosign(actor("zz-sup-1", "supervisor"), 2, now=now)
    town.clock.advance(hours=2)
    assert town.services.ticker.tick(now=town.clock.now()) == 1
    assert town.history(person)[-1] == ("green", "no-risk", town.clock.now(), "rulebook")
    assert town.services.ticker.tick(now=town.clock.now()) == 0
