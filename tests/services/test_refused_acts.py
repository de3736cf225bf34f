"""The ``refused_acts`` detector over the store: an official whose refused acts of an abuse's
shape pass the threshold in the window is a finding naming them and each refusal, and opens a
logged case; one below it, a person's refusals and older ones are not. On SQLite and
PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

from healthcode.errors import HealthcodeError, InputRejected, Unauthorized
from healthcode.oversight.detectors.refusals import RefusedActs
from healthcode.oversight.runner import run_detectors
from healthcode.services.refusals import RefusedStaff
from tests.town import Town, days

ZZ = RefusedStaff("zz-off-1", "official", "zz-health")
SH = RefusedStaff("sh-off-1", "official", "sh-health")


def refuse(town: Town, error: HealthcodeError, by: RefusedStaff | None, times: int) -> None:
    for _ in range(times):
        town.services.refusals.record(
            error, route="/api/v1/orders", source_id=None, now=town.clock.now(), by=by
        )


def test_an_official_past_the_threshold_opens_a_case_and_one_below_it_does_not(
    town: Town,
) -> None:
    town.register_staff()
    refuse(town, InputRejected("order.evidence_missing"), ZZ, 2)  # older than the window
    town.clock.advance(days=31)
    refuse(town, InputRejected("order.evidence_missing"), ZZ, 3)
    refuse(town, Unauthorized("order.outside_jurisdiction"), ZZ, 2)
    refuse(town, InputRejected("request.malformed"), ZZ, 4)  # slips of the form
    refuse(town, InputRejected("order.evidence_not_theirs"), SH, 4)  # one short of it
    refuse(town, InputRejected("order.evidence_missing"), None, 9)  # nobody named
    now = town.clock.now() + days(1)
    with town.services.db.read() as conn:
        [run] = run_detectors(conn, now=now, detectors=[RefusedActs()])
    [finding] = run.findings
    assert finding.subject == "official:zz-off-1" and finding.score == 5.0
    assert len(finding.records) == 5
    assert all(ref.startswith("refusal:") for ref in finding.records)
    assert "order.evidence_missing × 3" in finding.summary_en
    summary = town.services.oversight.run(now, detectors=[RefusedActs()])
    assert len(summary.new_cases) == 1
    [case] = town.services.oversight.cases()
    assert case.finding is not None and case.finding.subject == "official:zz-off-1"
    assert town.services.oversight.run(now, detectors=[RefusedActs()]).new_cases == []
    report = town.services.self_check.run(now=now, halt=False)
    assert report.ok, report.problems
