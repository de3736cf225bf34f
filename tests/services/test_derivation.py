"""Status changes are recorded by the derivation alone: on input writes and at valid_until."""

from __future__ import annotations

from datetime import timedelta

from healthcode.domain.designations import RiskLevel
from tests.town import ERQI, Town, days


def test_a_positive_test_records_one_change_and_a_recovery_another(town: Town) -> None:
    alice = town.person("alice")
    t0 = town.clock.now()
    town.test(alice, t0 - timedelta(hours=3), "positive")
    assert town.status(alice) == ("red", "confirmed-case")
    town.clock.advance(days=10)
    town.submit("lab-1", [town.record("recovery", alice, town.clock.now())])
    assert town.history(alice) == [
        ("red", "confirmed-case", t0, "evidence"),
        ("green", "no-risk", t0 + days(10), "evidence"),
    ]


def test_evidence_that_changes_nothing_records_nothing(town: Town) -> None:
    bob = town.person("bob")
    town.test(bob, town.clock.now(), "negative")
    town.visit(bob, town.clock.now())
    assert town.history(bob) == []
    assert town.status(bob) == ("green", "no-risk")


def test_high_risk_visit_expires_through_tick_at_valid_until(town: Town) -> None:
    carol = town.person("carol")
    t0 = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, t0 - days(1), t0 + days(3), id="d-high")
    town.visit(carol, t0 - timedelta(hours=1))
    assert town.status(carol) == ("red", "high-risk-visit")
    expiry = t0 - timedelta(hours=1) + days(14)
    town.clock.set(expiry - timedelta(seconds=1))
    assert town.services.ticker.tick(now=town.clock.now()) == 0
    town.clock.set(expiry + days(2))  # the tick runs late: the change is still dated at expiry
    assert town.services.ticker.tick(now=town.clock.now()) == 1
    assert town.history(carol) == [
        ("red", "high-risk-visit", t0, "evidence"),
        ("green", "no-risk", expiry, "expiry"),
    ]
    assert town.services.ticker.tick(now=town.clock.now()) == 0


def test_a_designation_recomputes_past_proven_visitors_only(town: Town) -> None:
    dave, erin, frank = town.person("dave"), town.person("erin"), town.person("frank")
    t0 = town.clock.now()
    town.visit(dave, t0 - days(2))  # inside the designation's period
    town.visit(erin, t0 - days(5))  # before it
    town.visit(frank, t0 - days(2), presence="unverified")  # a forwarded code
    town.clock.advance(hours=1)
    changes = town.designate(ERQI, RiskLevel.HIGH, t0 - days(3), None, id="d1")
    assert changes == 1
    assert town.status(dave) == ("red", "high-risk-visit")
    assert town.status(erin) == town.status(frank) == ("green", "no-risk")
    assert town.history(dave) == [
        ("red", "high-risk-visit", t0 + timedelta(hours=1), "designation")
    ]


def test_a_late_test_makes_a_new_change_now_and_rewrites_nothing(town: Town) -> None:
    gina = town.person("gina")
    t0 = town.clock.now()
    town.designate(ERQI, RiskLevel.MEDIUM, t0 - days(5), None, id="d-medium")
    town.visit(gina, t0 - days(1))
    assert town.status(gina) == ("yellow", "medium-risk-visit")
    town.clock.advance(days=2)
    # A negative test sampled the day after the visit arrives only now.
    town.test(gina, t0, "negative")
    assert town.history(gina) == [
        ("yellow", "medium-risk-visit", t0, "evidence"),
        ("green", "no-risk", t0 + days(2), "evidence"),
    ]


def test_a_write_after_a_missed_expiry_records_both_changes_in_order(town: Town) -> None:
    hank = town.person("hank")
    t0 = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, t0 - days(1), None, id="d-h")
    town.visit(hank, t0)
    town.clock.advance(days=20)  # no tick ran at the 14-day expiry
    town.test(hank, town.clock.now(), "positive")
    assert town.history(hank) == [
        ("red", "high-risk-visit", t0, "evidence"),
        ("green", "no-risk", t0 + days(14), "expiry"),
        ("red", "confirmed-case", t0 + days(20), "evidence"),
    ]
