"""What fuzzing the API found, kept as plain tests on both stores: the quick fuzz pass runs on
SQLite only, and these are the cases where the stores differ or the answer was undocumented."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from healthcode.errors import HealthcodeError
from tests.counting import counts, refusal_codes
from tests.http import bearer
from tests.town import ERQI, Town


def test_a_nul_anywhere_is_malformed_and_changes_nothing(town: Town, client: TestClient) -> None:
    person = town.person("nul", home=ERQI)
    official = bearer(town, "zz-off-1", "official")
    before = counts(town.services.db)
    answers = [
        client.get("/api/v1/me/appeals/apl%00x", headers=bearer(town, person, "person")),
        client.get(f"/api/v1/persons/{person}/status?purpose=hotline%00", headers=official),
        client.post("/api/v1/orders/ord%00x/end", json={"reason": "issued_in_error"}, headers=official),
        client.post("/api/v1/designations", headers=official, json={
            "id": "d-1", "area": ERQI, "level": "high", "valid_from": town.clock.now().isoformat(),
            "case_count": 1, "basis": "five\x00cases"}),
        client.post("/api/v1/me/appeals", headers=bearer(town, person, "person"),
                    json={"target": "colour", "ground": "other", "text": "not\x00me"}),
    ]  # fmt: skip
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(422, "request.malformed")] * 5
    record = town.record("close_contact", person, town.clock.now() - timedelta(hours=1),
                         area=ERQI, case_ref="c\x001")  # fmt: skip
    batch = client.post("/api/v1/evidence/batches", json=town.batch("cdc-1", [record]))
    assert (batch.status_code, batch.json()["code"]) == (422, "batch.malformed")
    signed_in = client.post("/api/v1/staff/token", data={"username": "zz\x00", "password": "x"})
    assert (signed_in.status_code, signed_in.json()["code"]) == (401, "auth.invalid_token")
    after = counts(town.services.db)
    # Refusal records only: the refusal table, and the sign-in throttle's count of failures (a
    # keyed hash, no badge id; services/sign_in_throttle.py).
    refusals = ("refusals", "sign_in_failures")
    assert {k: v for k, v in after.items() if k not in refusals} == {
        k: v for k, v in before.items() if k not in refusals
    }
    assert refusal_codes(town.services.db)[-5:] == [
        *["request.malformed"] * 3,
        "batch.malformed",
        "auth.invalid_token",
    ]


def test_an_unreadable_body_is_malformed_not_a_bare_400(town: Town, client: TestClient) -> None:
    answer = client.post(
        "/api/v1/scans",
        content=b"\xff\xfe{",
        headers={"Content-Type": "application/json"} | bearer(town, town.person("p"), "person"),
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "request.malformed")


def test_a_version_out_of_range_is_malformed(client: TestClient) -> None:
    # It overflowed SQLite's integer (a server error) and PostgreSQL's 32-bit column.
    for version in (2**31, 10**20):
        answer = client.get(f"/api/v1/rulebooks/{version}")
        assert (answer.status_code, answer.json()["code"]) == (422, "request.malformed")
    assert client.get("/api/v1/rulebooks/7").json()["code"] == "rulebook.not_found"


def test_405_allows_every_method_of_the_path(client: TestClient) -> None:
    # GET and POST /api/v1/designations live in two routers; Allow names both.
    answer = client.request("OPTIONS", "/api/v1/designations")
    assert answer.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in answer.headers["allow"].split(",")}


def test_405_is_the_catalogue_s_error_body(client: TestClient) -> None:
    # Answered, but its code was a string of web/errors.py alone: now the catalogue's, zh and en.
    # Not declared on an operation: an operation is a method the path has, 405 the answer to
    # one it has not (schemathesis's `unsupported_method` check holds it to 405 with Allow).
    answer = client.request("DELETE", "/api/v1/orders")
    assert answer.status_code == 405
    assert answer.json() == HealthcodeError("method_not_allowed").as_body()
    assert {m.strip() for m in answer.headers["allow"].split(",")} == {"GET", "POST"}
    missing = client.get("/api/v1/no-such-route")
    assert missing.json() == HealthcodeError("not_found").as_body()
    document = client.get("/openapi.json").json()
    assert not any("405" in op["responses"] for ops in document["paths"].values()
                   for op in ops.values())  # fmt: skip


def test_every_error_is_documented_as_json(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"] == {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    }, (method, path, status)
