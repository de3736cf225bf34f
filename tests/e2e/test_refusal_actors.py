"""A refused staff act names the staff member who tried it (badge, role, authority), through the
API and the console's forms alike; a person's refusal names nobody, and no refusal keeps what
the request said (invariant 10). On SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from healthcode.domain.designations import RiskLevel
from healthcode.store.tables import refusals
from healthcode.web.app import create_app
from tests.counting import counts
from tests.e2e.test_orders_http import contact, order
from tests.http import bearer
from tests.services.test_order_refusals import SUPERVISOR_1, bulk
from tests.town import ERQI, Town, days


def refusal_rows(town: Town) -> list[dict[str, Any]]:
    with town.services.db.read() as conn:
        rows = conn.execute(select(refusals).order_by(refusals.c.id)).mappings().all()
    return [{k: v for k, v in row.items() if k not in ("id", "at")} for row in rows]


def test_a_refused_order_through_the_api_names_the_official(town: Town, client: TestClient) -> None:
    parent, child = town.person("parent"), town.person("child")
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    body = order("close_contact_quarantine", "idl-art-41-quarantine",
                 [(child, [contact(town, parent)])], town)  # fmt: skip
    before = counts(town.services.db)
    answer = client.post("/api/v1/orders", json=body, headers=bearer(town, "zz-off-1", "official"))
    assert answer.json()["code"] == "order.evidence_not_theirs"
    assert counts(town.services.db) == before  # still nothing written but the refusal
    assert refusal_rows(town) == [{
        "code": "order.evidence_not_theirs", "route": "/api/v1/orders", "source_id": None,
        "actor_id": "zz-off-1", "actor_role": "official", "actor_authority": "zz-health",
    }]  # fmt: skip
    assert child not in repr(refusal_rows(town)) and parent not in repr(refusal_rows(town))


def test_a_hotline_trying_an_official_act_is_named_too(town: Town, client: TestClient) -> None:
    body = order(
        "close_contact_quarantine", "idl-art-41-quarantine", [(town.person("p"), [])], town
    )
    answer = client.post("/api/v1/orders", json=body, headers=bearer(town, "hl-erqi", "hotline"))
    assert answer.json()["code"] == "auth.forbidden"
    [row] = refusal_rows(town)
    assert (row["actor_id"], row["actor_role"], row["actor_authority"]) == (
        "hl-erqi", "hotline", "zz-health",
    )  # fmt: skip


def test_a_refused_order_from_the_console_names_the_official(town: Town) -> None:
    town.register_staff()
    console = TestClient(create_app(town.services, run_scheduler=False))
    console.cookies.set("hc_staff", town.token("zz-sup-1", "supervisor"))
    form = {"kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine",
            "persons": f"{town.person('p')}\n", "valid_until": "2026-06-05T15:00"}  # fmt: skip
    assert console.post("/official/orders", data=form).status_code == 422
    assert refusal_rows(town) == [{
        "code": "order.evidence_missing", "route": "/official/orders", "source_id": None,
        "actor_id": "zz-sup-1", "actor_role": "supervisor", "actor_authority": "zz-health",
    }]  # fmt: skip


def test_a_persons_refusal_names_nobody(town: Town, client: TestClient) -> None:
    person = town.person("someone")
    answer = client.post(
        "/api/v1/me/appeals",
        json={"target": "colour", "ground": "not_there"},
        headers=bearer(town, person, "person"),
    )
    assert answer.status_code == 409, answer.text
    [row] = refusal_rows(town)
    assert row["code"] == "appeal.nothing_to_contest"
    assert (row["actor_id"], row["actor_role"], row["actor_authority"]) == (None, None, None)
    assert person not in repr(row)


def test_a_refused_batch_names_its_source(town: Town, client: TestClient) -> None:
    body = town.batch(
        "lab-1",
        [
            town.record(
                "test_result", town.person("p"), town.clock.now(), method="pcr", result="positive"
            )
        ],
    )
    body["records"][0]["result"] = "negative"  # the signature no longer holds
    assert client.post("/api/v1/evidence/batches", json=body).status_code == 401
    [row] = refusal_rows(town)
    assert (row["code"], row["source_id"], row["actor_id"]) == (
        "batch.signature_invalid", "lab-1", None,
    )  # fmt: skip


def _console(town: Town, staff_id: str, role: str) -> TestClient:
    town.register_staff()
    console = TestClient(create_app(town.services, run_scheduler=False))
    console.cookies.set("hc_staff", town.token(staff_id, role))
    return console


def test_a_refused_designation_end_from_the_console_names_the_official(town: Town) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(5), id="d-zz")
    console = _console(town, "sh-off-1", "official")
    answer = console.post("/official/designations/d-zz/end", data={"reason": "issued_in_error"})
    assert answer.status_code == 403
    assert refusal_rows(town) == [{
        "code": "designation.outside_jurisdiction",
        "route": "/official/designations/{designation_id}/end", "source_id": None,
        "actor_id": "sh-off-1", "actor_role": "official", "actor_authority": "sh-health",
    }]  # fmt: skip


def test_a_refused_request_refusal_from_the_console_names_the_supervisor(town: Town) -> None:
    console = _console(town, "zz-sup-1", "supervisor")
    own, _ = bulk(town, by=SUPERVISOR_1)
    answer = console.post(f"/official/orders/{own}/refuse", data={"reason": "not_proportionate"})
    assert answer.status_code == 403
    assert refusal_rows(town) == [{
        "code": "order.refuse_self", "route": "/official/orders/{request_id}/refuse",
        "source_id": None,
        "actor_id": "zz-sup-1", "actor_role": "supervisor", "actor_authority": "zz-health",
    }]  # fmt: skip
