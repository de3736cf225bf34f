"""Idempotency keys of orders and appeals (services/idempotency.py): a retry with the same key
and the same request answers with what the first one made and writes nothing (no order, no
appeal, no log entry, no notice); the same key with another request is refused and writes
nothing; keys are the caller's own; a refused write does not use up its key; without a key
nothing changes; old keys go with the retention purge. On SQLite and PostgreSQL (the ``town``
fixture runs on both)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select

from healthcode.domain.appeals import AppealTarget, Ground
from healthcode.errors import HealthcodeError
from healthcode.services.appeals import AppealRequest
from healthcode.services.orders import Actor, OrderRequest, PersonEvidence
from healthcode.store import tables as t
from tests.counting import counts
from tests.town import ERQI, ZHENGZHOU, Town, days

ZZ_OFFICIAL = Actor("zz-off-1", "official", "zz-health", frozenset({ZHENGZHOU}))
ZZ_SUPERVISOR = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))


def contact(town: Town, person: str) -> str:
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    return f"cdc-1/{record['record_id']}"


def quarantine(town: Town, person: str, evidence: str) -> OrderRequest:
    return OrderRequest(
        kind="close_contact_quarantine",  # type: ignore[arg-type]
        legal_basis="idl-art-41-quarantine",
        persons=(PersonEvidence(person, (evidence,)),),
        valid_until=town.clock.now() + days(10),
    )


def refused(code: str, call: object, town: Town) -> None:
    before = counts(town.services.db)
    with pytest.raises(HealthcodeError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code
    assert counts(town.services.db) == before  # nothing written, not even the key


def keys(town: Town) -> int:
    with town.services.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(t.idempotency_keys)) or 0)


def test_an_order_retried_with_its_key_is_issued_once(town: Town) -> None:
    town.register_staff()
    orders, now = town.services.orders, town.clock.now()
    person = town.person("retried")
    request = quarantine(town, person, contact(town, person))
    first = orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="order-1")
    assert town.status(person)[0] == "red" and keys(town) == 1
    after_first = counts(town.services.db)
    # The answer was lost; the client retries, later, with the same key and the same request
    # (its instant written with another offset is the same request).
    town.clock.advance(minutes=3)
    shanghai = timezone(timedelta(hours=8))
    again = replace(request, valid_until=request.valid_until.astimezone(shanghai))
    for retry in (request, again):
        replayed = orders.issue(ZZ_OFFICIAL, retry, now=town.clock.now(), idempotency_key="order-1")
        assert replayed == first
    assert counts(town.services.db) == after_first  # no order, log entry, notice or status change
    with town.services.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(t.orders)) == 1
    # The draft's structured-field form of the same key is the same key.
    assert orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key='"order-1"') == first


def test_a_key_reused_for_another_order_is_refused_and_writes_nothing(town: Town) -> None:
    town.register_staff()
    orders, now = town.services.orders, town.clock.now()
    person, other = town.person("first"), town.person("second")
    request = quarantine(town, person, contact(town, person))
    orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="k")
    another = quarantine(town, other, contact(town, other))
    refused("idempotency.key_reused", lambda: orders.issue(
        ZZ_OFFICIAL, another, now=now, idempotency_key="k"), town)  # fmt: skip
    longer = replace(request, valid_until=request.valid_until + timedelta(days=1))
    refused("idempotency.key_reused", lambda: orders.issue(
        ZZ_OFFICIAL, longer, now=now, idempotency_key="k"), town)  # fmt: skip
    assert town.status(other) == ("yellow", "close-contact")  # the contact alone: no order
    # Keys are the caller's own: another official's "k" is a new request.
    theirs = orders.issue(ZZ_SUPERVISOR, another, now=now, idempotency_key="k")
    assert theirs.orders[0].person_key == other and keys(town) == 2


def test_without_a_key_a_retry_issues_again_and_a_refused_write_keeps_its_key_free(
    town: Town,
) -> None:
    town.register_staff()
    orders, now = town.services.orders, town.clock.now()
    person = town.person("twice")
    request = quarantine(town, person, contact(town, person))
    assert orders.issue(ZZ_OFFICIAL, request, now=now) != orders.issue(
        ZZ_OFFICIAL, request, now=now
    )
    assert keys(town) == 0
    unknown = replace(request, persons=(PersonEvidence(person, ("cdc-1/no-such-record",)),))
    refused("order.evidence_unknown", lambda: orders.issue(
        ZZ_OFFICIAL, unknown, now=now, idempotency_key="k-2"), town)  # fmt: skip
    # The refused request wrote no key: the key is free for the corrected request.
    issued = orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="k-2")
    assert orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="k-2") == issued


@pytest.mark.parametrize("key", ["", "has space", "x" * 129, '"unbalanced', "中文", "a\nb"])
def test_an_invalid_key_is_refused_and_writes_nothing(town: Town, key: str) -> None:
    town.register_staff()
    person = town.person("p")
    request = quarantine(town, person, contact(town, person))
    refused("idempotency.key_invalid", lambda: town.services.orders.issue(
        ZZ_OFFICIAL, request, now=town.clock.now(), idempotency_key=key), town)  # fmt: skip
    appeal = AppealRequest(AppealTarget.COLOUR, Ground.NOT_THERE)
    refused("idempotency.key_invalid", lambda: town.services.appeals.file(
        person, appeal, now=town.clock.now(), idempotency_key=key), town)  # fmt: skip


def test_a_pending_bulk_order_replays_as_it_stands(town: Town) -> None:
    town.register_staff()
    orders, now = town.services.orders, town.clock.now()
    people = [town.person(f"crowd{n}") for n in range(21)]  # over the threshold of 20
    request = replace(
        quarantine(town, people[0], contact(town, people[0])),
        persons=tuple(PersonEvidence(p, (contact(town, p),)) for p in people),
    )
    first = orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="bulk")
    assert first.pending
    assert orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="bulk") == first
    orders.cosign(ZZ_SUPERVISOR, first.request_id, now=now)
    later = orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="bulk")
    assert later.request_id == first.request_id and not later.pending
    assert [o.id for o in later.orders] == [o.id for o in first.orders]


def test_an_appeal_retried_with_its_key_is_filed_once(town: Town) -> None:
    town.register_staff()
    appeals, now = town.services.appeals, town.clock.now()
    person = town.person("appellant")
    order_id = (
        town.services.orders.issue(ZZ_OFFICIAL, quarantine(town, person, contact(town, person)),
                                   now=now).orders[0].id
    )  # fmt: skip
    request = AppealRequest(AppealTarget.ORDER, Ground.NOT_THERE, ref=order_id)
    first = appeals.file(person, request, now=now, idempotency_key="appeal-1")
    before = counts(town.services.db)
    town.clock.advance(minutes=1)
    assert appeals.file(person, request, now=town.clock.now(), idempotency_key="appeal-1") == first
    assert counts(town.services.db) == before  # no second appeal, log entry or notice
    # Without the key the same request is a second appeal against the same order: refused.
    refused("appeal.duplicate", lambda: appeals.file(person, request, now=now), town)
    # The same key with another request is refused.
    other = replace(request, ground=Ground.OTHER, text="I was at home")
    refused("idempotency.key_reused", lambda: appeals.file(
        person, other, now=now, idempotency_key="appeal-1"), town)  # fmt: skip
    # Another person's "appeal-1" is theirs.
    someone = town.person("someone")
    town.services.orders.issue(
        ZZ_OFFICIAL, quarantine(town, someone, contact(town, someone)), now=now
    )
    theirs = appeals.file(
        someone, AppealRequest(AppealTarget.COLOUR, Ground.NOT_THERE), now=now,
        idempotency_key="appeal-1",
    )  # fmt: skip
    assert theirs.id != first.id and theirs.person_key == someone


def test_keys_older_than_the_retention_period_are_purged(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    person = town.person("old")
    request = quarantine(town, person, contact(town, person))
    town.services.orders.issue(ZZ_OFFICIAL, request, now=now, idempotency_key="old-key")
    assert keys(town) == 1
    town.clock.set(now + days(30))
    assert town.services.retention.purge(town.clock.now()).idempotency_keys == 0
    assert keys(town) == 1
    town.clock.set(now + days(61))
    assert town.services.retention.purge(town.clock.now()).idempotency_keys == 1
    assert keys(town) == 0
