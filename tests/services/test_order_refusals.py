"""A supervisor refuses a pending bulk request (services/order_refusals.py): in one act, for a
reason of the closed list, by the rules of a co-signature; its pending orders are withdrawn by
one ``order_refusal`` entry the self-check rebuilds, and nobody named is affected. On SQLite and
PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update

from healthcode.domain.log_entries import actor_tag
from healthcode.domain.orders import REFUSAL_REASONS
from healthcode.errors import HealthcodeError
from healthcode.oversight.detectors.bursts import ActBursts
from healthcode.oversight.runner import run_detectors
from healthcode.services.orders import (
    APPEAL_REASONS,
    END_REASONS,
    Actor,
    OrderRequest,
    PersonEvidence,
    staff_secret_key,
)
from healthcode.store import tables as t
from healthcode.store.orders import StoredOrder
from tests.counting import counts
from tests.log_rows import stored
from tests.town import ERQI, ZHENGZHOU, Town, days

OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))
SUPERVISOR_1 = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))
SUPERVISOR_2 = Actor("zz-sup-2", "supervisor", "zz-health", frozenset({ZHENGZHOU}))
SHANGHAI = Actor("sh-sup-1", "supervisor", "sh-health", frozenset({"310100"}))


def bulk(town: Town, count: int = 21, by: Actor = OFFICIAL) -> tuple[str, list[str]]:
    """A request naming ``count`` people (over the bulk threshold of 20: it waits), each on a
    contact record of their own; its id and the people."""
    people = [town.person(f"depositor{n}", home=ERQI) for n in range(count)]
    records = [
        town.record("close_contact", p, town.clock.now() - timedelta(hours=2), area=ERQI,
                    case_ref="c-1")
        for p in people
    ]  # fmt: skip
    town.submit("cdc-1", records)
    request = OrderRequest(
        kind="close_contact_quarantine",  # type: ignore[arg-type]
        legal_basis="idl-art-41-quarantine",
        persons=tuple(
            PersonEvidence(p, (f"cdc-1/{r['record_id']}",))
            for p, r in zip(people, records, strict=True)
        ),
        valid_until=town.clock.now() + days(10),
    )
    issued = town.services.orders.issue(by, request, now=town.clock.now())
    assert issued.pending
    return issued.request_id, people


def refused(town: Town, code: str, call: Callable[[], object]) -> None:
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as caught:
        call()
    assert caught.value.code == code
    assert counts(town.services.db) == before  # nothing written: no end, entry or notice


def entries_after(town: Town, size: int) -> list[tuple[int, str, bytes]]:
    with town.services.db.read() as conn:
        return [entry for entry in stored(conn) if entry[0] >= size]


def log_size(town: Town) -> int:
    with town.services.db.read() as conn:
        return len(stored(conn))


def test_refusal_reasons_never_meet_the_reasons_one_order_ends_for() -> None:
    # A refused order is told from its end reason alone (`StoredOrder.refused`, the self-check).
    assert not REFUSAL_REASONS & (END_REASONS | APPEAL_REASONS)


def test_a_supervisor_refuses_a_bulk_request_in_one_act_and_nobody_named_is_affected(
    town: Town,
) -> None:
    town.register_staff()
    request_id, people = bulk(town)
    before_status = {p: town.status(p) for p in people}
    before_history = {p: town.history(p) for p in people}
    before, size = counts(town.services.db), log_size(town)
    town.clock.advance(minutes=5)
    now = town.clock.now()
    done = town.services.order_refusals.refuse(
        SUPERVISOR_2, request_id, reason="not_proportionate", now=now
    )
    assert (done.request_id, done.reason, done.refused_by, done.refused_at) == (
        request_id, "not_proportionate", "zz-sup-2", now,
    )  # fmt: skip
    assert len(done.orders) == 21
    for order in done.orders:
        assert order.refused and order.state(now) == "ended" and order.as_input() is None
        assert (order.end_reason, order.ended_by, order.ended_at, order.end_log_index) == (
            "not_proportionate", "zz-sup-2", now, done.log_index,
        )  # fmt: skip
    # One entry for the whole act, and no status change: pending orders counted for no one.
    [(index, kind, body)] = entries_after(town, size)
    assert (index, kind) == (done.log_index, "order_refusal")
    data = json.loads(body)["data"]
    secret = town.services.secrets.secret(staff_secret_key("zz-sup-2"))
    assert data == {
        "request": request_id, "authority": "zz-health", "reason": "not_proportionate",
        "supervisor": actor_tag(secret, index), "orders": sorted(o.id for o in done.orders),
        "at": now.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    after = counts(town.services.db)
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= {"log_entries", "log_bundles", "log entries", "notices", "person_secrets"}
    assert after["notices"] == before["notices"] + 21
    assert {p: town.status(p) for p in people} == before_status
    assert {p: town.history(p) for p in people} == before_history
    assert town.services.notices.of_person(people[0])[0].step == "refused"
    assert town.services.self_check.run(now=now).ok
    # The official who asked sees the request refused, and why.
    mine = town.services.orders.of_authority(OFFICIAL, now)
    assert {(o.request_id, o.refused, o.end_reason) for o in mine} == {
        (request_id, True, "not_proportionate")
    }


def test_a_refusal_keeps_to_the_rules_of_a_co_signature(town: Town) -> None:
    town.register_staff()
    own, _ = bulk(town, by=SUPERVISOR_1)
    refusals, now = town.services.order_refusals, town.clock.now()
    refused(
        town,
        "order.refuse_self",
        lambda: refusals.refuse(SUPERVISOR_1, own, reason="not_proportionate", now=now),
    )
    refused(
        town,
        "auth.forbidden",
        lambda: refusals.refuse(OFFICIAL, own, reason="not_proportionate", now=now),
    )
    refused(
        town,
        "order.not_found",
        lambda: refusals.refuse(SHANGHAI, own, reason="not_proportionate", now=now),
    )
    refused(
        town,
        "order.not_found",
        lambda: refusals.refuse(SUPERVISOR_2, "req-none", reason="not_proportionate", now=now),
    )
    for reason in ("no_longer_needed", "issued_in_error", "appeal_overturned", "colour"):
        refused(
            town,
            "request.malformed",
            lambda reason=reason: refusals.refuse(SUPERVISOR_2, own, reason=reason, now=now),
        )  # type: ignore[misc]


def test_a_request_no_longer_pending_cannot_be_refused(town: Town) -> None:
    town.register_staff()
    refusals, orders = town.services.order_refusals, town.services.orders
    first, _ = bulk(town)
    now = town.clock.now()
    refusals.refuse(SUPERVISOR_2, first, reason="evidence_insufficient", now=now)
    refused(
        town,
        "order.request_refused",
        lambda: refusals.refuse(SUPERVISOR_1, first, reason="legal_basis_wrong", now=now),
    )
    refused(town, "order.request_refused", lambda: orders.cosign(SUPERVISOR_1, first, now=now))
    # Co-signed: in force, not refusable (an order in force is lifted one by one, with a reason).
    town.clock.advance(days=1)
    second, people = bulk(town)
    orders.cosign(SUPERVISOR_1, second, now=town.clock.now())
    assert town.status(people[0]) == ("red", "quarantine-order")
    refused(
        town,
        "order.not_pending",
        lambda: refusals.refuse(
            SUPERVISOR_2, second, reason="not_proportionate", now=town.clock.now()
        ),
    )
    # Expired before anyone signed it.
    town.clock.advance(days=1)
    third, _ = bulk(town)
    later = town.clock.now() + days(11)
    refused(
        town,
        "order.not_pending",
        lambda: refusals.refuse(SUPERVISOR_2, third, reason="not_proportionate", now=later),
    )


def test_an_order_withdrawn_before_keeps_its_own_end(town: Town) -> None:
    town.register_staff()
    request_id, _ = bulk(town)
    now = town.clock.now()
    [withdrawn, *rest] = town.services.orders.of_authority(OFFICIAL, now, "pending")
    town.services.orders.end(
        OFFICIAL, withdrawn.id, reason="issued_in_error", ends_at=None, now=now
    )
    town.clock.advance(minutes=1)
    done = town.services.order_refusals.refuse(
        SUPERVISOR_1, request_id, reason="request_in_error", now=town.clock.now()
    )
    by_id = {o.id: o for o in done.orders}
    assert (by_id[withdrawn.id].end_reason, by_id[withdrawn.id].refused) == (
        "issued_in_error",
        False,
    )
    assert all(by_id[o.id].refused for o in rest)
    assert town.services.self_check.run(now=town.clock.now()).ok


def _tampered(town: Town, order: StoredOrder, **values: object) -> list[str]:
    with town.services.db.write() as conn:
        conn.execute(update(t.orders).where(t.orders.c.id == order.id).values(**values))
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


@pytest.mark.parametrize(
    ("values", "found"),
    [
        ({"ended_by": "zz-sup-1"}, "do not tell one refusal"),
        ({"end_reason": "evidence_insufficient"}, "do not tell one refusal"),
        ({"end_reason": "no_longer_needed"}, "(order_refusal) does not match the record it logs"),
        ({"ended_at": None}, "do not tell one refusal"),
        ({"end_log_index": None}, "refused with no refusal entry recorded"),
    ],
)
def test_the_self_check_finds_a_refusal_whose_rows_were_changed(
    town: Town, values: dict[str, object], found: str
) -> None:
    town.register_staff()
    request_id, _ = bulk(town)
    done = town.services.order_refusals.refuse(
        SUPERVISOR_2, request_id, reason="not_proportionate", now=town.clock.now()
    )
    assert town.services.self_check.run(now=town.clock.now()).ok
    problems = _tampered(town, done.orders[-1], **values)
    assert any(found in problem for problem in problems), problems


def test_a_refused_request_still_counts_in_its_officials_act_bursts(town: Town) -> None:
    """Refusing a list (DESIGN A1) does not erase that it was asked for: oversight's
    ``act_bursts`` counts the refused orders as the official's acts of that day."""
    town.register_staff()
    town.clock.advance(days=8)  # a week of quiet before: the baseline is its floor
    request_id, _ = bulk(town)
    town.services.order_refusals.refuse(
        SUPERVISOR_2, request_id, reason="evidence_insufficient", now=town.clock.now()
    )
    with town.services.db.read() as conn:
        [run] = run_detectors(conn, now=town.clock.now() + days(1), detectors=[ActBursts()])
    [finding] = run.findings
    assert finding.subject == "official:zz-off-1" and len(finding.records) == 21
