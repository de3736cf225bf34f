"""Request bodies: one size limit for every route, counted while the body arrives (a chunked
body too), and no body, however deep, crashes the server (docs/api.md, "Request bodies")."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy import select

from healthcode.store import tables as t
from healthcode.web.bodies import DEFAULT_LIMIT
from tests.http import bearer
from tests.town import ERQI, Town

# Far deeper than the parser goes (the QA report sent 100,000; within every JSON limit here).
DEEP = b"[" * 12_000 + b"]" * 12_000
# Deep enough to pass the JSON parser and reach what checks the parsed body.
NESTED = b'{"text": ' + b"[" * 900 + b"]" * 900 + b"}"
JSON = {"content-type": "application/json"}


def callers(town: Town) -> dict[str, dict[str, str]]:
    person = town.person("body", home=ERQI)
    return {
        "/api/v1/venue/pass-check": bearer(town, "station", "venue"),
        "/api/v1/venue/identity-check": bearer(town, "station", "venue"),
        "/api/v1/me/dcc": bearer(town, person, "person"),
        "/api/v1/scans": bearer(town, person, "person"),
        "/api/v1/me/appeals": bearer(town, person, "person"),
        "/api/v1/orders/ord-none/end": bearer(town, "zz-off-1", "official"),
        "/api/v1/oversight/cohort": bearer(town, "auditor-1", "auditor"),
        "/api/v1/evidence/batches": {},
    }


def test_deep_json_is_malformed_never_a_server_error(town: Town, client: TestClient) -> None:
    for path, headers in callers(town).items():
        for body in (DEEP, NESTED):
            answer = client.post(path, content=body, headers=headers | JSON)
            assert answer.status_code == 422, (path, answer.status_code, answer.text[:200])
            # A batch that is not JSON at all is a malformed request, like any other body.
            expected = {"request.malformed", "batch.malformed" if "evidence" in path else ""}
            assert answer.json()["code"] in expected, path


def chunks(size: int) -> Iterator[bytes]:
    """A body with no Content-Length: sent chunked."""
    sent = 0
    while sent < size:
        yield b" " * 65_536
        sent += 65_536


def test_one_limit_for_every_body_chunked_or_not(town: Town, client: TestClient) -> None:
    big = b'{"code": "' + b"A" * (DEFAULT_LIMIT + 1) + b'"}'
    for path, headers in callers(town).items():
        if path in ("/api/v1/evidence/batches", "/api/v1/oversight/cohort", "/api/v1/me/dcc",
                    "/api/v1/venue/pass-check", "/api/v1/venue/identity-check"):  # fmt: skip
            continue  # larger limits of their own, below
        answer = client.post(path, content=big, headers=headers | JSON)
        assert (answer.status_code, answer.json()["code"]) == (413, "request.too_large"), path
        answer = client.post(path, content=chunks(2 * DEFAULT_LIMIT), headers=headers | JSON)
        assert (answer.status_code, answer.json()["code"]) == (413, "request.too_large"), path
    # A staff sign-in form, and a route that takes no body at all.
    answer = client.post("/api/v1/staff/token", content=chunks(2 * DEFAULT_LIMIT),
                         headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (413, "request.too_large")


def test_larger_limits_where_documented(town: Town, client: TestClient) -> None:
    headers = callers(town)
    venue = headers["/api/v1/venue/pass-check"]
    # A 3 MB picture is within the upload limit: refused as no readable code, not as too large.
    picture = {"image": ("pass.png", b"\x89PNG" + b"\x00" * 3_000_000, "image/png")}
    answer = client.post("/api/v1/venue/pass-check", files=picture, headers=venue)
    assert answer.status_code != 413, answer.text[:200]
    picture = {"image": ("pass.png", b"\x00" * 6_000_000, "image/png")}
    answer = client.post("/api/v1/venue/pass-check", files=picture, headers=venue)
    assert (answer.status_code, answer.json()["code"]) == (413, "request.too_large")
    # Chunked, past the upload limit: refused while it arrives.
    answer = client.post(
        "/api/v1/venue/pass-check", content=chunks(6_000_000), headers=venue | JSON
    )
    assert (answer.status_code, answer.json()["code"]) == (413, "request.too_large")
    # An evidence batch of 2 MB is within its 8 MB: refused for what it holds, not its size.
    batch = (
        b'{"source": "lab-1", "batch_id": "b", "records": [], "signature": "'
        + b"A" * 2_000_000
        + b'"}'
    )
    answer = client.post("/api/v1/evidence/batches", content=batch, headers=JSON)
    assert answer.status_code != 413, answer.text[:200]
    answer = client.post("/api/v1/evidence/batches", content=chunks(9_000_000), headers=JSON)
    assert (answer.status_code, answer.json()["code"]) == (413, "request.too_large")


def test_a_refusal_for_size_is_recorded_and_documented(town: Town, client: TestClient) -> None:
    person = town.person("sized", home=ERQI)
    answer = client.post("/api/v1/scans", content=chunks(2 * DEFAULT_LIMIT),
                         headers=bearer(town, person, "person") | JSON)  # fmt: skip
    assert answer.status_code == 413
    with town.services.db.read() as conn:
        codes = [row.code for row in conn.execute(select(t.refusals.c.code))]
    assert codes == ["request.too_large"]  # the code and the route, never the content
    spec = client.get("/openapi.json").json()["paths"]
    for path, operations in spec.items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)
