"""The entries the self-check expects for oversight, rebuilt from its rows: the case each
finding opened, and every step of every case; and each case's stored status must be where its
logged steps took it (a status changed without a step is a change nobody logged)."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.oversight import Finding
from healthcode.domain.oversight.cases import CaseStatus, allowed
from healthcode.services.escrow import PersonSecrets
from healthcode.services.oversight import finding_entry_for, step_entry_for
from healthcode.store import oversight as oversight_repo

Expected = dict[int, tuple[str, bytes]]


def expected_oversight(conn: Connection, secrets: PersonSecrets) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes)) for every finding's case and every step, and the problems."""
    expected: Expected = {}
    problems: list[str] = []
    findings = {finding.id: finding for finding in oversight_repo.findings(conn)}
    steps = oversight_repo.steps_by_case(conn)
    opened: set[str] = set()
    for case in oversight_repo.cases(conn):
        if case.finding_id is not None:
            finding = findings.get(case.finding_id)
            if finding is None or case.appeal_id is not None:
                problems.append(f"oversight case {case.id} names no finding, or an appeal too")
                continue
            opened.add(finding.id)
            expected[case.log_index] = (
                "oversight_finding",
                finding_entry_for(case, finding, secrets),
            )
        elif case.appeal_id is None:
            problems.append(f"oversight case {case.id} names neither an appeal nor a finding")
        current, conclusion = CaseStatus.OPEN.value, None
        for step in steps.pop(case.id, []):
            expected[step.log_index] = (
                "oversight_case_step",
                step_entry_for(step, current, secrets),
            )
            if not allowed(current, step.status):
                problems.append(f"oversight case {case.id}: step {step.seq} is not a transition")
            current = step.status
            conclusion = step.note if current == CaseStatus.CLOSED.value else None
        if (case.status, case.conclusion) != (current, conclusion):
            problems.append(
                f"oversight case {case.id} is {case.status}, but its logged steps say {current}"
            )
    for case_id in sorted(steps):
        problems.append(f"steps of oversight case {case_id}, which does not exist")
    for finding in findings.values():
        if finding.id not in opened:
            problems.append(f"finding {finding.id} opened no case")
        if _fingerprint(finding) != finding.fingerprint:
            problems.append(f"finding {finding.id}: its rows no longer match its fingerprint")
    return expected, problems


def _fingerprint(finding: oversight_repo.StoredFinding) -> str | None:
    try:
        return Finding(
            finding.detector, finding.subject, finding.summary_zh, finding.summary_en,
            finding.score, finding.window_from, finding.window_to, finding.records,
        ).fingerprint  # fmt: skip
    except ValueError:
        return None
