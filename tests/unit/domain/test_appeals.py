"""The pure rules of appeals: the policy's deadlines, closed grounds and outcomes, and the
public statistics (suppression of small cells, median and nearest-rank 90th percentile)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from healthcode.domain.appeals import (
    AppealFact,
    AppealPolicyError,
    AppealStatus,
    AppealTarget,
    Ground,
    ItemKind,
    Outcome,
    authority_statistics,
    check_answer,
    check_ground,
    load_appeal_policy,
    nearest_rank,
)
from healthcode.errors import InputRejected
from healthcode.services.policy import appeal_policy, order_policy

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def test_the_shipped_policy_has_a_deadline_for_every_kind() -> None:
    policy = appeal_policy()
    assert policy.deadlines == {
        AppealTarget.COLOUR: timedelta(hours=24),
        AppealTarget.ORDER: timedelta(hours=24),
        AppealTarget.EVIDENCE: timedelta(hours=48),
    }
    assert policy.min_cell == 10
    assert policy.deadline(AppealTarget.ORDER, T0) == T0 + timedelta(hours=24)
    assert order_policy().bulk_threshold_people == 20  # the orders section still loads


@pytest.mark.parametrize(
    "source",
    [
        {"deadline_hours": {"colour": 24, "order": 24}, "statistics_min_cell": 10},
        {"deadline_hours": {"colour": 0, "order": 24, "evidence": 1}, "statistics_min_cell": 10},
        {"deadline_hours": {"colour": 1, "order": 1, "evidence": 1}, "statistics_min_cell": 0},
        {"deadline_hours": {"colour": 1, "order": 1, "evidence": 1}, "statistics_min_cell": 10,
         "conditions": ["sign a pledge"]},
    ],
)  # fmt: skip
def test_a_policy_without_a_deadline_or_with_extras_is_refused(source: dict[str, object]) -> None:
    with pytest.raises(AppealPolicyError):
        load_appeal_policy(source)


def test_only_other_carries_a_text() -> None:
    check_ground(AppealTarget.ORDER, Ground.NOT_THERE, None)
    check_ground(AppealTarget.COLOUR, Ground.OTHER, "I was at work")
    for target, ground, text in [
        (AppealTarget.ORDER, Ground.OTHER, None),
        (AppealTarget.ORDER, Ground.OTHER, "  "),
        (AppealTarget.ORDER, Ground.OTHER, "x" * 281),
        (AppealTarget.ORDER, Ground.NOT_MINE, "text"),
        (AppealTarget.EVIDENCE, Ground.ORDER_EXPIRED, None),
    ]:
        with pytest.raises(InputRejected) as refused:
            check_ground(target, ground, text)
        assert refused.value.code == "appeal.ground_invalid"


def test_each_outcome_takes_exactly_what_it_needs() -> None:
    check_answer(Outcome.UPHELD, ItemKind.ORDER, ["a/b"], None)
    check_answer(Outcome.OVERTURNED, ItemKind.EVIDENCE, [], None)
    check_answer(Outcome.CORRECTED, ItemKind.ORDER, [], T0)
    check_answer(Outcome.CORRECTED, ItemKind.ORDER, ["a/b"], None)
    check_answer(Outcome.CORRECTED, ItemKind.EVIDENCE, ["a/b"], None)
    refusals = [
        (Outcome.UPHELD, ItemKind.ORDER, [], None, "appeal.evidence_missing"),
        (Outcome.UPHELD, ItemKind.ORDER, ["a/b"], T0, "appeal.answer_invalid"),
        (Outcome.OVERTURNED, ItemKind.ORDER, ["a/b"], None, "appeal.answer_invalid"),
        (Outcome.OVERTURNED, ItemKind.ORDER, [], T0, "appeal.answer_invalid"),
        (Outcome.CORRECTED, ItemKind.ORDER, [], None, "appeal.answer_invalid"),
        (Outcome.CORRECTED, ItemKind.EVIDENCE, [], T0, "appeal.answer_invalid"),
        (Outcome.UPHELD, ItemKind.ORDER, ["a/b", "a/b"], None, "appeal.citation_invalid"),
    ]
    for outcome, item, evidence, ends_at, code in refusals:
        with pytest.raises(InputRejected) as refused:
            check_answer(outcome, item, evidence, ends_at)
        assert refused.value.code == code, (outcome, item, evidence, ends_at)


def fact(status: AppealStatus, hours: float | None, authority: str = "a") -> AppealFact:
    answered = None if hours is None else T0 + timedelta(hours=hours)
    return AppealFact(authority, status, T0, answered, escalated=False)


def test_statistics_suppress_cells_below_ten_and_report_times_to_answer() -> None:
    facts = [fact(AppealStatus.OVERTURNED, h) for h in range(1, 11)]
    facts += [fact(AppealStatus.LAPSED, None) for _ in range(3)]
    facts += [fact(AppealStatus.UPHELD, 100, authority="b")]
    [a, b, c] = authority_statistics(facts, ["a", "b", "c"], min_cell=10)
    assert (a.filed, a.overturned, a.lapsed, a.upheld, a.answered) == (13, 10, "<10", "<10", 10)
    assert a.median_seconds_to_answer == 5.5 * 3600
    assert a.p90_seconds_to_answer == 9 * 3600
    assert (b.filed, b.median_seconds_to_answer, b.p90_seconds_to_answer) == ("<10", None, None)
    assert (c.filed, c.open) == ("<10", "<10")  # an authority with no appeal is listed too


def test_nearest_rank() -> None:
    assert nearest_rank([5, 1, 3, 2, 4], 0.9) == 5
    assert nearest_rank(list(range(1, 21)), 0.9) == 18
    assert nearest_rank([7], 0.9) == 7


def test_statistics_totals_never_give_a_hidden_count_away() -> None:
    # Zhengzhou's row in the demo: 126 upheld, 45 overturned, 1 corrected, answered 172. With
    # "answered" and the two others shown, the one correction was 172 - 126 - 45 = 1.
    facts = [fact(AppealStatus.UPHELD, 2) for _ in range(126)]
    facts += [fact(AppealStatus.OVERTURNED, 2) for _ in range(45)]
    facts += [fact(AppealStatus.CORRECTED, 2)]
    facts += [fact(AppealStatus.OPEN, None) for _ in range(10)]
    [a] = authority_statistics(facts, ["a"], min_cell=10)
    filed = ("open", "upheld", "overturned", "corrected", "lapsed")
    for total, members in (("filed", filed), ("answered", ("upheld", "overturned", "corrected"))):
        shown = [getattr(a, name) for name in (total, *members)]
        assert sum(isinstance(value, str) for value in shown) != 1, (total, shown)
    assert (a.corrected, a.lapsed) == ("<10", "<10")
    assert a.upheld == 126 and a.answered == 172  # one more hidden, as little as it takes
