"""A person's revoked token stops working at once on the persons' routes, whose revocation
lookups are made together by one thread (web/auth.py, services/tokens.py): the next request
after the revocation is refused, and a refused scan writes nothing."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from healthcode.services.tokens import PERSON_AUDIENCE
from healthcode.store import staff as staff_repo
from healthcode.web.app import create_app
from tests.counting import counts
from tests.town import Town


def test_a_revoked_person_token_is_refused_by_the_next_request(town: Town) -> None:
    client = TestClient(create_app(town.services, run_scheduler=False))
    person = town.person("revoked")
    now = town.clock.now()
    token = town.services.tokens.mint(
        person, role="person", audience=PERSON_AUDIENCE, now=now, ttl=timedelta(hours=1)
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me/status", headers=headers).status_code == 200
    code = town.services.places.current_code("market", now).text
    assert client.post("/api/v1/scans", json={"code": code}, headers=headers).status_code == 200

    jti = town.services.tokens.check(token, audience=PERSON_AUDIENCE, now=now).token_id
    with town.services.db.write() as conn:
        staff_repo.revoke_token(conn, jti, now)
    before = counts(town.services.db)
    status = client.get("/api/v1/me/status", headers=headers)
    assert status.status_code == 401
    assert (status.json()["code"], status.json()["detail"]) == ("auth.invalid_token", "revoked")
    other = town.services.places.current_code("station", now).text
    scan = client.post("/api/v1/scans", json={"code": other}, headers=headers)
    assert scan.status_code == 401
    assert counts(town.services.db)["evidence"] == before["evidence"]
