"""Retention (docs/operations.md, "Retention"): once the fake clock passes the period, a tick
purges old evidence, notices and expired identity cards; the log is unchanged but for one
`retention_purge` entry, verifies and passes the self-check; nobody's status changes; records
under an open appeal or oversight case, or cited by an order in force, are held and purged at
the first tick after the hold ends; a period not longer than the longest rule is refused. On
SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from healthcode.domain.appeals import AppealTarget, Ground, Outcome
from healthcode.domain.designations import RiskLevel
from healthcode.domain.oversight import Finding
from healthcode.errors import HealthcodeError
from healthcode.oversight.api import DetectorContext
from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.bulk_recompute import changing, everyone
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.services.retention import Retention
from healthcode.store import log_bundles
from healthcode.store import tables as t
from tests.conftest import T0
from tests.counting import counts
from tests.town import ERQI, ZHENGZHOU, Town, days

ZZ_OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))
LATE = T0 + days(61)  # the period (60 days) has passed for everything recorded around T0


@dataclass
class HandMade:
    findings: list[Finding] = field(default_factory=list)
    name: str = "hand_made"
    title_zh: str = "手工检测器"
    title_en: str = "hand-made detector"

    def run(self, context: DetectorContext) -> Iterable[Finding]:
        return list(self.findings)


def record(town: Town, source: str, kind: str, person: str, at: datetime, **fields: object) -> str:
    item = town.record(kind, person, at, **fields)
    town.submit(source, [item])
    return f"{source}/{item['record_id']}"


def lab(town: Town, person: str, at: datetime, result: str) -> str:
    return record(town, "lab-1", "test_result", person, at, method="pcr", result=result)


def contact(town: Town, person: str, at: datetime) -> str:
    return record(town, "cdc-1", "close_contact", person, at, area=ERQI, case_ref="c-1")


def stored(town: Town) -> set[str]:
    with town.services.db.read() as conn:
        rows = conn.execute(select(t.evidence.c.source_id, t.evidence.c.record_id))
        return {f"{row.source_id}/{row.record_id}" for row in rows}


def entries(town: Town) -> list[tuple[str, bytes]]:
    with town.services.db.read() as conn:
        return [
            (kind, body)
            for _, kind, body in log_bundles.iter_entries(conn, 0, log_bundles.next_index(conn))
        ]


def person_status(town: Town) -> list[tuple[object, ...]]:
    with town.services.db.read() as conn:
        return [
            tuple(row)
            for row in conn.execute(select(t.person_status).order_by(t.person_status.c.person_key))
        ]


def statuses(town: Town, people: Iterable[str]) -> dict[str, tuple[object, ...]]:
    """Each person's status computed afresh from the inputs (what every read shows)."""
    found = {}
    for person in people:
        s = town.services.explanations.explain(person, now=town.clock.now()).status
        found[person] = (s.colour, s.rule_id, s.inputs, s.valid_until, s.rulebook_version)
    return found


def self_check_ok(town: Town) -> None:
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems


def nobody_changes(town: Town) -> None:
    """The bulk evaluation agrees with every stored status (nobody would be recomputed)."""
    services = town.services
    with services.db.read() as conn:
        assert changing(conn, services.rulebooks, everyone(conn), town.clock.now()) == []


def test_a_tick_past_the_period_purges_old_personal_data_and_changes_no_status(town: Town) -> None:
    services, clock = town.services, town.clock
    alice, bob, carol, dave, erin, frank = (
        town.person(n) for n in ("alice", "bob", "carol", "dave", "erin", "frank")
    )
    town.designate(ERQI, RiskLevel.HIGH, T0 - days(1), T0 + days(1), id="d-old")
    a_pos = lab(town, alice, T0 - timedelta(hours=1), "positive")  # red until a recovery: none
    b_pos = lab(town, bob, T0 - timedelta(hours=1), "positive")
    c_neg = lab(town, carol, T0, "negative")
    d_visit = record(
        town, "scan-1", "venue_visit", dave, T0, area=ERQI, venue_id="station", presence="proven"
    )
    e_contact = contact(town, erin, T0)
    clock.advance(hours=2)
    b_rec = record(town, "lab-1", "recovery", bob, clock.now())
    assert town.status(alice) == ("red", "confirmed-case") and town.status(bob)[0] == "green"
    clock.set(T0 + days(30))
    services.ticker.tick(now=clock.now())  # every episode but alice's has ended and is recorded
    clock.set(T0 + days(55))
    c_new = lab(town, carol, clock.now(), "negative")
    # A record of long ago received only now: it counts from now, so the period starts now.
    f_late = lab(town, frank, T0, "negative")
    with services.db.write() as conn:  # an identity card that expired long ago, and a valid one
        conn.execute(t.identity_cards.insert(), [
            {"person_key": dave, "commitment": "aa" * 32, "issuer": "zz-health", "key_id": "k",
             "issued_at": T0 - days(400), "valid_until": T0 - days(35)},
            {"person_key": erin, "commitment": "bb" * 32, "issuer": "zz-health", "key_id": "k",
             "issued_at": T0, "valid_until": T0 + days(365)},
        ])  # fmt: skip
    services.sequencer.integrate(now=clock.now())

    clock.set(LATE)
    people = [alice, bob, carol, dave, erin, frank]
    before_status, before_rows, before_log = (
        statuses(town, people),
        person_status(town),
        entries(town),
    )
    with services.db.read() as conn:
        old_notices = conn.scalar(select(func.count()).where(t.notices.c.at < LATE - days(60)))
    assert old_notices
    assert services.ticker.tick(now=clock.now()) == 0

    purge = services.ticker.last_purge
    assert purge is not None and purge.cutoff == LATE - days(60)
    gone = {b_pos, b_rec, c_neg, d_visit, e_contact}
    assert not gone & stored(town)
    assert {a_pos, c_new, f_late} <= stored(
        town
    )  # alice's status rests on hers; the others are recent
    assert (purge.evidence, purge.batches, purge.identity_cards, purge.in_use) == (5, 5, 1, 1)
    assert purge.notices == old_notices and purge.held == 0
    with services.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(t.identity_cards)) == 1
        assert conn.scalar(select(func.count()).where(t.notices.c.at < LATE - days(60))) == 0
        batches = conn.execute(select(t.evidence_batches)).all()
    # Nobody's status changed: stored, recomputed per person, and by the bulk path.
    assert person_status(town) == before_rows
    assert statuses(town, people) == before_status
    nobody_changes(town)
    # The log is the same log with one more entry, which names nobody.
    after_log = entries(town)
    assert after_log[: len(before_log)] == before_log
    [(kind, body)] = after_log[len(before_log) :]
    assert kind == "retention_purge" and purge.entries == [len(before_log)]
    data = json.loads(body)["data"]
    assert data["counts"] == {"evidence": 5, "notices": old_notices, "identity_cards": 1}
    assert (data["cutoff"], data["days"], data["batches"]) == ("2026-06-02T00:00:00Z", 60, 5)
    assert not any(person.encode() in body for person in people)
    # The batches and their entries stay, marked; the self-check accounts for every leaf.
    assert sum(row.purged_records for row in batches) == 5 and len(batches) == 8
    assert {row.purged_at for row in batches if row.purged_records} == {LATE}
    self_check_ok(town)
    signed = services.sequencer.integrate(now=clock.now())
    assert signed is not None and signed.size == len(after_log)
    self_check_ok(town)
    # Idempotent: at the same instant there is nothing left to purge, and nothing is written.
    again = services.retention.purge(clock.now())
    assert (again.evidence, again.notices, again.identity_cards, again.entries) == (0, 0, 0, [])
    assert entries(town) == after_log


def test_a_recovery_stays_while_the_positive_test_it_ends_stays(town: Town) -> None:
    """A lab sends an old positive test late; the recovery after it came long ago. Purging the
    recovery alone would make the person red again: it stays while the test stays."""
    services, clock = town.services, town.clock
    gina = town.person("gina")
    recovered = record(town, "lab-1", "recovery", gina, T0)
    clock.set(T0 + days(55))
    late_positive = lab(town, gina, T0 - timedelta(hours=1), "positive")
    assert town.status(gina) == ("green", "no-risk")
    clock.set(LATE)
    before = statuses(town, [gina])
    purge = services.retention.purge(clock.now())
    assert (purge.evidence, purge.in_use) == (0, 1)
    assert {recovered, late_positive} <= stored(town)
    assert statuses(town, [gina]) == before
    nobody_changes(town)


def test_a_purge_runs_in_bounded_transactions_each_logged(town: Town) -> None:
    services, clock = town.services, town.clock
    people = [town.person(f"p{n}") for n in range(7)]
    for person in people:
        lab(town, person, T0, "negative")
    clock.set(LATE)
    small = Retention(
        services.db, services.rulebooks, replace(services.retention.policy, batch_records=2)
    )
    purge = small.purge(clock.now())
    assert purge.evidence == 7 and len(purge.entries) == 4  # 2 + 2 + 2 + 1 records
    assert not stored(town)
    self_check_ok(town)


def test_held_records_stay_until_their_appeal_or_case_closes(town: Town) -> None:
    town.register_staff()
    services, clock, appeals = town.services, town.clock, town.services.appeals
    p1, p2, p3, p4, p5, p6 = (town.person(n) for n in ("p1", "p2", "p3", "p4", "p5", "p6"))
    n1 = lab(town, p1, T0, "negative")
    c2 = contact(town, p2, T0)
    c3, n3 = contact(town, p3, T0), lab(town, p3, T0, "negative")
    r4 = lab(town, p4, T0, "negative")
    c5 = contact(town, p5, T0)
    n6 = lab(town, p6, T0, "negative")

    def order(person: str, ref: str, until: datetime) -> str:
        issued = services.orders.issue(ZZ_OFFICIAL, OrderRequest(
            kind="close_contact_quarantine", legal_basis="idl-art-41-quarantine",  # type: ignore[arg-type]
            persons=(PersonEvidence(person, (ref,)),), valid_until=until,
        ), now=clock.now())  # fmt: skip
        return issued.orders[0].id

    clock.set(LATE - timedelta(hours=3))
    # p1 contests their record; p2 contests an order (which runs out before the tick).
    a1 = appeals.file(
        p1, AppealRequest(AppealTarget.EVIDENCE, Ground.EVIDENCE_WRONG, ref=n1), now=clock.now()
    )
    o2 = order(p2, c2, LATE - timedelta(hours=1))
    a2 = appeals.file(
        p2, AppealRequest(AppealTarget.ORDER, Ground.NOT_THERE, ref=o2), now=clock.now()
    )
    # p3's appeal is upheld on other evidence and escalated: oversight holds a case.
    a3 = appeals.file(
        p3, AppealRequest(AppealTarget.EVIDENCE, Ground.NOT_THERE, ref=c3), now=clock.now()
    )
    clock.advance(minutes=30)
    appeals.answer(ZZ_OFFICIAL, a3.id, Answer(Outcome.UPHELD, (n3,)), now=clock.now())
    escalated = appeals.escalate(p3, a3.id, now=clock.now())
    # A detector's finding names p4's record; p5 is under an order in force.
    clock.set(LATE - timedelta(hours=1))
    now = clock.now()
    found = Finding(
        detector="hand_made", subject="source:lab-1", summary_zh="异常", summary_en="odd", score=3.0,
        window_from=now - days(1), window_to=now, records=(f"evidence:{r4}",),
    )  # fmt: skip
    [finding_case] = services.oversight.run(now, detectors=[HandMade([found])]).new_cases
    order(p5, c5, LATE + days(6))

    clock.set(LATE)
    services.ticker.tick(now=clock.now())
    purge = services.ticker.last_purge
    assert purge is not None
    assert n6 not in stored(town)
    held = {n1, c2, c3, n3, r4, c5}
    assert held <= stored(town) and (purge.evidence, purge.held) == (1, 6)
    self_check_ok(town)

    # The holds end: both open appeals lapse, the auditor closes both cases.
    clock.set(LATE + days(2) + timedelta(hours=1))
    for case in (escalated.id, finding_case):
        services.oversight.move(
            "auditor-1", case, "closed", "checked: nothing wrong", now=clock.now()
        )
    before = statuses(town, [p1, p2, p3, p4, p5])
    services.ticker.tick(now=clock.now())  # lapses first, then purges
    assert appeals.view(p1, a1.id, now=clock.now()).appeal.status == "lapsed"
    assert appeals.view(p2, a2.id, now=clock.now()).appeal.status == "lapsed"
    assert stored(town) & held == {c5}  # p5's order is still in force
    assert statuses(town, [p2, p3, p4, p5]) == {k: v for k, v in before.items() if k != p1}
    nobody_changes(town)
    self_check_ok(town)


def test_a_period_not_longer_than_the_longest_rule_is_refused(town: Town) -> None:
    services = town.services
    person = town.person("kept")
    ref = lab(town, person, T0, "negative")
    town.clock.set(LATE)
    for days_ in (7, 14):  # edition 1's longest rules last 14 days
        short = Retention(
            services.db, services.rulebooks, replace(services.retention.policy, evidence_days=days_)
        )
        before = counts(services.db)
        with pytest.raises(HealthcodeError) as refused:
            short.purge(town.clock.now())
        assert refused.value.code == "retention.too_short"
        assert "14 days" in refused.value.detail
        assert counts(services.db) == before and ref in stored(town)
    longer = Retention(
        services.db, services.rulebooks, replace(services.retention.policy, evidence_days=15)
    )
    assert longer.purge(town.clock.now()).evidence == 1


def test_the_self_check_finds_records_removed_without_a_purge(town: Town) -> None:
    services, clock = town.services, town.clock
    alice, bob = town.person("alice"), town.person("bob")
    both = town.submit("lab-1", [
        town.record("test_result", alice, T0 - timedelta(hours=1), method="pcr", result="positive"),
        town.record("test_result", bob, T0, method="pcr", result="negative"),
    ])  # fmt: skip
    clock.set(LATE)
    services.ticker.tick(now=clock.now())
    self_check_ok(town)  # bob's record purged; alice's (a status rests on it) kept
    with services.db.write() as conn:
        (purged,) = conn.execute(select(t.evidence_batches.c.purged_records)).one()
        assert purged == 1
        conn.execute(delete(t.evidence).where(t.evidence.c.person_key == alice))
    report = services.self_check.run(now=clock.now(), halt=False)
    assert any(f"batch lab-1/{both.batch_id}" in p and "Merkle root" in p for p in report.problems)
    # Claiming the deleted record for the logged purge does not hold either.
    with services.db.write() as conn:
        conn.execute(update(t.retention_purge_batches).values(positions="[0, 1]"))
        conn.execute(update(t.evidence_batches).values(purged_records=2))
    report = services.self_check.run(now=clock.now(), halt=False)
    assert any("retention_purge" in p and "does not match" in p for p in report.problems)
