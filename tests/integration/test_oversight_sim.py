"""The simulated city with abuse attempts, replayed through the services on SQLite and
PostgreSQL: attempts the API refuses are refused (and a refused one of many acts is flagged by
the refusals naming its official), every one that lands is flagged (the operator's
co-signature with a token they issued by that token, a supervisor's password they reset by
that registration, a person made guardian of many for minutes by those guardianships), and
the findings point at attempts (issue #8; `healthcode sim evaluate` runs more seeds)."""

import pytest

from healthcode.bootstrap import Services
from healthcode.oversight.runner import run_detectors
from healthcode.sim.evaluate import NOW, build, score

pytestmark = pytest.mark.slow

REFUSED = {"list_order": "order.evidence_missing", "wrong_basis": "order.evidence_wrong_kind",
           "relative_evidence": "order.evidence_not_theirs"}  # fmt: skip


def test_every_landed_attempt_is_flagged_and_findings_point_at_attempts(
    services: Services,
) -> None:
    _world, attempts, applied = build(services, seed=7, people=1500, days=30)
    for attempt in attempts:
        codes = {applied[action].refused for action in attempt.actions}
        assert codes == ({REFUSED[attempt.kind]} if attempt.kind in REFUSED else {None}), attempt
    with services.db.read() as conn:
        runs = run_detectors(conn, now=NOW)
    result = score(7, 1500, 30, attempts, applied, runs)
    assert result.landed == 9
    # The operator's co-signature with a supervisor's token they issued is found by that token.
    assert result.kinds["operator_cosign"].flagged == 1
    [token_finding] = [f for r in runs if r.detector.name == "operator_tokens" for f in r.findings]
    assert token_finding.subject.endswith("-supervisor-2")
    # A supervisor's password the operator reset, then co-signed with, by that registration.
    assert result.kinds["password_reset"].flagged == 1
    [reset] = [f for r in runs if r.detector.name == "staff_registry" for f in r.findings]
    assert reset.subject.endswith("-supervisor-2") and "new password" in reset.summary_en
    # One person made guardian of many, each guardianship ended within the hour: both shapes,
    # each naming the guardianship entries, the guardian by an entry index.
    assert result.kinds["guardian_of_many"].flagged == 1
    wide, short = sorted(
        (f for r in runs if r.detector.name == "guardianships" for f in r.findings),
        key=lambda f: "ended" in f.summary_en,
    )
    assert "was guardian of" in wide.summary_en and "within 24 hours" in short.summary_en
    assert wide.subject == short.subject and wide.subject.startswith("guardian:")
    assert wide.records == short.records
    # The two refused attempts of many acts leave an official with as many refusals, each
    # naming them: `refused_acts` flags both (the single relative_evidence order may not be).
    assert result.kinds["list_order"].refused_flagged == 1
    assert result.kinds["wrong_basis"].refused_flagged == 1
    assert result.missed == [] and result.recall == 1.0
    assert result.precision >= 0.95, result.false
    # The honest city itself is not refused anywhere.
    honest = [o for i, o in applied.items() if all(i not in a.actions for a in attempts)]
    assert all(o.landed for o in honest)
