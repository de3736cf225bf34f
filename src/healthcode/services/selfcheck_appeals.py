"""The entries the self-check expects for appeals, rebuilt from their rows: filed, answered,
lapsed, escalated; and every set-aside of one record for one person must be the outcome of
exactly the appeal whose entry it points at (an appeal is the only way to make one)."""

from __future__ import annotations

from sqlalchemy import Connection

from healthcode.domain.appeal_entries import (
    appeal_answered_entry,
    appeal_escalated_entry,
    appeal_filed_entry,
    appeal_lapsed_entry,
)
from healthcode.services.escrow import PersonSecrets
from healthcode.services.orders import staff_secret_key
from healthcode.store import appeals as appeals_repo

Expected = dict[int, tuple[str, bytes]]
SET_ASIDE_REASONS = {
    "answered": ("appeal_overturned", "appeal_corrected"),
    "lapsed": ("appeal_lapsed",),
}


def expected_appeals(conn: Connection, secrets: PersonSecrets) -> tuple[Expected, list[str]]:
    """(index -> (kind, bytes)) for every appeal step, and the problems found on the way."""
    expected: Expected = {}
    problems: list[str] = []
    asides = {int(row.log_index): row for row in appeals_repo.person_set_asides(conn)}
    appeals = {appeal.id: appeal for appeal in appeals_repo.every(conn)}
    for appeal in appeals.values():
        secret = secrets.secret(appeal.person_key)
        expected[appeal.log_index] = ("appeal_filed", appeal_filed_entry(
            index=appeal.log_index, person_secret=secret, appeal_id=appeal.id,
            by_guardian=appeal.filed_by != appeal.person_key, target=appeal.target,
            order_id=appeal.order_id,
            evidence=appeal.evidence_ref, colour=appeal.colour, rule_id=appeal.rule_id,
            ground=appeal.ground, text=appeal.text, authority_id=appeal.authority_id,
            filed_at=appeal.filed_at, deadline=appeal.deadline,
        ))  # fmt: skip
        steps = []
        if appeal.answer_log_index is not None:
            assert appeal.answered_at is not None and appeal.answered_by is not None
            index = appeal.answer_log_index
            steps.append(("answered", index))
            expected[index] = ("appeal_answered", appeal_answered_entry(
                index=index, person_secret=secret,
                official_secret=secrets.secret(staff_secret_key(appeal.answered_by)),
                appeal_id=appeal.id, authority_id=appeal.authority_id, outcome=appeal.status,
                evidence=appeal.cited, ends_at=appeal.ends_at,
                replacement_order=appeal.replacement_order_id, set_aside=index in asides,
                answered_at=appeal.answered_at,
            ))  # fmt: skip
        if appeal.lapse_log_index is not None:
            assert appeal.lapsed_at is not None
            index = appeal.lapse_log_index
            steps.append(("lapsed", index))
            expected[index] = ("appeal_lapsed", appeal_lapsed_entry(
                index=index, person_secret=secret, appeal_id=appeal.id,
                authority_id=appeal.authority_id, deadline=appeal.deadline,
                set_aside=index in asides, lapsed_at=appeal.lapsed_at,
            ))  # fmt: skip
        for step, index in steps:
            aside = asides.pop(index, None)
            if aside is None:
                continue
            if (
                appeal.record_id is None
                or (aside.person_key, aside.source_id, aside.record_id)
                != (appeal.person_key, appeal.source_id, appeal.record_id)
                or aside.reason not in SET_ASIDE_REASONS[step]
            ):
                problems.append(
                    f"set-aside at entry {index} is not what appeal {appeal.id} decided"
                )
    for index in sorted(asides):
        problems.append(f"a set-aside of one person's evidence (entry {index}) has no appeal")
    for case in appeals_repo.cases(conn):  # escalated appeals' only; findings': oversight's
        escalated = appeals.get(case.appeal_id) if case.appeal_id else None
        if escalated is None or case.person_key is None:
            problems.append(f"oversight case {case.id} names no appeal")
            continue
        expected[case.log_index] = ("appeal_escalated", appeal_escalated_entry(
            index=case.log_index, person_secret=secrets.secret(case.person_key),
            appeal_id=escalated.id, case_id=case.id, authority_id=escalated.authority_id,
            at=case.opened_at,
        ))  # fmt: skip
    return expected, problems
