"""Ending a designation over HTTP and in the staff console (docs/api.md, "Risk designations"):
who may, what each refusal answers (writing nothing), and how the public list and page show a
designation cut short, withdrawn as made in error, or withdrawn while pending."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from healthcode.domain.designations import RiskLevel
from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.counting import counts, refusal_codes
from tests.e2e.appeal_steps import refused_without_trace
from tests.town import ERQI, Town, days

OPEN_ENDED = {"area": ERQI, "level": "high", "case_count": 3, "basis": "3 cases"}


def headers(town: Town, staff_id: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.token(staff_id, role)}"}


def end(client: TestClient, town: Town, designation_id: str, staff: tuple[str, str] = ("zz-off-1", "official"), **body: Any) -> Any:  # fmt: skip
    return client.post(
        f"/api/v1/designations/{designation_id}/end", json=body, headers=headers(town, *staff)
    )


def row(town: Town, designation_id: str) -> Any:
    with town.services.db.read() as conn:
        d = t.designations
        return conn.execute(select(d).where(d.c.id == designation_id)).first()


def test_made_in_error_over_http_the_person_turns_green_and_the_list_says_why(
    town: Town, client: TestClient
) -> None:
    now = town.clock.now()
    person = town.person("wang")
    town.visit(person, now - days(1))
    town.designate(ERQI, RiskLevel.HIGH, now - days(2), now + days(5), id="d-err")
    assert town.status(person) == ("red", "high-risk-visit")
    town.clock.advance(hours=1)
    ended = end(client, town, "d-err", reason="issued_in_error")
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert (body["id"], body["status"], body["end_reason"], body["status_changes"]) == (
        "d-err", "ended", "issued_in_error", 1,
    )  # fmt: skip
    assert body["valid_to"] == (now + days(5)).isoformat().replace("+00:00", "Z")
    assert town.status(person) == ("green", "no-risk")
    assert client.get("/api/v1/designations").json() == []
    [listed] = client.get("/api/v1/designations?status=ended").json()
    assert (listed["id"], listed["status"], listed["end_reason"]) == (
        "d-err", "ended", "issued_in_error",
    )  # fmt: skip
    page = client.get("/public/designations?lang=en").text
    assert 'id="d-err" class="past"' in page and "made in error" in page
    assert "错误划定" in client.get("/public/designations?lang=zh").text
    town.services.sequencer.integrate(now=town.clock.now())
    assert "Risk designation ended" in client.get("/public/log?lang=en").text
    refused_without_trace(
        town, lambda: end(client, town, "d-err", reason="issued_in_error"),
        "designation.not_in_force", 409,
    )  # fmt: skip


def test_who_may_end_one_and_the_refusals_write_nothing(town: Town, client: TestClient) -> None:
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.MEDIUM, now - days(1), now + days(5), id="d-auth")
    before = row(town, "d-auth")
    for staff in (("hl-erqi", "hotline"), ("auditor-1", "auditor")):
        refused_without_trace(
            town, lambda staff=staff: end(client, town, "d-auth", staff, reason="no_longer_needed"),
            "auth.forbidden", 403,
        )  # fmt: skip
    person = town.person("li")
    refused = client.post(
        "/api/v1/designations/d-auth/end", json={"reason": "no_longer_needed"},
        headers={"Authorization": f"Bearer {town.token(person, 'person')}"},
    )  # fmt: skip
    assert refused.status_code in (401, 403)  # as the authorization matrix allows
    anonymous = client.post("/api/v1/designations/d-auth/end", json={"reason": "shortened"})
    assert anonymous.status_code == 401
    cases = [
        (("sh-off-1", "official"), {"reason": "no_longer_needed"}, "designation.outside_jurisdiction", 403),
        (("zz-off-1", "official"), {"reason": "lifted"}, "request.malformed", 422),
        (("zz-off-1", "official"), {"reason": "shortened", "extra": 1}, "request.malformed", 422),
        (("zz-off-1", "official"), {"reason": "shortened", "ends_at": (now - days(1)).isoformat()},
         "designation.invalid_end", 422),
        (("zz-off-1", "official"), {"reason": "shortened", "ends_at": (now + days(5)).isoformat()},
         "designation.invalid_end", 422),
        (("zz-off-1", "official"), {"reason": "issued_in_error", "ends_at": (now + days(1)).isoformat()},
         "designation.invalid_end", 422),
    ]  # fmt: skip
    for staff, body, code, status in cases:
        refused_without_trace(
            town, lambda staff=staff, body=body: end(client, town, "d-auth", staff, **body),
            code, status,
        )  # fmt: skip
    refused_without_trace(
        town, lambda: end(client, town, "d-none", reason="shortened"), "designation.not_found", 404
    )
    assert row(town, "d-auth") == before
    # A supervisor of the authority may, as for designating.
    ahead = (now + days(2)).isoformat()
    done = end(
        client, town, "d-auth", ("zz-sup-1", "supervisor"), reason="shortened", ends_at=ahead
    )
    assert (done.status_code, done.json()["status"], done.json()["status_changes"]) == (
        200, "in_force", 0,
    )  # fmt: skip
    assert done.json()["ended_at"] == ahead.replace("+00:00", "Z")


def test_a_pending_designation_is_withdrawn_and_another_authority_is_not_told_it_exists(
    town: Town, client: TestClient
) -> None:
    body = {**OPEN_ENDED, "id": "d-wait", "valid_from": town.clock.now().isoformat()}
    made = client.post(
        "/api/v1/designations", json=body, headers=headers(town, "zz-off-1", "official")
    )
    assert made.json()["pending"] is True
    refused_without_trace(
        town, lambda: end(client, town, "d-wait", ("sh-off-1", "official"), reason="shortened"),
        "designation.not_found", 404,
    )  # fmt: skip
    withdrawn = end(client, town, "d-wait", reason="no_longer_needed")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    refused_without_trace(
        town,
        lambda: client.post(
            "/api/v1/designations/d-wait/cosign", headers=headers(town, "zz-sup-1", "supervisor")
        ),
        "designation.not_pending", 409,
    )  # fmt: skip
    assert client.get("/api/v1/designations?status=all").json() == []
    assert town.services.self_check.run(now=town.clock.now()).ok


def staff_client(town: Town, staff_id: str, role: str) -> TestClient:
    client = TestClient(create_app(town.services, run_scheduler=False))
    client.cookies.set("hc_staff", town.token(staff_id, role))
    return client


def test_the_console_offers_an_end_form_for_what_can_still_be_ended(town: Town) -> None:
    town.register_staff()
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(1), now + days(5), id="d-now")
    town.designate(ERQI, RiskLevel.LOW, now + days(2), now + days(5), id="d-later")
    town.designate(ERQI, RiskLevel.LOW, now - days(3), now - days(2), id="d-over")
    official = staff_client(town, "zz-off-1", "official")
    page = official.get("/official?lang=en").text
    assert "End a designation early" in page
    for shown in ("d-now", "d-later"):
        assert f'action="/official/designations/{shown}/end"' in page
    assert "/official/designations/d-over/end" not in page
    assert "提前结束风险区划定" in official.get("/official?lang=zh").text
    ended = official.post(
        "/official/designations/d-later/end", data={"reason": "no_longer_needed"},
        follow_redirects=False,
    )  # fmt: skip
    assert ended.status_code == 303
    assert "/official/designations/d-later/end" not in official.get("/official").text
    # In the page's zone, as the designation form reads its times: 08:00 in Shanghai.
    cut = official.post(
        "/official/designations/d-now/end",
        data={"reason": "shortened", "ends_at": "2026-06-03T08:00"}, follow_redirects=False,
    )  # fmt: skip
    assert cut.status_code == 303
    assert row(town, "d-now").ended_at.isoformat() == "2026-06-03T00:00:00+00:00"
    # Its entry says the same instant as its row, in UTC: the self-check rebuilds it.
    assert town.services.self_check.run(now=town.clock.now()).ok
    before = counts(town.services.db)
    bad = official.post("/official/designations/d-now/end?lang=en", data={"reason": "lifted"})
    assert bad.status_code == 422 and "The request is malformed." in bad.text
    late = official.post(
        "/official/designations/d-now/end?lang=en",
        data={"reason": "shortened", "ends_at": "2026-06-04T08:00"},
    )
    assert late.status_code == 422 and "may only be brought forward" in late.text
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db)[-2:] == ["request.malformed", "designation.invalid_end"]
    hotline = staff_client(town, "hl-erqi", "hotline")
    assert hotline.post(
        "/official/designations/d-now/end", data={"reason": "issued_in_error"}
    ).status_code in (401, 403)
    assert row(town, "d-now").end_reason == "shortened"
