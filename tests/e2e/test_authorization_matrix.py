"""The authorization matrix: every route × every role, generated from the routes themselves.

A route without a declared policy fails the test. Each role (and anonymous, expired, wrong
audience and forged tokens) must get 401/403 where the policy does not admit it and must get
past authorization where it does; scoped routes are also tried inside and outside the caller's
jurisdiction.
"""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from healthcode.web.app import create_app
from healthcode.web.auth import ROLES
from healthcode.web.routes import all_routes
from tests.town import ERQI, Town

SUBJECTS = {"person": None, "venue": "station", "hotline": "hl-erqi", "official": "zz-off-1",
            "supervisor": "zz-sup-1", "auditor": "auditor-1"}  # fmt: skip
BAD_TOKENS = ("expired", "wrong-audience", "forged")


@pytest.fixture
def setup(town: Town) -> tuple[Town, TestClient, str]:
    town.register_staff()
    person = town.person("matrix", home=ERQI)
    child = town.person("matrix-child", home=ERQI)
    town.services.identity.add_guardian(person, child, now=town.clock.now())
    town.test(person, town.clock.now(), "negative")
    town.services.sequencer.integrate(now=town.clock.now())
    return town, TestClient(create_app(town.services, run_scheduler=False)), person


def policy_of(route) -> object:  # type: ignore[no-untyped-def]
    found = [getattr(dep.call, "policy", None) for dep in route.dependant.dependencies]
    found = [p for p in found if p is not None]
    return found[0] if found else None


def headers_for(town: Town, who: str, person: str) -> dict[str, str]:
    now = town.clock.now()
    tokens = town.services.tokens
    if who == "anonymous":
        return {}
    if who == "expired":
        token = tokens.mint(
            "zz-off-1", role="official", now=now - timedelta(hours=1), ttl=timedelta(minutes=15)
        )
    elif who == "wrong-audience":
        token = tokens.mint(
            person,
            role="person",
            now=now,
            ttl=timedelta(minutes=15),
            audience="healthcode:elsewhere",
        )
    elif who == "forged":
        claims = {"iss": "healthcode", "sub": "auditor-1", "aud": "healthcode:staff", "role": "auditor",
                  "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 600, "jti": "x"}  # fmt: skip
        token = jwt.encode(
            claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": tokens.key_id}
        )
    else:
        token = tokens.mint(SUBJECTS[who] or person, role=who, now=now, ttl=timedelta(minutes=15))
    return {"Authorization": f"Bearer {token}"}


def fill(path: str, person: str, town: Town) -> str:
    # Path people are the caller's dependant: in scope for the guardian and the Erqi hotline.
    child = town.services.identity.dependants(person)[0]
    values = {"log_index": "1", "person_key": child, "request_id": "req-none", "order_id": "ord-none",
              "designation_id": "des-none", "version": "99", "version:int": "99", "source_id": "lab-1", "path:path": "0/000",
              "old_size": "1", "new_size": "1", "kid": "0000000000000000", "appeal_id": "apl-none",
              "record_id": "v-none", "key_id": "0000000000000000", "index": "0",
              "case_id": "case-none", "change_id": "key-none"}  # fmt: skip
    return re.sub(r"{([^}]+)}", lambda m: values[m.group(1)], path)


def test_every_route_declares_a_policy(setup: tuple[Town, TestClient, str]) -> None:
    _, client, _ = setup
    missing = [
        f"{sorted(r.methods)} {r.path}"
        for r in all_routes(client.app)
        if r.path not in {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
        and policy_of(r) is None
    ]  # type: ignore[arg-type]
    assert missing == []


def test_every_route_for_every_role(setup: tuple[Town, TestClient, str]) -> None:
    town, client, person = setup
    checked = 0
    for route in all_routes(client.app):  # type: ignore[arg-type]
        policy = policy_of(route)
        if policy is None:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            url = fill(route.path, person, town)
            if "purpose" in str(route.dependant.query_params):
                url += "?purpose=hotline_request"
            # A sign-in link's check is of its own token, not of the caller's.
            if route.path == "/staff/login":
                url += "?token=" + town.token("zz-off-1", "official")
            for who in (*ROLES, *BAD_TOKENS):
                # A person's link signs in once: each caller opens a link of its own, and
                # signs in with it by the form's POST.
                link = town.link(person) if route.path == "/login" else ""
                answer = client.request(
                    method,
                    url + (f"?token={link}" if link and method == "GET" else ""),
                    headers=headers_for(town, who, person),
                    json={} if method == "POST" and not link else None,
                    data={"token": link} if method == "POST" and link else None,
                    follow_redirects=False,
                )
                client.cookies.clear()  # a sign-in link's cookie is not the next caller's
                assert answer.status_code != 500, (method, url, who, answer.text)
                refused = answer.status_code in (401, 403)
                public = policy.scope in ("public", "source")
                admitted = public or (who in policy.roles)
                if admitted:
                    assert not refused, (method, url, who, answer.status_code, answer.text[:200])
                else:
                    assert refused, (method, url, who, answer.status_code, answer.text[:200])
                checked += 1
    assert checked > 250


def test_scoped_routes_outside_the_jurisdiction(setup: tuple[Town, TestClient, str]) -> None:
    town, client, person = setup
    sh_official = headers_for(town, "official", person) | {
        "Authorization": f"Bearer {town.token('sh-off-1', 'official')}"
    }
    designation = {"id": "d-outside", "area": ERQI, "level": "high", "valid_from": town.clock.now().isoformat(),
                   "case_count": 3, "basis": "3 cases"}  # fmt: skip
    outside = client.post("/api/v1/designations", json=designation, headers=sh_official)
    assert (outside.status_code, outside.json()["code"]) == (
        403,
        "designation.outside_jurisdiction",
    )
    inside = client.post(
        "/api/v1/designations", json=designation, headers=headers_for(town, "official", person)
    )
    assert inside.status_code == 200
    sh_supervisor = {"Authorization": f"Bearer {town.token('sh-sup-1', 'supervisor')}"}
    revoke = client.post(
        "/api/v1/sources/lab-1/revoke", json={"reason": "key_compromised"}, headers=sh_supervisor
    )
    assert revoke.status_code == 403
    sh_reader = {"Authorization": f"Bearer {town.token('sh-off-1', 'official')}"}
    read = client.get(f"/api/v1/persons/{person}/status?purpose=contact_tracing", headers=sh_reader)
    assert (read.status_code, read.json()["code"]) == (403, "access.outside_scope")
    ours = client.get(
        f"/api/v1/persons/{person}/status?purpose=contact_tracing",
        headers=headers_for(town, "official", person),
    )
    assert ours.status_code == 200
    # A person can never read another person's record, nor a venue anyone's explanation.
    other = town.person("other", home=ERQI)
    for who in ("person", "venue"):
        answer = client.get(
            f"/api/v1/persons/{other}/status?purpose=hotline_request",
            headers=headers_for(town, who, person),
        )
        assert answer.status_code in (401, 403) and other not in answer.text
    not_mine = client.get(
        f"/api/v1/me/dependants/{other}/status", headers=headers_for(town, "person", person)
    )
    assert not_mine.status_code == 403
