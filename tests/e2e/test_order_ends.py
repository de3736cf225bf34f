"""An order's end: what an order is at an instant follows its times, not the last act on it.

An order shortened to a time still ahead is in force until then: it stays on the person's code,
in the authority's list of active orders, open to appeal, and an appeal's lapse or outcome ends
it now. Only an appeal records an appeal's reason for an end. A bulk request nobody co-signed
before it expired cannot be put in force any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from healthcode.errors import InputRejected
from healthcode.services.orders import Actor
from healthcode.store import tables as t
from healthcode.store.orders import ORDER_STATES, in_state, select_orders
from tests.e2e.appeal_steps import (
    answer,
    bearer,
    contact,
    file,
    quarantine,
    refused_without_trace,
)
from tests.town import Town, days

OFFICIAL = ("zz-off-1", "official")


def end(client: TestClient, town: Town, order_id: str, **body: object) -> dict[str, object]:
    answer = client.post(
        f"/api/v1/orders/{order_id}/end", json=body, headers=bearer(town, *OFFICIAL)
    )
    return {"status_code": answer.status_code, **answer.json()}


def listed(client: TestClient, town: Town, status: str) -> set[str]:
    answer = client.get(f"/api/v1/orders?status={status}", headers=bearer(town, *OFFICIAL))
    assert answer.status_code == 200, answer.text
    return {o["id"] for o in answer.json()}


def bulk_request(client: TestClient, town: Town, people: list[str]) -> Any:
    """Quarantine orders for ``people``, each on a contact record, by a supervisor: more
    people than the bulk threshold, so they wait for a second supervisor."""
    body = {
        "kind": "close_contact_quarantine",
        "legal_basis": "idl-art-41-quarantine",
        "persons": [{"person": p, "evidence": [contact(town, p)]} for p in people],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    }
    return client.post("/api/v1/orders", json=body, headers=bearer(town, "zz-sup-1", "supervisor"))


def assert_states_agree(town: Town, *instants: datetime) -> None:
    """The store's SQL (`in_state`) sorts every order as `StoredOrder.state` does."""
    with town.services.db.read() as conn:
        orders = select_orders(conn, select(t.orders))
        for now in instants:
            for state in ORDER_STATES:
                found = set(conn.scalars(select(t.orders.c.id).where(in_state(state, now))))
                assert found == {o.id for o in orders if o.state(now) == state}, (state, now)


def test_an_order_shortened_to_a_time_ahead_stays_in_force_and_an_appeal_still_ends_it(
    town: Town, client: TestClient
) -> None:
    person = town.person("wang")
    order_id = quarantine(town, client, person, contact(town, person))
    town.clock.advance(hours=1)
    later = town.clock.now() + days(3)
    shortened = end(client, town, order_id, reason="shortened", ends_at=later.isoformat())
    assert (shortened["status_code"], shortened["status"]) == (200, "active")
    assert town.status(person) == ("red", "quarantine-order")
    assert order_id in listed(client, town, "active") and order_id not in listed(
        client, town, "ended"
    )
    # Shortened again, never lengthened past the end it has now.
    refused = end(client, town, order_id, reason="shortened", ends_at=(later + days(1)).isoformat())
    assert (refused["status_code"], refused["code"]) == (422, "order.invalid_period")
    earlier = later - days(1)
    assert (
        end(client, town, order_id, reason="shortened", ends_at=earlier.isoformat())["status"]
        == "active"
    )
    # The person may appeal it while it holds, and silence lapses it now, not at its end.
    appeal = file(client, town, person, target="order", ref=order_id, ground="not_there")
    assert appeal.status_code == 201, appeal.text
    town.clock.advance(days=1)
    assert town.services.appeals.lapse_due(town.clock.now()) == 1
    assert town.status(person) == ("yellow", "close-contact")
    assert order_id in listed(client, town, "ended")
    assert_states_agree(
        town, town.clock.now() - days(1), town.clock.now(), earlier, earlier + days(1)
    )
    assert town.services.self_check.run(now=town.clock.now()).ok
    # Every end was an entry the self-check rebuilds from its row: a changed one is found.
    with town.services.db.write() as conn:
        conn.execute(
            update(t.order_earlier_ends)
            .where(t.order_earlier_ends.c.ended_at == earlier)
            .values(ended_at=later)
        )
    problems = town.services.self_check.run(now=town.clock.now(), halt=False).problems
    assert any("(order_end) does not match the record it logs" in p for p in problems), problems


def test_an_official_cannot_claim_an_appeal_ended_an_order(town: Town, client: TestClient) -> None:
    person = town.person("li")
    order_id = quarantine(town, client, person, contact(town, person))
    for reason in ("appeal_lapsed", "appeal_overturned", "appeal_corrected"):
        refused_without_trace(
            town,
            lambda reason=reason: client.post(
                f"/api/v1/orders/{order_id}/end", json={"reason": reason},
                headers=bearer(town, *OFFICIAL),
            ),
            "request.malformed", 422,
        )  # fmt: skip
        with pytest.raises(InputRejected):
            town.services.orders.end(
                Actor("zz-off-1", "official", "zz-health", frozenset()),
                order_id, reason=reason, ends_at=None, now=town.clock.now(),
            )  # fmt: skip
    assert town.status(person) == ("red", "quarantine-order")


def test_what_an_order_is_follows_the_clock(town: Town, client: TestClient) -> None:
    person = town.person("zhao")
    order_id = quarantine(town, client, person, contact(town, person))
    assert order_id in listed(client, town, "active")
    town.clock.advance(days=11)  # past its ten days
    assert order_id not in listed(client, town, "active") and order_id in listed(
        client, town, "ended"
    )
    refused = end(client, town, order_id, reason="no_longer_needed")
    assert (refused["status_code"], refused["code"]) == (409, "order.not_active")
    bogus = client.get("/api/v1/orders?status=over", headers=bearer(town, *OFFICIAL))
    assert (bogus.status_code, bogus.json()["code"]) == (422, "request.malformed")
    assert_states_agree(town, town.clock.now() - days(11), town.clock.now())


def test_a_bulk_request_nobody_cosigned_in_time_cannot_be_cosigned_or_shortened(
    town: Town, client: TestClient
) -> None:
    people = [town.person(f"c{n}") for n in range(25)]
    issued = bulk_request(client, town, people)
    assert issued.json()["pending"] is True
    request_id, first = issued.json()["request_id"], issued.json()["orders"][0]["id"]
    # A pending order is withdrawn, not shortened.
    refused = end(
        client, town, first, reason="shortened", ends_at=(town.clock.now() + days(1)).isoformat()
    )
    assert (refused["status_code"], refused["code"]) == (422, "order.invalid_period")
    town.clock.advance(days=10, minutes=1)
    assert listed(client, town, "pending") == set()
    late = lambda: client.post(  # noqa: E731
        f"/api/v1/orders/requests/{request_id}/cosign",
        headers=bearer(town, "zz-sup-2", "supervisor"),
    )
    refused_without_trace(town, late, "order.not_pending", 409)
    assert_states_agree(town, town.clock.now() - timedelta(days=10), town.clock.now())


def test_two_ends_recorded_at_one_instant_the_earlier_holds(town: Town, client: TestClient) -> None:
    person = town.person("sun")
    order_id = quarantine(town, client, person, contact(town, person))
    now = town.clock.now()
    for ahead in (days(3), days(1)):
        shortened = end(
            client, town, order_id, reason="shortened", ends_at=(now + ahead).isoformat()
        )
        assert shortened["status"] == "active"
    town.clock.advance(days=2)
    assert town.status(person) == ("yellow", "close-contact")
    assert order_id in listed(client, town, "ended")
    assert_states_agree(town, now, now + days(1), now + days(3))


def test_the_self_check_finds_an_order_whose_row_is_not_its_last_end(
    town: Town, client: TestClient
) -> None:
    person = town.person("qian")
    order_id = quarantine(town, client, person, contact(town, person))
    now = town.clock.now()
    end(client, town, order_id, reason="shortened", ends_at=(now + days(3)).isoformat())
    town.clock.advance(hours=1)
    end(client, town, order_id, reason="shortened", ends_at=(now + days(1)).isoformat())
    assert town.services.self_check.run(now=town.clock.now()).ok
    # The row and its earlier end swapped, each entry still matching its own row.
    with town.services.db.write() as conn:
        [row] = conn.execute(select(t.orders).where(t.orders.c.id == order_id)).all()
        [old] = conn.execute(select(t.order_earlier_ends)).all()
        conn.execute(
            update(t.orders).where(t.orders.c.id == order_id).values(
                ended_at=old.ended_at, ended_recorded_at=old.recorded_at, end_reason=old.reason,
                ended_by=old.ended_by, end_log_index=old.log_index,
            )
        )  # fmt: skip
        conn.execute(
            update(t.order_earlier_ends).values(
                ended_at=row.ended_at, recorded_at=row.ended_recorded_at, reason=row.end_reason,
                ended_by=row.ended_by, log_index=row.end_log_index,
            )
        )  # fmt: skip
    problems = town.services.self_check.run(now=town.clock.now(), halt=False).problems
    assert problems == [
        f"order {order_id}: its ends do not follow one another (the row holds the last"
        " recorded, and each end is earlier than the one it replaced)"
    ]


def test_an_appeal_won_after_the_order_ended_still_keeps_its_evidence_from_a_new_order(
    town: Town, client: TestClient
) -> None:
    person = town.person("zhou2")
    evidence = contact(town, person)
    order_id = quarantine(town, client, person, evidence)
    end(
        client,
        town,
        order_id,
        reason="shortened",
        ends_at=(town.clock.now() + days(0.25)).isoformat(),
    )
    appeal = file(client, town, person, target="order", ref=order_id, ground="not_there").json()
    town.clock.advance(hours=8)  # the order is over; the appeal is not answered yet
    won = answer(client, town, appeal["id"], outcome="overturned")
    assert won.status_code == 200, won.text
    again = {
        "kind": "close_contact_quarantine",
        "legal_basis": "idl-art-41-quarantine",
        "persons": [{"person": person, "evidence": [evidence]}],
        "valid_until": (town.clock.now() + days(5)).isoformat(),
    }
    refused_without_trace(
        town,
        lambda: client.post("/api/v1/orders", json=again, headers=bearer(town, *OFFICIAL)),
        "order.evidence_set_aside", 422,
    )  # fmt: skip


def test_withdrawing_one_order_of_a_bulk_request_leaves_the_rest_to_cosign(
    town: Town, client: TestClient
) -> None:
    people = [town.person(f"w{n}") for n in range(25)]
    issued = bulk_request(client, town, people)
    request_id, orders = issued.json()["request_id"], issued.json()["orders"]
    withdrawn = end(client, town, orders[0]["id"], reason="issued_in_error")
    assert (withdrawn["status_code"], withdrawn["status"]) == (200, "ended")
    cosigned = client.post(
        f"/api/v1/orders/requests/{request_id}/cosign",
        headers=bearer(town, "zz-sup-2", "supervisor"),
    )
    assert cosigned.status_code == 200, cosigned.text
    states = {o["id"]: o["status"] for o in cosigned.json()["orders"]}
    assert states == {o["id"]: "ended" if o is orders[0] else "active" for o in orders}
    withdrawn_person = next(o["person_key"] for o in orders if o is orders[0])
    assert {town.status(p)[0] for p in people if p != withdrawn_person} == {"red"}
    assert town.status(withdrawn_person) == ("yellow", "close-contact")
    assert_states_agree(town, town.clock.now(), town.clock.now() + days(11))
    assert town.services.self_check.run(now=town.clock.now()).ok
