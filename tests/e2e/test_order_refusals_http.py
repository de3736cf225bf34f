"""Refusing a pending bulk request over HTTP and on the console, in Chinese and English: one
call (not one end per order) withdraws the request; the refusals of the rules change nothing;
the official who asked sees it refused, and why."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from healthcode.web.app import create_app
from tests.counting import counts
from tests.e2e.test_person_page import login
from tests.e2e.test_staff_pages import pending_request, staff_client
from tests.http import bearer
from tests.services.test_order_refusals import SUPERVISOR_1, bulk
from tests.town import Town

REFUSE = "/api/v1/orders/requests/{}/refuse"


def refuse(
    client: TestClient, town: Town, request_id: str, who: tuple[str, str], **body: Any
) -> Any:
    return client.post(REFUSE.format(request_id), json=body, headers=bearer(town, *who))


def test_a_supervisor_refuses_a_request_in_one_call(town: Town, client: TestClient) -> None:
    request_id, people = bulk(town)
    before = {p: town.status(p) for p in people}
    answer = refuse(
        client, town, request_id, ("zz-sup-2", "supervisor"), reason="legal_basis_wrong"
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["request_id"], body["reason"], body["refused_by"]) == (
        request_id, "legal_basis_wrong", "zz-sup-2",
    )  # fmt: skip
    assert len(body["orders"]) == 21
    assert {(o["status"], o["end_reason"]) for o in body["orders"]} == {
        ("ended", "legal_basis_wrong")
    }
    assert {p: town.status(p) for p in people} == before
    listed = client.get(
        "/api/v1/orders?status=pending", headers=bearer(town, "zz-sup-1", "supervisor")
    )
    assert listed.json() == []  # the co-sign queue is empty


def test_refusals_of_a_refusal_write_nothing(town: Town, client: TestClient) -> None:
    own, _ = bulk(town, by=SUPERVISOR_1)
    before = counts(town.services.db)
    for who, reason, status, code in [
        (("zz-sup-1", "supervisor"), "not_proportionate", 403, "order.refuse_self"),
        (("zz-off-1", "official"), "not_proportionate", 403, "auth.forbidden"),
        (("sh-sup-1", "supervisor"), "not_proportionate", 404, "order.not_found"),
        (("zz-sup-2", "supervisor"), "no_longer_needed", 422, "request.malformed"),
    ]:
        answer = refuse(client, town, own, who, reason=reason)
        assert (answer.status_code, answer.json()["code"]) == (status, code), (who, reason)
    unknown = refuse(
        client, town, "req-none", ("zz-sup-2", "supervisor"), reason="not_proportionate"
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "order.not_found")
    assert counts(town.services.db) == before
    assert (
        refuse(
            client, town, own, ("zz-sup-2", "supervisor"), reason="not_proportionate"
        ).status_code
        == 200
    )
    again = refuse(client, town, own, ("zz-sup-2", "supervisor"), reason="not_proportionate")
    assert (again.status_code, again.json()["code"]) == (409, "order.request_refused")
    assert again.json()["message"]["zh"].startswith("该请求已被主管拒绝")
    cosign = client.post(
        f"/api/v1/orders/requests/{own}/cosign", headers=bearer(town, "zz-sup-2", "supervisor")
    )
    assert (cosign.status_code, cosign.json()["code"]) == (409, "order.request_refused")


def test_the_console_refuses_and_the_official_sees_why_in_both_languages(town: Town) -> None:
    town.register_staff()
    official, request_id = pending_request(town)
    supervisor = staff_client(town, "zz-sup-1", "supervisor")
    en = supervisor.get("/official?lang=en").text
    action = f'action="/official/orders/{request_id}/refuse"'
    assert en.count(action) == 1  # one form per request, not per order
    assert '<option value="not_proportionate">not proportionate to the risk</option>' in en
    assert "Refuse</button>" in en
    zh = supervisor.get("/official?lang=zh").text
    assert zh.count(action) == 1 and "拒绝</button>" in zh and "与风险不相称" in zh
    assert action not in official.get("/official?lang=en").text  # an official does not refuse
    bad = supervisor.post(
        f"/official/orders/{request_id}/refuse?lang=en", data={"reason": "colour"}
    )
    assert bad.status_code == 422
    done = supervisor.post(
        f"/official/orders/{request_id}/refuse", data={"reason": "not_proportionate"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    assert action not in supervisor.get("/official?lang=en").text  # the queue is empty
    mine_en = official.get("/official?lang=en").text
    assert (
        "refused by supervisor zz-sup-1: not proportionate to the risk; never in force" in mine_en
    )
    assert request_id in mine_en
    mine_zh = official.get("/official?lang=zh").text
    assert "已被主管 zz-sup-1 拒绝：与风险不相称；从未生效" in mine_zh
    again = supervisor.post(
        f"/official/orders/{request_id}/refuse?lang=zh", data={"reason": "not_proportionate"}
    )
    assert again.status_code == 409 and "该请求已被主管拒绝" in again.text


def test_the_person_is_told_the_order_was_refused_and_stays_as_they_were(
    town: Town, client: TestClient
) -> None:
    request_id, [person, *_] = bulk(town)
    before = town.status(person)
    answer = refuse(client, town, request_id, ("zz-sup-2", "supervisor"), reason="request_in_error")
    assert answer.status_code == 200
    assert town.status(person) == before
    page = TestClient(create_app(town.services, run_scheduler=False))
    login(page, town.services, person)
    assert "被第二名官员拒绝，从未生效" in page.get("/me?lang=zh").text
    assert "refused by a second official; it never took effect" in page.get("/me?lang=en").text
