"""An instant in a JSON body is ISO 8601 text with its UTC offset, as the schema says
(``format: date-time``): a number (read by pydantic's lax mode as a Unix time) or a flag is
refused with the body's own code, and nothing is written (domain/json_values.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from healthcode.web.app import create_app
from tests.counting import counts, refusal_codes
from tests.http import bearer
from tests.town import ERQI, Town

P1 = "22222222222222222222222222222222"


@pytest.fixture
def client(town: Town) -> TestClient:
    return TestClient(create_app(town.services, run_scheduler=False))


@pytest.mark.parametrize("instant", [1_700_000_000, 1_700_000_000.5, True, "1700000000"])
def test_a_batch_whose_instant_is_not_iso_text_is_refused_and_stores_nothing(
    town: Town, client: TestClient, instant: object
) -> None:
    record = town.record("test_result", P1, town.clock.now(), method="pcr", result="positive")
    body = town.batch("lab-1", [{**record, "occurred_at": instant}])  # signed as sent
    before = counts(town.services.db)
    answer = client.post("/api/v1/evidence/batches", json=body)
    assert (answer.status_code, answer.json()["code"]) == (422, "batch.malformed")
    assert "occurred_at" in answer.json()["detail"]
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db) == ["batch.malformed"]


def test_a_batch_whose_instant_is_iso_text_with_an_offset_is_accepted(
    town: Town, client: TestClient
) -> None:
    at = (town.clock.now() - timedelta(hours=1)).astimezone(town.clock.now().tzinfo)
    shanghai = at.isoformat().replace("+00:00", "Z")
    record = town.record("test_result", P1, at, method="pcr", result="positive")
    answer = client.post(
        "/api/v1/evidence/batches", json=town.batch("lab-1", [{**record, "occurred_at": shanghai}])
    )
    assert answer.status_code == 200, answer.text
    status = client.get("/api/v1/me/status", headers=bearer(town, P1))
    assert status.json()["colour"] == "red"
    [evidence] = status.json()["evidence"]
    assert evidence["occurred_at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.parametrize("instant", [1_800_000_000, False, "1800000000"])
def test_a_request_body_instant_that_is_not_iso_text_is_refused(
    town: Town, client: TestClient, instant: object
) -> None:
    town.register_staff()
    body = {"id": "d-num", "area": ERQI, "level": "high", "valid_from": instant,
            "case_count": 3, "basis": "3 cases"}  # fmt: skip
    before = counts(town.services.db)
    answer = client.post(
        "/api/v1/designations", json=body, headers=bearer(town, "zz-off-1", "official")
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "request.malformed")
    assert "valid_from" in answer.json()["detail"]
    assert counts(town.services.db) == before
    # ISO 8601 text with an offset, the same instant, is a designation.
    at = town.clock.now().astimezone().isoformat()
    made = client.post(
        "/api/v1/designations",
        json={**body, "valid_from": at},
        headers=bearer(town, "zz-off-1", "official"),
    )
    assert made.status_code == 200, made.text


def test_the_schema_still_says_date_time_text(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    valid_from = schemas["DesignationIn"]["properties"]["valid_from"]
    assert (valid_from["type"], valid_from["format"]) == ("string", "date-time")
    ends_at = schemas["AnswerIn"]["properties"]["ends_at"]["anyOf"][0]
    assert (ends_at["type"], ends_at["format"]) == ("string", "date-time")
