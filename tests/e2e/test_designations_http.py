"""Designations over HTTP: the answer says whether a designation is in force or pending, a
back-dated one is refused with its own code, and the public list holds those in force."""

from __future__ import annotations

from fastapi.testclient import TestClient

from healthcode.domain.designations import RiskLevel
from healthcode.web.app import create_app
from tests.counting import counts, refusal_codes
from tests.town import ERQI, Town, days


def official(town: Town, staff_id: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {town.token(staff_id, role)}"}


def test_a_future_designation_answers_pending_until_a_supervisor_co_signs(town: Town) -> None:
    """QA: a designation from 2027-06-01 with no cases answered only {"status_changes": 0}
    and was listed at once."""
    town.register_staff()
    client = TestClient(create_app(town.services, run_scheduler=False))
    body = {"id": "d-2027", "area": ERQI, "level": "high", "valid_from": "2027-06-01T00:00:00Z",
            "case_count": 0, "basis": "planned"}  # fmt: skip
    made = client.post(
        "/api/v1/designations", json=body, headers=official(town, "zz-off-1", "official")
    )
    assert made.status_code == 200
    assert made.json() == {"designation_id": "d-2027", "pending": True, "status_changes": 0}
    assert client.get("/api/v1/designations?status=all").json() == []
    cosigned = client.post(
        "/api/v1/designations/d-2027/cosign", headers=official(town, "zz-sup-1", "supervisor")
    )
    assert cosigned.json() == {"designation_id": "d-2027", "pending": False, "status_changes": 0}
    # Co-signed already: the designation's own code, not an order's (`order.not_pending`).
    again = client.post(
        "/api/v1/designations/d-2027/cosign", headers=official(town, "zz-sup-2", "supervisor")
    )
    assert (again.status_code, again.json()["code"]) == (409, "designation.not_pending")
    assert client.get("/api/v1/designations").json() == []  # not in force before 2027
    [scheduled] = client.get("/api/v1/designations?status=scheduled").json()
    assert scheduled["id"] == "d-2027"


def test_a_back_dated_designation_is_refused(town: Town) -> None:
    """QA: valid_from 2026-11-01 was accepted on 2026-12-07."""
    town.register_staff()
    client = TestClient(create_app(town.services, run_scheduler=False))
    now = town.clock.now()
    body = {"id": "d-back", "area": ERQI, "level": "medium", "valid_from": (now - days(36)).isoformat(),
            "valid_to": (now + days(1)).isoformat(), "case_count": 3, "basis": "3 cases"}  # fmt: skip
    refused = client.post(
        "/api/v1/designations?lang=en", json=body, headers=official(town, "zz-off-1", "official")
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "designation.backdated")
    assert refused.json()["message"]["zh"] and refused.json()["message"]["en"]


def test_the_public_list_holds_the_designations_in_force_now(town: Town) -> None:
    """QA: docs/api.md says "in force"; the demo listed 16 designations, all ended."""
    now = town.clock.now()
    town.designate(ERQI, RiskLevel.HIGH, now - days(10), now - days(3), id="d-ended")
    town.designate(ERQI, RiskLevel.MEDIUM, now - days(1), now + days(6), id="d-now")
    town.designate(ERQI, RiskLevel.LOW, now + days(2), None, id="d-later")
    client = TestClient(create_app(town.services, run_scheduler=False))
    listed = client.get("/api/v1/designations")
    assert [d["id"] for d in listed.json()] == ["d-now"]
    assert {d["id"] for d in client.get("/api/v1/designations?status=all").json()} == {
        "d-ended", "d-now", "d-later",
    }  # fmt: skip
    assert [d["id"] for d in client.get("/api/v1/designations?status=ended").json()] == ["d-ended"]
    assert client.get("/api/v1/designations?status=bogus").status_code == 422
    town.clock.advance(days=6, hours=1)
    assert [d["id"] for d in client.get("/api/v1/designations").json()] == ["d-later"]
    page = client.get("/public/designations?lang=en").text  # the page keeps the history
    assert (
        'id="d-ended"' in page
        and 'id="d-now"' in page
        and 'href="/api/v1/designations?status=all"' in page
    )


def test_a_case_count_that_is_no_json_number_is_refused_and_changes_nothing(town: Town) -> None:
    """A published case count is what the official sent: text ("3") or a flag (true, read
    laxly as 1) is refused as malformed, not turned into a number."""
    town.register_staff()
    client = TestClient(create_app(town.services, run_scheduler=False))
    body = {"id": "d-count", "area": ERQI, "level": "medium", "basis": "3 cases",
            "valid_from": town.clock.now().isoformat(), "valid_to": (town.clock.now() + days(7)).isoformat()}  # fmt: skip
    before = counts(town.services.db)
    for count in ("3", True, 2.5):
        refused = client.post(
            "/api/v1/designations", json={**body, "case_count": count},
            headers=official(town, "zz-off-1", "official"),
        )  # fmt: skip
        assert (refused.status_code, refused.json()["code"]) == (422, "request.malformed")
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db)[-3:] == ["request.malformed"] * 3
    made = client.post(
        "/api/v1/designations", json={**body, "case_count": 3.0},  # the JSON number 3
        headers=official(town, "zz-off-1", "official"),
    )  # fmt: skip
    assert made.status_code == 200, made.text
    [listed] = client.get("/api/v1/designations").json()
    assert listed["case_count"] == 3
