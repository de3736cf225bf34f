"""Invariant 6: every answer that reports state carries the checkpoint it was computed at.

Walks every GET route of the API as a role its policy admits (the authorization matrix's
town) and asserts the ``Healthcode-Checkpoint`` header on each answer; a route that reports no
state of the log's is declared below with the reason, so a new route cannot leave the header
out silently. Writes that report state are checked where they are tested (identity check here).
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from healthcode.web.checkpoints import HEADER
from healthcode.web.routes import all_routes
from tests.e2e.test_authorization_matrix import fill, headers_for, policy_of, setup  # noqa: F401
from tests.town import Town

NO_STATE = {
    "/api/v1/me/card": "a printable credential, the same until it is reissued",
    "/api/v1/me/dependants/{person_key}/card": "a printable credential",
    "/api/v1/venue/place-code": "a rotating code, computed from the venue's key and the time",
    "/api/v1/venue/place-code/static": "a printed code",
    "/api/v1/trust-list": "signed and versioned by itself (ETag), checked against an anchor",
    "/api/v1/trust-list/anchors": "the keys that sign the trust list",
    "/api/v1/me/receipts/{log_index}": "a tlog-proof: it holds its own checkpoint",
    "/api/v1/me/appeals/{appeal_id}/receipts/{log_index}": "a tlog-proof",
    "/api/v1/me/scans/{record_id}/proof": "an inclusion proof with its own tlog-proof",
}
# Ids no record of the walk's town has: the header of these answers is checked where they are
# tested with a record (tests/e2e/test_appeals_http.py, test_oversight_http.py).
UNREACHED = {"/api/v1/rulebooks/{version:int}", "/api/v1/me/appeals/{appeal_id}",
             "/api/v1/oversight/cases/{case_id}"}  # fmt: skip


def caller_of(policy: object) -> str:
    roles = sorted(getattr(policy, "roles", ()))
    if getattr(policy, "scope", "") in ("public", "source"):
        return "anonymous"
    return "person" if "person" in roles else roles[0]


def test_every_get_route_reporting_state_carries_the_checkpoint(
    setup: tuple[Town, TestClient, str],  # noqa: F811
) -> None:
    town, client, person = setup
    missing, unreached = [], set()
    for route in all_routes(client.app):
        policy = policy_of(route)
        if "GET" not in route.methods or not route.path.startswith("/api/") or policy is None:
            continue
        if route.path in NO_STATE:
            continue
        url = fill(route.path, person, town)
        if "purpose" in str(route.dependant.query_params):
            url += "?purpose=hotline_request"
        answer = client.get(url, headers=headers_for(town, caller_of(policy), person))
        if answer.status_code >= 300:
            unreached.add(route.path)
        elif HEADER not in answer.headers:
            missing.append(route.path)
    assert missing == []
    assert unreached == UNREACHED


def test_empty_lists_and_the_identity_check_carry_it(
    setup: tuple[Town, TestClient, str],  # noqa: F811
) -> None:
    town, client, person = setup
    me = headers_for(town, "person", person)
    assert client.get("/api/v1/me/appeals", headers=me).json() == []
    assert HEADER in client.get("/api/v1/me/appeals", headers=me).headers
    card = client.get("/api/v1/me/card?format=json", headers=me).json()["text"]
    venue = headers_for(town, "venue", person)
    answer = client.post("/api/v1/venue/identity-check", json={"card": card}, headers=venue)
    assert answer.status_code == 200, answer.text
    assert answer.headers[HEADER].startswith(town.services.settings.log_origin)
