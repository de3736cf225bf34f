"""Oversight's cases (A8): a detector's findings are stored once across runs, each opens one
case with its log entry; a case moves open -> investigating -> referred -> closed, each step
one row and one entry, and nothing else; an escalated appeal's case moves the same way; the
self-check rebuilds every entry and notices a status changed behind the log's back. On SQLite
and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from healthcode.bootstrap import Services
from healthcode.domain.appeals import AppealTarget, Ground, Outcome
from healthcode.domain.log_entries import actor_tag
from healthcode.domain.oversight import Finding
from healthcode.errors import HealthcodeError
from healthcode.oversight.api import DetectorContext
from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence, staff_secret_key
from healthcode.services.selfcheck_oversight import expected_oversight
from healthcode.store import log_bundles
from healthcode.store import tables as t
from tests.counting import counts
from tests.log_rows import stored
from tests.town import ERQI, ZHENGZHOU, Town, days

ZZ_OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))
# The tables oversight must never write: colours, orders, evidence and what they rest on.
DECIDING = ("person_status", "status_changes", "orders", "order_evidence", "evidence",
            "set_asides", "designations", "appeals")  # fmt: skip


@dataclass
class HandMade:
    """A detector that reports what it is given (the built-in ones read the store)."""

    findings: list[Finding] = field(default_factory=list)
    name: str = "hand_made"
    title_zh: str = "手工检测器"
    title_en: str = "hand-made detector"

    def run(self, context: DetectorContext) -> Iterable[Finding]:
        assert context.since == context.now - context.window
        return list(self.findings)


def finding(town: Town, subject: str, *records: str, score: float = 4.0) -> Finding:
    now = town.clock.now()
    return Finding(
        detector="hand_made", subject=subject, summary_zh=f"{subject} 异常", score=score,
        summary_en=f"{subject} stands out", window_from=now - days(1), window_to=now,
        records=tuple(sorted(records)),
    )  # fmt: skip


def entries(town: Town, kind: str) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
    return entries_of(town.services, kind)


def entries_of(services: Services, kind: str) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
    with services.db.read() as conn:
        rows = stored(conn)
    return [(index, json.loads(body)["data"]) for index, found, body in rows if found == kind]


def deciding(town: Town) -> dict[str, int]:
    return {name: count for name, count in counts(town.services.db).items() if name in DECIDING}


def refused(town: Town, code: str, call) -> None:  # type: ignore[no-untyped-def]
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as caught:
        call()
    assert caught.value.code == code
    assert counts(town.services.db) == before  # no step, no entry, no status changed


def self_check_ok(town: Town) -> None:
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems


def test_findings_are_stored_once_and_each_opens_a_logged_case(town: Town) -> None:
    town.register_staff()
    person = town.person("seen")
    town.test(person, town.clock.now() - timedelta(hours=1), "positive")
    before = deciding(town)
    detector = HandMade([
        finding(town, "official:zz-off-1", "order:ord-1", "order:ord-2"),
        finding(town, "venue:station", "evidence:scan-1/r9"),
        finding(town, "household:hh-42", "evidence:cdc-1/r3", "order:ord-3"),
        finding(town, f"person:{person}", "evidence:lab-1/r1"),
    ])  # fmt: skip
    first = town.services.oversight.run(town.clock.now(), detectors=[detector])
    [summary] = first.detectors
    assert (summary.name, summary.findings, len(summary.new_cases)) == ("hand_made", 4, 4)
    town.clock.advance(hours=1)
    again = town.services.oversight.run(town.clock.now(), detectors=[detector])
    assert (again.detectors[0].findings, again.new_cases) == (4, [])  # the same four: no new case
    with town.services.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(t.oversight_findings)) == 4
    cases = town.services.oversight.cases()
    assert sorted(c.case.id for c in cases) == sorted(first.new_cases)
    assert {(c.origin, c.case.status, c.finding.detector) for c in cases if c.finding} == {
        ("finding", "open", "hand_made")
    }
    logged = entries(town, "oversight_finding")
    assert sorted(data["case"] for _, data in logged) == sorted(first.new_cases)
    by_kind = {data["subject_kind"]: (index, data) for index, data in logged}
    assert by_kind["venue"][1]["subject"] == "station"  # a registered venue: in the clear
    index, official = by_kind["official"]  # an official: their tag, openable by oversight
    secret = town.services.secrets.secret(staff_secret_key("zz-off-1"))
    assert official["subject"] == actor_tag(secret, index)
    body = json.dumps([data for _, data in logged])
    for clear in ("zz-off-1", "hh-42", person, "ord-1", "scan-1/r9"):
        assert clear not in body  # no badge, person, household or record in the clear
    assert {data["record_count"] for _, data in logged} == {1, 2}
    assert deciding(town) == before  # oversight changed no colour, order or evidence
    self_check_ok(town)


def test_a_case_moves_along_its_lifecycle_each_step_logged(town: Town) -> None:
    town.register_staff()
    run = town.services.oversight.run(
        town.clock.now(), detectors=[HandMade([finding(town, "authority:zz-health", "appeal:a1")])]
    )
    [case_id] = run.new_cases
    oversight = town.services.oversight
    before = deciding(town)
    for status, note in (("investigating", "asked the authority for its reasons"),
                         ("referred", "to the provincial discipline commission"),
                         ("closed", "the designations were unsupported; reported publicly")):  # fmt: skip
        town.clock.advance(hours=1)
        view = oversight.move("auditor-1", case_id, status, note, now=town.clock.now())
        assert (view.case.status, view.steps[-1].note, view.case.updated_at) == (
            status, note, town.clock.now(),
        )  # fmt: skip
    view = oversight.case(case_id)
    assert [s.status for s in view.steps] == ["investigating", "referred", "closed"]
    assert [s.seq for s in view.steps] == [1, 2, 3]
    assert view.case.conclusion == "the designations were unsupported; reported publicly"
    assert view.finding is not None and view.finding.records == ("appeal:a1",)
    steps = entries(town, "oversight_case_step")
    assert [(d["from"], d["status"]) for _, d in steps] == [
        ("open", "investigating"), ("investigating", "referred"), ("referred", "closed"),
    ]  # fmt: skip
    assert [i for i, _ in steps] == [s.log_index for s in view.steps]
    auditor = town.services.secrets.secret(staff_secret_key("auditor-1"))
    assert all(d["auditor"] == actor_tag(auditor, i) for i, d in steps)
    assert "auditor-1" not in json.dumps(steps) and "discipline" not in json.dumps(steps)
    assert deciding(town) == before
    self_check_ok(town)
    refused(town, "oversight.transition_invalid",
            lambda: oversight.move("auditor-1", case_id, "investigating", "again", now=town.clock.now()))  # fmt: skip
    assert [c.case.id for c in oversight.cases("closed")] == [case_id]
    assert oversight.cases("open") == []


def test_a_refused_step_writes_nothing(town: Town) -> None:
    town.register_staff()
    run = town.services.oversight.run(
        town.clock.now(), detectors=[HandMade([finding(town, "source:lab-1", "evidence:lab-1/r1")])]
    )
    [case_id] = run.new_cases
    move = town.services.oversight.move
    now = town.clock.now()
    refused(town, "oversight.transition_invalid",
            lambda: move("auditor-1", case_id, "referred", "skip ahead", now=now))  # fmt: skip
    refused(town, "oversight.transition_invalid",
            lambda: move("auditor-1", case_id, "open", "", now=now))  # fmt: skip
    refused(town, "oversight.conclusion_missing",
            lambda: move("auditor-1", case_id, "closed", "   ", now=now))  # fmt: skip
    refused(town, "oversight.status_unknown",
            lambda: move("auditor-1", case_id, "dismissed", "x", now=now))  # fmt: skip
    refused(town, "oversight.case_not_found",
            lambda: move("auditor-1", "case-none", "investigating", "", now=now))  # fmt: skip
    for badge in ("zz-off-1", "zz-sup-1", "nobody"):  # only an auditor moves a case
        refused(town, "auth.forbidden",
                lambda b=badge: move(b, case_id, "closed", "nothing here", now=now))  # type: ignore[misc]  # fmt: skip
    refused(town, "oversight.status_unknown", lambda: town.services.oversight.cases("pending"))
    # Closing straight from open, with a conclusion, is allowed.
    closed = move(
        "auditor-1", case_id, "closed", "a false alarm: the lab serves two cities", now=now
    )
    assert closed.case.status == "closed" and len(closed.steps) == 1
    self_check_ok(town)


def upheld_and_escalated(town: Town) -> str:
    person = town.person("escalates", home=ERQI)
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    ref = f"cdc-1/{record['record_id']}"
    order = town.services.orders.issue(ZZ_OFFICIAL, OrderRequest(
        kind="close_contact_quarantine",  # type: ignore[arg-type]
        legal_basis="idl-art-41-quarantine", persons=(PersonEvidence(person, (ref,)),),
        valid_until=town.clock.now() + days(10),
    ), now=town.clock.now()).orders[0]  # fmt: skip
    appeal = town.services.appeals.file(
        person, AppealRequest(AppealTarget.ORDER, Ground.NOT_THERE, ref=order.id),
        now=town.clock.now(),
    )  # fmt: skip
    town.services.appeals.answer(
        ZZ_OFFICIAL, appeal.id, Answer(Outcome.UPHELD, (ref,)), now=town.clock.now()
    )
    town.services.appeals.escalate(person, appeal.id, now=town.clock.now())
    return person


def test_an_escalated_appeals_case_goes_through_the_same_lifecycle(town: Town) -> None:
    town.register_staff()
    person = upheld_and_escalated(town)
    [view] = town.services.oversight.cases()
    assert (view.origin, view.case.status, view.finding) == ("appeal", "open", None)
    assert view.appeal is not None and view.appeal.status == "upheld"
    colour = town.status(person)
    oversight = town.services.oversight
    oversight.move("auditor-1", view.case.id, "investigating", "", now=town.clock.now())
    oversight.move("auditor-1", view.case.id, "closed", "the order rested on a real contact",
                   now=town.clock.now())  # fmt: skip
    [seen] = town.services.appeals.of_person(person, now=town.clock.now())
    assert seen.case is not None
    assert (seen.where, seen.case.status, seen.case.conclusion) == (
        "with_oversight", "closed", "the order rested on a real contact",
    )  # fmt: skip
    assert [r.step for r in seen.receipts] == ["filed", "answered", "escalated"]
    assert town.status(person) == colour  # oversight sets no colour
    assert len(entries(town, "oversight_case_step")) == 2
    self_check_ok(town)


def test_the_self_check_notices_a_case_moved_behind_the_logs_back(town: Town) -> None:
    town.register_staff()
    run = town.services.oversight.run(
        town.clock.now(), detectors=[HandMade([finding(town, "official:zz-off-1", "order:o1")])]
    )
    [case_id] = run.new_cases
    self_check_ok(town)
    with town.services.db.write() as conn:  # someone closes the case without a logged step
        conn.execute(
            t.oversight_cases.update()
            .where(t.oversight_cases.c.id == case_id)
            .values(status="closed", conclusion="nothing to see")
        )
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert any(case_id in problem for problem in report.problems), report.problems
    with town.services.db.write() as conn:  # or rewrites what the finding rests on
        conn.execute(
            t.oversight_cases.update()
            .where(t.oversight_cases.c.id == case_id)
            .values(status="open", conclusion=None)
        )
        conn.execute(t.oversight_findings.update().values(records=json.dumps(["order:o2"])))
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert not report.ok and any("fingerprint" in problem for problem in report.problems)


def test_a_detectors_bad_finding_is_refused_before_anything_is_stored(town: Town) -> None:
    wrong = HandMade([finding(town, "venue:station", "evidence:scan-1/r1")], name="other_name")
    before = counts(town.services.db)
    with pytest.raises(ValueError, match="other_name"):
        town.services.oversight.run(town.clock.now(), detectors=[wrong])
    assert counts(town.services.db) == before


@pytest.mark.slow
def test_the_registered_detectors_over_the_simulated_city_open_logged_cases(
    services: Services,
) -> None:
    from healthcode.sim.evaluate import NOW, build

    build(services, seed=7, people=1500, days=30)
    first = services.oversight.run(NOW)
    assert len(first.detectors) == 11 and first.new_cases  # the landed attempts are found
    assert services.oversight.run(NOW).new_cases == []
    logged = entries_of(services, "oversight_finding")
    assert len(logged) == len(first.new_cases)
    badges = {f.subject.partition(":")[2] for v in services.oversight.findings() for f in [v.finding]
              if f.subject_kind in ("official", "household", "contact_group")}  # fmt: skip
    body = json.dumps(logged)
    assert badges and not any(badge in body for badge in badges)
    # What the self-check expects of oversight's entries is exactly what the log holds, and the
    # whole store agrees with the whole log.
    with services.db.read() as conn:
        expected, problems = expected_oversight(conn, services.secrets)
        stored = {
            index: (kind, body)
            for index, kind, body in log_bundles.iter_entries(conn, 0, log_bundles.next_index(conn))
            if kind.startswith("oversight_")
        }
    assert problems == [] and expected == stored and len(stored) == len(first.new_cases)
    report = services.self_check.run(now=NOW, halt=False)
    assert report.problems == []
