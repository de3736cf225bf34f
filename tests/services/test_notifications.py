"""People are told when their colour, an appeal or an order concerning them moves: a notice per
event, written in the event's own transaction, and nothing for anyone else."""

from __future__ import annotations

import pytest

from healthcode.domain.appeals import AppealTarget, Ground, Outcome
from healthcode.domain.batches import sign_batch
from healthcode.errors import HealthcodeError
from healthcode.services.appeals import Answer, AppealRequest
from tests.services.test_appeals import ZZ_OFFICIAL, contact, positive, quarantined
from tests.town import Town


def steps(town: Town, person: str) -> list[tuple[str, str, str | None]]:
    """The person's notices, oldest first: (kind, step, subject)."""
    found = town.services.notices.of_person(person)
    return [(n.kind, n.step, n.subject) for n in reversed(found)]


def test_a_colour_change_and_its_appeal_are_notified(town: Town) -> None:
    town.register_staff()
    person, bystander = town.person("通知"), town.person("旁人")
    ref = positive(town, person)
    assert steps(town, person) == [("status", "red", None)]
    filed = town.services.appeals.file(
        person,
        AppealRequest(AppealTarget.EVIDENCE, Ground.EVIDENCE_WRONG, ref=ref),
        now=town.clock.now(),
    )
    town.services.appeals.answer(
        ZZ_OFFICIAL, filed.id, Answer(Outcome.OVERTURNED, ()), now=town.clock.now()
    )
    assert steps(town, person) == [
        ("status", "red", None),
        ("appeal", "filed", filed.id),
        ("appeal", "overturned", filed.id),
        ("status", "green", None),
    ]
    assert steps(town, bystander) == []


def test_an_order_is_notified_when_issued_and_when_it_ends(town: Town) -> None:
    town.register_staff()
    person = town.person("隔离")
    order_id = quarantined(town, person)
    assert ("order", "issued", order_id) in steps(town, person)
    assert ("status", "red", None) in steps(town, person)
    town.services.orders.end(
        ZZ_OFFICIAL, order_id, reason="no_longer_needed", ends_at=None, now=town.clock.now()
    )
    assert steps(town, person)[-2:] == [("order", "ended", order_id), ("status", "yellow", None)]


def test_refused_input_notifies_nobody(town: Town) -> None:
    person = town.person("拒收")
    contact(town, person)
    before = steps(town, person)
    bad = town.record("test_result", person, town.clock.now(), method="pcr", result="positive")
    forged = sign_batch(  # lab-1's batch, signed with another source's key
        {"source": "lab-1", "batch_id": "forged", "records": [bad]}, town.keys["cdc-1"].sign
    )
    with pytest.raises(HealthcodeError):
        town.services.intake.submit(forged, now=town.clock.now())
    assert steps(town, person) == before
