"""The ``Idempotency-Key`` header on ``POST /api/v1/orders`` and ``POST /api/v1/me/appeals``
(docs/api.md, "Idempotency"): a retry with the same key and body gets the first answer, status
and body, and writes nothing; the same key with another body is refused with
``idempotency.key_reused`` (409) and writes nothing but the refusal; a malformed key is refused
with ``idempotency.key_invalid`` (422); without the header nothing changes. On SQLite and
PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.counting import counts, refusal_codes
from tests.town import ERQI, Town, days

ORDERS, APPEALS = "/api/v1/orders", "/api/v1/me/appeals"


def headers(town: Town, subject: str, role: str, key: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"Authorization": f"Bearer {town.token(subject, role)}"}
    if key is not None:
        found["Idempotency-Key"] = key.encode()  # UTF-8 bytes: a client sending non-ASCII
    return found


def order_body(town: Town, person: str) -> dict[str, Any]:
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    return {
        "kind": "close_contact_quarantine",
        "legal_basis": "idl-art-41-quarantine",
        "persons": [{"person": person, "evidence": [f"cdc-1/{record['record_id']}"]}],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    }


def refused(town: Town, answer: Any, status: int, code: str, before: dict[str, int]) -> None:
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert set(answer.json()["message"]) == {"zh", "en"}
    assert "detail" not in answer.json() or "k-" not in answer.json()["detail"]  # key not echoed
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db)[-1] == code


def test_an_order_retried_with_its_key_gets_the_first_answer(
    town: Town, client: TestClient
) -> None:
    person = town.person("order-retry")
    body = order_body(town, person)
    official = headers(town, "zz-off-1", "official", key="k-order-1")
    first = client.post(ORDERS, json=body, headers=official)
    assert first.status_code == 200, first.text
    before = counts(town.services.db)
    for _ in range(2):
        again = client.post(ORDERS, json=body, headers=official)
        assert (again.status_code, again.json()) == (200, first.json())
    assert counts(town.services.db) == before  # no second order, log entry or notice
    mine = client.get("/api/v1/me/status", headers=headers(town, person, "person")).json()
    assert [o["id"] for o in mine["orders"]] == [first.json()["orders"][0]["id"]]
    # The same key with another body: refused, nothing written.
    other = {**body, "valid_until": (town.clock.now() + days(9)).isoformat()}
    refused(town, client.post(ORDERS, json=other, headers=official), 409,
            "idempotency.key_reused", before)  # fmt: skip
    # Without the header the same body is issued again, as before this header existed.
    unkeyed = client.post(ORDERS, json=body, headers=headers(town, "zz-off-1", "official"))
    assert unkeyed.status_code == 200
    assert unkeyed.json()["request_id"] != first.json()["request_id"]


def test_an_appeal_retried_with_its_key_gets_the_first_answer(
    town: Town, client: TestClient
) -> None:
    person = town.person("appeal-retry")
    issued = client.post(
        ORDERS, json=order_body(town, person), headers=headers(town, "zz-off-1", "official")
    )
    body = {"target": "order", "ref": issued.json()["orders"][0]["id"], "ground": "not_there"}
    keyed = headers(town, person, "person", key="k-appeal-1")
    first = client.post(APPEALS, json=body, headers=keyed)
    assert first.status_code == 201, first.text
    before = counts(town.services.db)
    quoted = headers(town, person, "person", key='"k-appeal-1"')  # the draft's sf-string form
    for retry in (keyed, quoted):
        again = client.post(APPEALS, json=body, headers=retry)
        assert (again.status_code, again.json()) == (201, first.json())
    assert counts(town.services.db) == before
    listed = client.get(APPEALS, headers=headers(town, person, "person")).json()
    assert [a["id"] for a in listed] == [first.json()["id"]]
    other = {**body, "ground": "not_mine"}
    refused(town, client.post(APPEALS, json=other, headers=keyed), 409,
            "idempotency.key_reused", before)  # fmt: skip
    # Without the header a second appeal against the same order is refused, as before.
    refused(town, client.post(APPEALS, json=body, headers=headers(town, person, "person")), 409,
            "appeal.duplicate", before)  # fmt: skip


@pytest.mark.parametrize("key", ["", "two words", "x" * 129, '"open', "k-é"])
def test_a_malformed_key_is_refused_with_its_own_code(
    town: Town, client: TestClient, key: str
) -> None:
    person = town.person("bad-key")
    body = order_body(town, person)
    before = counts(town.services.db)
    answer = client.post(ORDERS, json=body, headers=headers(town, "zz-off-1", "official", key))
    refused(town, answer, 422, "idempotency.key_invalid", before)
    appeal = {"target": "colour", "ground": "not_there"}
    answer = client.post(APPEALS, json=appeal, headers=headers(town, person, "person", key))
    refused(town, answer, 422, "idempotency.key_invalid", before)


def test_the_header_is_documented_on_both_operations(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (ORDERS, APPEALS):
        [header] = [p for p in spec["paths"][path]["post"]["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and not header["required"]
        assert header["schema"]["type"] == "string" and header["schema"]["pattern"]
