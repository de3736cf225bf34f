"""What a purge may remove (``domain.retention``): under a rule that lasts until clearing
evidence and no longer, a trigger stays while nothing clears it and a clearing stays while a
trigger it may end stays; the period must be longer than every rule that lasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from healthcode.domain.retention import (
    Record,
    RetentionPolicy,
    RetentionTooShort,
    check_policy,
    load_retention_policy,
    open_ended_rules,
    positions_digest,
    still_in_use,
)
from healthcode.domain.rulebook import load_rulebook
from healthcode.services.rulebooks import default_edition_source

T = datetime(2026, 1, 1, tzinfo=UTC)
EDITION = load_rulebook(default_edition_source())
RULES = open_ended_rules([EDITION])


def rec(ref: str, kind: str, day: float, **attributes: object) -> Record:
    source, record = ref.split("/")
    return Record(source, record, "p", kind, T + timedelta(days=day), attributes)


def positive(ref: str, day: float) -> Record:
    return rec(ref, "test_result", day, method="pcr", result="positive")


def recovery(ref: str, day: float) -> Record:
    return rec(ref, "recovery", day)


def keep(history: list[Record], purgeable: set[str], disputed: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    return still_in_use(
        purgeable, {"p": history}, RULES, lambda r: r.ref in disputed, T + timedelta(days=100)
    )


def test_edition_one_has_one_open_ended_rule() -> None:
    assert [(r.rule_id, r.trigger_kind, r.clearing_kind) for r in RULES] == [
        ("confirmed-case", "test_result", "recovery")
    ]


def test_an_uncleared_trigger_stays_and_a_cleared_one_goes() -> None:
    assert keep([positive("l/a", 0)], {"l/a"}) == {"l/a"}
    history = [positive("l/a", 0), recovery("l/b", 5)]
    assert keep(history, {"l/a", "l/b"}) == set()  # both go: the episode is gone either way
    assert keep(history, {"l/a"}) == set()
    # A recovery before the test clears nothing.
    assert keep([recovery("l/b", 0), positive("l/a", 5)], {"l/a", "l/b"}) == {"l/a"}
    # A negative test is no trigger; other kinds are never needed.
    assert keep([rec("l/n", "test_result", 0, method="pcr", result="negative")], {"l/n"}) == set()


def test_a_clearing_stays_while_a_trigger_it_ends_stays() -> None:
    # The trigger stays (held, or received late): its recovery must stay too.
    history = [positive("l/a", 0), recovery("l/b", 5)]
    assert keep(history, {"l/b"}) == {"l/b"}
    # A later trigger is not ended by an earlier recovery: that recovery may go.
    history = [recovery("l/b", 0), positive("l/a", 5), recovery("l/c", 9)]
    assert keep(history, {"l/b", "l/c"}) == {"l/c"}


def test_a_disputed_clearing_is_not_relied_on() -> None:
    history = [positive("l/a", 0), recovery("l/b", 5)]
    assert keep(history, {"l/a", "l/b"}, disputed={"l/b"}) == {"l/a", "l/b"}


def test_the_period_must_be_longer_than_every_rule_that_lasts() -> None:
    policy = RetentionPolicy(evidence_days=14, run_every=timedelta(hours=1), batch_records=10)
    with pytest.raises(RetentionTooShort, match="lasts 14 days"):
        check_policy(policy, [EDITION])
    check_policy(RetentionPolicy(15, timedelta(hours=1), 10), [EDITION])
    assert load_retention_policy(
        {"evidence_days": 60, "run_every_minutes": 60, "batch_records": 5000}
    ) == RetentionPolicy(60, timedelta(hours=1), 5000)
    for bad in ({}, {"evidence_days": 0, "run_every_minutes": 1, "batch_records": 1},
                {"evidence_days": "60", "run_every_minutes": 1, "batch_records": 1}):  # fmt: skip
        with pytest.raises(ValueError):
            load_retention_policy(bad)


def test_the_positions_digest_does_not_depend_on_order() -> None:
    one = positions_digest([("s", "b1", [2, 0]), ("s", "b0", [1])])
    assert one == positions_digest([("s", "b0", [1]), ("s", "b1", [0, 2])])
    assert one != positions_digest([("s", "b0", [1]), ("s", "b1", [0])])
