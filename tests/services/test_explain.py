"""What a person is shown behind their colour: the evidence the rule cites, and the evidence each
order cites, each with its kind, time and accountable authority (invariant 1, A3, A5)."""

from __future__ import annotations

from datetime import timedelta

from tests.services.test_appeals import ZZ_OFFICIAL, quarantine
from tests.town import Town


def test_a_quarantined_person_sees_the_evidence_their_order_cites(town: Town) -> None:
    town.register_staff()
    person = town.person("隔离者")
    ref, order_id = quarantine(town, person)
    view = town.services.explanations.explain(person, now=town.clock.now())
    assert (str(view.status.colour), view.status.rule_id) == ("red", "quarantine-order")
    assert view.status.inputs == (f"order:{order_id}",)
    [item] = view.evidence
    assert item.ref == ref and item.kind == "close_contact"
    assert item.authority.id == "zz-health" and item.authority.zh == "郑州市卫健委"
    assert item.occurred_at == town.clock.now() - timedelta(hours=2)
    assert item.cited_by_orders == (order_id,)
    # The order shows the same record with what it is, not a bare reference.
    [order] = view.orders
    assert [e.ref for e in order.cited] == [ref] and order.cited[0].kind == "close_contact"


def test_evidence_a_rule_cites_directly_is_cited_by_no_order(town: Town) -> None:
    person = town.person("阳性者")
    town.test(person, town.clock.now() - timedelta(hours=1), "positive")
    view = town.services.explanations.explain(person, now=town.clock.now())
    [item] = view.evidence
    assert item.kind == "test_result" and item.cited_by_orders == ()
    assert view.orders == []


def test_an_ended_orders_evidence_is_shown_with_the_order_not_behind_the_colour(
    town: Town,
) -> None:
    town.register_staff()
    person = town.person("解除者")
    ref, order_id = quarantine(town, person)
    town.services.orders.end(
        ZZ_OFFICIAL, order_id, reason="no_longer_needed", ends_at=None, now=town.clock.now()
    )
    view = town.services.explanations.explain(person, now=town.clock.now())
    assert view.status.rule_id == "close-contact"  # the contact itself still counts, yellow
    [item] = view.evidence
    assert item.ref == ref and item.cited_by_orders == ()  # cited by the rule, not the order
    [order] = view.orders
    assert order.status == "ended" and [e.ref for e in order.cited] == [ref]
