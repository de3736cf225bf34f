"""Accountable orders through the HTTP API: the seed's abuses are refused and change nothing;
bulk orders wait for a second supervisor; the person sees who, on what basis; one state for
every view; every read of a record is shown to the person."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from healthcode.web.app import create_app
from tests.counting import counts
from tests.http import bearer
from tests.town import ERQI, PUDONG, Town, days


def order(
    kind: str, basis: str, persons: list[tuple[str, list[str]]], town: Town
) -> dict[str, object]:
    return {
        "kind": kind,
        "legal_basis": basis,
        "persons": [{"person": p, "evidence": e} for p, e in persons],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    }


def contact(town: Town, person: str, area: str = ERQI) -> str:
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=area, case_ref="case-1"
    )
    town.submit("cdc-1", [record])
    return f"cdc-1/{record['record_id']}"


def visit(town: Town, person: str) -> str:
    record = town.record(
        "venue_visit",
        person,
        town.clock.now() - timedelta(hours=2),
        area=ERQI,
        venue_id="station",
        presence="proven",
    )
    town.submit("scan-1", [record])
    return f"scan-1/{record['record_id']}"


def refused_without_trace(
    town: Town, client: TestClient, body: dict[str, object], code: str, who: str = "zz-off-1"
) -> None:
    before = counts(town.services.db)
    answer = client.post("/api/v1/orders", json=body, headers=bearer(town, who, "official"))
    assert answer.status_code != 500
    assert answer.json()["code"] == code, answer.text
    assert answer.status_code in (403, 422)
    assert counts(town.services.db) == before  # nothing written: no order, no log entry


def test_a1_red_for_depositors_without_evidence_is_refused(town: Town, client: TestClient) -> None:
    depositors = [town.person(f"depositor{n}") for n in range(5)]
    refused_without_trace(
        town,
        client,
        order(
            "close_contact_quarantine", "idl-art-41-quarantine", [(p, []) for p in depositors], town
        ),
        "order.evidence_missing",
    )
    # Evidence from outside the official's jurisdiction (a Shanghai resident's own contact record).
    sh = town.person("shanghai-depositor", home=PUDONG)
    shanghai_contact = contact(town, sh, area=ERQI)
    refused_without_trace(
        town, client,
        order("close_contact_quarantine", "idl-art-41-quarantine", [(sh, [shanghai_contact])], town),
        "order.outside_jurisdiction", who="sh-off-1",
    )  # fmt: skip
    # Cited for someone else, a record outside the jurisdiction says nothing of whose it is.
    refused_without_trace(
        town, client,
        order("close_contact_quarantine", "idl-art-41-quarantine", [(depositors[0], [shanghai_contact])], town),
        "order.outside_jurisdiction", who="sh-off-1",
    )  # fmt: skip
    for person in depositors:
        assert town.status(person) == ("green", "no-risk")


def test_a3_inbound_quarantine_without_a_border_entry_is_refused(
    town: Town, client: TestClient
) -> None:
    petitioner = town.person("petitioner")
    a_visit = visit(town, petitioner)
    refused_without_trace(
        town,
        client,
        order("inbound_quarantine", "idl-art-41-quarantine", [(petitioner, [a_visit])], town),
        "order.evidence_wrong_kind",
    )
    refused_without_trace(
        town,
        client,
        order("inbound_quarantine", "invented-basis", [(petitioner, [a_visit])], town),
        "order.basis_invalid",
    )
    refused_without_trace(
        town,
        client,
        order(
            "inbound_quarantine",
            "idl-art-41-quarantine",
            [(petitioner, ["lab-1/no-such-record"])],
            town,
        ),
        "order.evidence_unknown",
    )


def test_a4_a_relatives_evidence_cannot_make_a_child_red(town: Town, client: TestClient) -> None:
    parent, child = town.person("parent"), town.person("child")
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    parents_contact = contact(town, parent)
    refused_without_trace(
        town,
        client,
        order(
            "close_contact_quarantine", "idl-art-41-quarantine", [(child, [parents_contact])], town
        ),
        "order.evidence_not_theirs",
    )
    assert town.status(child) == ("green", "no-risk")
    family = client.get("/api/v1/me/dependants", headers=bearer(town, parent, "person")).json()
    assert [(d["person_key"], d["colour"]) for d in family] == [(child, "green")]


def test_the_legal_bases_are_a_closed_list_in_the_document(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["OrderIn"]
    assert schema["properties"]["legal_basis"]["enum"] == [
        "ephr-art-44-monitoring", "idl-art-39-isolation", "idl-art-41-quarantine",
    ]  # fmt: skip


def test_expiry_and_mass_assignment_are_refused(town: Town, client: TestClient) -> None:
    person = town.person("p")
    ref = contact(town, person)
    twice = order(
        "close_contact_quarantine",
        "idl-art-41-quarantine",
        [(person, [ref]), (person, [ref])],
        town,
    )
    refused_without_trace(town, client, twice, "request.malformed")
    too_long = order("close_contact_quarantine", "idl-art-41-quarantine", [(person, [ref])], town)
    too_long["valid_until"] = (town.clock.now() + days(15)).isoformat()
    refused_without_trace(town, client, too_long, "order.expiry_too_long")
    extra = {
        **order("close_contact_quarantine", "idl-art-41-quarantine", [(person, [ref])], town),
        "colour": "red",
    }
    refused_without_trace(town, client, extra, "request.malformed")


def test_bulk_orders_wait_for_a_different_supervisor(town: Town, client: TestClient) -> None:
    people = [town.person(f"contact{n}") for n in range(25)]
    refs = [(p, [contact(town, p)]) for p in people]
    issued = client.post(
        "/api/v1/orders",
        json=order("close_contact_quarantine", "idl-art-41-quarantine", refs, town),
        headers=bearer(town, "zz-sup-1", "supervisor"),
    )
    assert issued.status_code == 200 and issued.json()["pending"] is True
    request_id = issued.json()["request_id"]
    assert {town.status(p) for p in people} == {("yellow", "close-contact")}  # no colour change yet
    queue = client.get(
        "/api/v1/orders?status=pending", headers=bearer(town, "zz-sup-2", "supervisor")
    ).json()
    assert {o["request_id"] for o in queue} == {request_id}
    own = client.post(
        f"/api/v1/orders/requests/{request_id}/cosign",
        headers=bearer(town, "zz-sup-1", "supervisor"),
    )
    assert (own.status_code, own.json()["code"]) == (403, "order.cosign_self")
    other_authority = client.post(
        f"/api/v1/orders/requests/{request_id}/cosign",
        headers=bearer(town, "sh-sup-1", "supervisor"),
    )
    assert other_authority.status_code == 404
    official = client.post(
        f"/api/v1/orders/requests/{request_id}/cosign", headers=bearer(town, "zz-off-1", "official")
    )
    assert official.status_code == 403
    town.clock.advance(minutes=5)
    cosigned = client.post(
        f"/api/v1/orders/requests/{request_id}/cosign",
        headers=bearer(town, "zz-sup-2", "supervisor"),
    )
    assert cosigned.status_code == 200
    assert {town.status(p) for p in people} == {("red", "quarantine-order")}


def test_a5_a6_the_person_sees_who_and_why_and_every_view_agrees(
    town: Town, client: TestClient
) -> None:
    person = town.person("李雷")
    ref = contact(town, person)
    issued = client.post(
        "/api/v1/orders",
        json=order("close_contact_quarantine", "idl-art-41-quarantine", [(person, [ref])], town),
        headers=bearer(town, "zz-off-1", "official"),
    )
    assert issued.json()["pending"] is False
    town.services.sequencer.integrate(now=town.clock.now())
    mine = client.get("/api/v1/me/status", headers=bearer(town, person, "person"))
    body = mine.json()
    assert (body["colour"], body["rule_id"]) == ("red", "quarantine-order")
    [shown] = body["orders"]
    assert (shown["official_id"], shown["authority_id"], shown["legal_basis"]) == (
        "zz-off-1",
        "zz-health",
        "idl-art-41-quarantine",
    )
    assert (
        shown["authority_name"]["zh"] == "郑州市卫健委"
        and "Art. 41" in shown["legal_basis_title"]["en"]
    )
    hotline = client.get(
        f"/api/v1/persons/{person}/status?purpose=hotline_request",
        headers=bearer(town, "auditor-1", "auditor"),
    )
    assert hotline.status_code == 200
    assert (hotline.json()["colour"], hotline.json()["rule_id"]) == (
        body["colour"],
        body["rule_id"],
    )
    assert hotline.headers["Healthcode-Checkpoint"] == mine.headers["Healthcode-Checkpoint"]
    # The person sees the read, with its purpose, on the API and on the page.
    accesses = client.get("/api/v1/me/accesses", headers=bearer(town, person, "person")).json()
    assert [(a["accessor_id"], a["purpose"]) for a in accesses] == [
        ("auditor-1", "hotline_request")
    ]
    page_client = TestClient(create_app(town.services, run_scheduler=False))
    page_client.cookies.set("hc_session", town.token(person, "person"))
    page = page_client.get("/me").text
    assert (
        "auditor-1" in page and "热线咨询" in page and "zz-off-1" in page and "第四十一条" in page
    )


def test_reads_need_a_purpose_and_a_scope(town: Town, client: TestClient) -> None:
    erqi_person = town.person("erqi", home=ERQI)
    town.test(erqi_person, town.clock.now(), "negative")
    no_purpose = client.get(
        f"/api/v1/persons/{erqi_person}/status", headers=bearer(town, "hl-erqi", "hotline")
    )
    assert no_purpose.json()["code"] == "access.purpose_invalid"
    other_district = client.get(
        f"/api/v1/persons/{erqi_person}/status?purpose=hotline_request",
        headers=bearer(town, "hl-pudong", "hotline"),
    )
    assert (other_district.status_code, other_district.json()["code"]) == (
        403,
        "access.outside_scope",
    )
    own_district = client.get(
        f"/api/v1/persons/{erqi_person}/status?purpose=hotline_request",
        headers=bearer(town, "hl-erqi", "hotline"),
    )
    assert own_district.status_code == 200
    assert (
        len(client.get("/api/v1/me/accesses", headers=bearer(town, erqi_person, "person")).json())
        == 1
    )


def test_lifting_an_order_records_the_end(town: Town, client: TestClient) -> None:
    person = town.person("p2")
    ref = contact(town, person)
    issued = client.post(
        "/api/v1/orders",
        json=order("close_contact_quarantine", "idl-art-41-quarantine", [(person, [ref])], town),
        headers=bearer(town, "zz-off-1", "official"),
    ).json()
    town.clock.advance(days=1)
    order_id = issued["orders"][0]["id"]
    bad = client.post(
        f"/api/v1/orders/{order_id}/end",
        json={"reason": "because I say so"},
        headers=bearer(town, "zz-off-1", "official"),
    )
    assert bad.status_code == 422
    lifted = client.post(
        f"/api/v1/orders/{order_id}/end",
        json={"reason": "issued_in_error"},
        headers=bearer(town, "zz-off-1", "official"),
    )
    assert lifted.status_code == 200 and lifted.json()["status"] == "ended"
    assert town.status(person) == ("yellow", "close-contact")
    assert [h[:2] for h in town.history(person)] == [
        ("yellow", "close-contact"),
        ("red", "quarantine-order"),
        ("yellow", "close-contact"),
    ]
    assert town.services.self_check.run(now=town.clock.now()).ok
