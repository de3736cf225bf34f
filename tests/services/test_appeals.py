"""Appeals end (invariant 8): an unanswered appeal lapses at its deadline, driven by a fake
clock through the scheduler; the colour is recomputed; the log holds the lapse; the authority's
statistics count it; the self-check accounts for every appeal entry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from healthcode.domain.appeals import AppealTarget, Ground, Outcome
from healthcode.errors import HealthcodeError
from healthcode.services.appeals import LAPSE_ACTOR, Answer, AppealRequest
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.store import orders as orders_repo
from healthcode.store import tables as t
from tests.counting import counts
from tests.log_rows import stored
from tests.town import ERQI, ZHENGZHOU, Town, days

ZZ_OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))


def positive(town: Town, person: str) -> str:
    record = town.record(
        "test_result", person, town.clock.now() - timedelta(hours=1), method="pcr",
        result="positive",
    )  # fmt: skip
    town.submit("lab-1", [record])
    return f"lab-1/{record['record_id']}"


def contact(town: Town, person: str) -> str:
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    return f"cdc-1/{record['record_id']}"


def quarantine(town: Town, person: str) -> tuple[str, str]:
    """A close contact traced by cdc-1, then quarantined by an order citing it: (the record,
    the order)."""
    ref = contact(town, person)
    issued = town.services.orders.issue(
        ZZ_OFFICIAL,
        OrderRequest(
            kind="close_contact_quarantine",  # type: ignore[arg-type]
            legal_basis="idl-art-41-quarantine",
            persons=(PersonEvidence(person, (ref,)),),
            valid_until=town.clock.now() + days(10),
        ),
        now=town.clock.now(),
    )
    return ref, issued.orders[0].id


def quarantined(town: Town, person: str) -> str:
    return quarantine(town, person)[1]


def log_kinds(town: Town) -> list[tuple[int, str, dict]]:  # type: ignore[type-arg]
    with town.services.db.read() as conn:
        rows = stored(conn)
    return [(index, kind, json.loads(body)["data"]) for index, kind, body in rows]


def test_an_unanswered_evidence_appeal_lapses_at_its_deadline(town: Town) -> None:
    town.register_staff()
    appeals = town.services.appeals
    person = town.person("unheard")
    ref = positive(town, person)
    assert town.status(person) == ("red", "confirmed-case")
    filed = appeals.file(
        person,
        AppealRequest(AppealTarget.EVIDENCE, Ground.EVIDENCE_WRONG, ref=ref),
        now=town.clock.now(),
    )
    assert filed.authority_id == "zz-health"  # lab-1 was registered by zz-health
    assert filed.deadline == town.clock.now() + timedelta(hours=48)
    # A minute before the deadline the scheduler leaves it alone.
    town.clock.set(filed.deadline - timedelta(minutes=1))
    town.services.ticker.tick(now=town.clock.now())
    assert town.services.appeals.view(person, filed.id, now=town.clock.now()).appeal.is_open
    assert town.status(person) == ("red", "confirmed-case")
    # At the deadline: lapsed, set aside for this person, recomputed, logged, counted.
    town.clock.set(filed.deadline)
    town.services.ticker.tick(now=town.clock.now())
    view = appeals.view(person, filed.id, now=town.clock.now())
    assert (view.appeal.status, view.where, view.appeal.lapsed_at) == (
        "lapsed",
        "lapsed",
        filed.deadline,
    )
    assert town.status(person) == ("green", "no-risk")
    assert town.history(person)[-1][3] == "appeal"
    entries = log_kinds(town)
    [(index, _, lapse)] = [e for e in entries if e[1] == "appeal_lapsed"]
    assert index == view.appeal.lapse_log_index
    assert lapse["authority"] == "zz-health" and lapse["outcome"] == "no_answer_in_time"
    assert lapse["set_aside"] is True and person not in json.dumps(lapse)
    assert [e[1] for e in entries if e[0] > index][:1] == ["status_change"]
    stats = {row.authority_id: row for row, _ in appeals.statistics()}
    assert stats["zz-health"].lapsed == "<10" and stats["sh-health"].lapsed == "<10"
    assert [r.step for r in view.receipts] == ["filed", "lapsed"]
    # Answering now is refused and changes nothing.
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as closed:
        appeals.answer(ZZ_OFFICIAL, filed.id, Answer(Outcome.OVERTURNED), now=town.clock.now())
    assert closed.value.code == "appeal.closed"
    assert counts(town.services.db) == before
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_an_unanswered_order_appeal_lapses_the_order(town: Town) -> None:
    town.register_staff()
    person = town.person("quarantined")
    order_id = quarantined(town, person)
    assert town.status(person) == ("red", "quarantine-order")
    filed = town.services.appeals.file(
        person, AppealRequest(AppealTarget.ORDER, Ground.NOT_THERE, ref=order_id),
        now=town.clock.now(),
    )  # fmt: skip
    assert filed.deadline == town.clock.now() + timedelta(hours=24)
    town.clock.set(filed.deadline + timedelta(seconds=5))  # the cron tick comes a little late
    town.services.ticker.tick(now=town.clock.now())
    with town.services.db.read() as conn:
        order = orders_repo.by_id(conn, order_id)
    assert order is not None
    assert (order.status, order.end_reason, order.ended_by, order.ended_at) == (
        "ended",
        "appeal_lapsed",
        LAPSE_ACTOR,
        town.clock.now(),  # history is not rewritten: it ends when the lapse is recorded
    )
    # The close-contact record itself still counts (yellow); only the order lapsed.
    assert town.status(person) == ("yellow", "close-contact")
    kinds = [kind for _, kind, _ in log_kinds(town)]
    assert kinds[-3:] == ["order_end", "status_change", "appeal_lapsed"]
    # A lapsed order is not re-issued on the same evidence; new evidence carries a new order.
    [evidence] = order.evidence
    request = OrderRequest(
        kind="close_contact_quarantine",  # type: ignore[arg-type]
        legal_basis="idl-art-41-quarantine",
        persons=(PersonEvidence(person, (evidence,)),),
        valid_until=town.clock.now() + days(10),
    )
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as again:
        town.services.orders.issue(ZZ_OFFICIAL, request, now=town.clock.now())
    assert again.value.code == "order.evidence_set_aside"
    assert counts(town.services.db) == before
    fresh = contact(town, person)
    town.services.orders.issue(
        ZZ_OFFICIAL,
        OrderRequest(
            kind=request.kind, legal_basis=request.legal_basis,
            persons=(PersonEvidence(person, (evidence, fresh)),), valid_until=request.valid_until,
        ),
        now=town.clock.now(),
    )  # fmt: skip
    assert town.status(person) == ("red", "quarantine-order")
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_the_authoritys_statistics_count_every_lapse(town: Town) -> None:
    town.register_staff()
    people = [town.person(f"p{n}") for n in range(10)]
    records = [
        town.record("test_result", p, town.clock.now() - timedelta(hours=1), method="pcr",
                    result="positive")
        for p in people
    ]  # fmt: skip
    town.submit("lab-1", records)
    for person, record in zip(people, records, strict=True):
        town.services.appeals.file(
            person,
            AppealRequest(AppealTarget.COLOUR, Ground.NOT_MINE),
            now=town.clock.now(),
        )
        assert record["record_id"]
    town.clock.advance(hours=24)  # a colour appeal has 24 hours
    town.services.ticker.tick(now=town.clock.now())
    [(row, name)] = [
        s for s in town.services.appeals.statistics() if s[0].authority_id == "zz-health"
    ]
    assert (row.filed, row.lapsed, row.open, row.upheld) == (10, 10, "<10", "<10")
    assert row.median_seconds_to_answer is None  # nothing was answered
    assert name.en == "Zhengzhou Health Commission"
    assert all(town.status(p) == ("green", "no-risk") for p in people)
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_an_answer_before_the_deadline_stops_the_lapse(town: Town) -> None:
    town.register_staff()
    person = town.person("answered")
    ref = positive(town, person)
    support = positive(town, person)
    filed = town.services.appeals.file(
        person, AppealRequest(AppealTarget.EVIDENCE, Ground.EVIDENCE_WRONG, ref=ref),
        now=town.clock.now(),
    )  # fmt: skip
    town.clock.advance(hours=3)
    answered = town.services.appeals.answer(
        ZZ_OFFICIAL, filed.id, Answer(Outcome.UPHELD, (support,)), now=town.clock.now()
    )
    assert (answered.status, answered.cited) == ("upheld", (support,))
    town.clock.set(filed.deadline + days(1))
    assert town.services.appeals.lapse_due(town.clock.now()) == 0
    assert town.status(person)[0] == "red"
    stats = {row.authority_id: row for row, _ in town.services.appeals.statistics()}
    assert stats["zz-health"].answered == "<10"
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_a_guardian_appeals_for_a_dependant_and_nobody_else_can(town: Town) -> None:
    town.register_staff()
    parent, child, stranger = town.person("parent"), town.person("child"), town.person("x")
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    ref = positive(town, child)
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as refused:
        town.services.appeals.file(
            stranger,
            AppealRequest(AppealTarget.EVIDENCE, Ground.NOT_MINE, ref=ref, on_behalf_of=child),
            now=town.clock.now(),
        )
    assert refused.value.code == "appeal.not_guardian"
    assert counts(town.services.db) == before
    filed = town.services.appeals.file(
        parent,
        AppealRequest(AppealTarget.EVIDENCE, Ground.NOT_MINE, ref=ref, on_behalf_of=child),
        now=town.clock.now(),
    )
    assert (filed.person_key, filed.filed_by) == (child, parent)
    assert [v.appeal.id for v in town.services.appeals.of_person(parent, now=town.clock.now())] == [
        filed.id
    ]
    assert [v.appeal.id for v in town.services.appeals.of_person(child, now=town.clock.now())] == [
        filed.id
    ]
    assert town.services.appeals.of_person(stranger, now=town.clock.now()) == []
    filed_entry = next(d for _, kind, d in log_kinds(town) if kind == "appeal_filed")
    assert filed_entry["by"] == "guardian" and child not in json.dumps(filed_entry)
    assert town.services.self_check.run(now=town.clock.now()).ok


def test_the_self_check_catches_a_set_aside_without_an_appeal(town: Town) -> None:
    town.register_staff()
    person = town.person("tampered")
    ref = positive(town, person)
    filed = town.services.appeals.file(
        person, AppealRequest(AppealTarget.EVIDENCE, Ground.EVIDENCE_WRONG, ref=ref),
        now=town.clock.now(),
    )  # fmt: skip
    town.services.appeals.answer(
        ZZ_OFFICIAL, filed.id, Answer(Outcome.OVERTURNED), now=town.clock.now()
    )
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
    other = town.person("other")
    other_ref = positive(town, other)
    source, record = other_ref.split("/")
    with town.services.db.write() as conn:  # someone sets evidence aside behind the log's back
        conn.execute(
            t.set_asides.update()
            .where(t.set_asides.c.person_key == person)
            .values(person_key=other, record_id=record, source_id=source)
        )
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert not report.ok and any("set-aside" in p for p in report.problems)
