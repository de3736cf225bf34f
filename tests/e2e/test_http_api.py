"""The HTTP API end to end, in process: intake, public reads, a person's status, errors."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from healthcode.services.tokens import PERSON_AUDIENCE
from tests.counting import counts, refusal_codes
from tests.town import Town

P1 = "22222222222222222222222222222222"


@pytest.fixture
def client(town: Town) -> TestClient:
    from healthcode.web.app import create_app

    return TestClient(create_app(town.services, run_scheduler=False))


def token_for(town: Town, person: str, **overrides: object) -> str:
    now = town.clock.now()
    return town.services.tokens.mint(
        person,
        role="person",
        audience=PERSON_AUDIENCE,
        now=now,
        ttl=timedelta(hours=1),
        **overrides,
    )  # type: ignore[arg-type]


def test_a_batch_over_http_and_the_status_it_causes(town: Town, client: TestClient) -> None:
    body = town.batch(
        "lab-1", [town.record("test_result", P1, town.clock.now(), method="pcr", result="positive")]
    )
    answer = client.post("/api/v1/evidence/batches", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1 and answer.json()["status_changes"] == 1
    status = client.get(
        "/api/v1/me/status", headers={"Authorization": f"Bearer {token_for(town, P1)}"}
    )
    assert status.status_code == 200
    got = status.json()
    assert (got["colour"], got["rule_id"]) == ("red", "confirmed-case")
    assert got["reason"]["zh"].startswith("核酸") and got["reason"]["en"].startswith("Positive")
    assert got["evidence"][0]["authority_name"]["en"] == "Zhengzhou Health Commission"
    assert got["history"][0]["colour"] == "red"


def test_a_refused_batch_answers_with_code_and_both_languages_and_writes_only_a_refusal(
    town: Town, client: TestClient
) -> None:
    body = town.batch(
        "lab-1", [town.record("test_result", P1, town.clock.now(), method="pcr", result="positive")]
    )
    body["records"][0]["result"] = "negative"
    before = counts(town.services.db)
    answer = client.post("/api/v1/evidence/batches", json=body)
    assert answer.status_code == 401
    assert answer.json()["code"] == "batch.signature_invalid"
    assert set(answer.json()["message"]) == {"zh", "en"}
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db) == ["batch.signature_invalid"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (b"{not json", 422, "batch.malformed"),
        (b"[1, 2]", 422, "batch.malformed"),
        (json.dumps({"source": "lab-1"}).encode(), 422, "batch.malformed"),
    ],
)
def test_malformed_bodies(
    town: Town, client: TestClient, payload: bytes, status: int, code: str
) -> None:
    before = counts(town.services.db)
    answer = client.post(
        "/api/v1/evidence/batches", content=payload, headers={"content-type": "application/json"}
    )
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert counts(town.services.db) == before
    assert refusal_codes(town.services.db) == [code]


def test_public_reads(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    editions = client.get("/api/v1/rulebooks").json()
    assert [e["version"] for e in editions] == [1]
    current = client.get("/api/v1/rulebooks/current").json()
    assert current["source"]["rules"][0]["id"] == "confirmed-case"
    assert client.get("/api/v1/rulebooks/1").json()["digest"] == current["digest"]
    missing = client.get("/api/v1/rulebooks/99")
    assert (missing.status_code, missing.json()["code"]) == (404, "rulebook.not_found")
    assert client.get("/api/v1/designations").json() == []
    assert "/api/v1/evidence/batches" in client.get("/openapi.json").json()["paths"]


def _forged(town: Town) -> str:
    payload = {"sub": P1, "aud": PERSON_AUDIENCE, "iss": "healthcode", "role": "person",
               "iat": int(town.clock.now().timestamp()), "exp": int(town.clock.now().timestamp()) + 3600}  # fmt: skip
    return jwt.encode(
        payload,
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": town.services.tokens.key_id},
    )


def _alg_none(town: Town) -> str:
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "none", "kid": town.services.tokens.key_id}).encode()
    ).rstrip(b"=")
    claims = base64.urlsafe_b64encode(
        json.dumps(
            {
                "sub": P1,
                "aud": PERSON_AUDIENCE,
                "iss": "healthcode",
                "role": "person",
                "iat": 0,
                "exp": 4102444800,
            }
        ).encode()
    ).rstrip(b"=")
    return f"{header.decode()}.{claims.decode()}."


@pytest.mark.parametrize(
    "kind", ["none", "garbage", "forged", "alg-none", "wrong-audience", "expired", "staff-role"]
)
def test_bad_tokens_are_refused(town: Town, client: TestClient, kind: str) -> None:
    services = town.services
    now = town.clock.now()
    token = {
        "none": None,
        "garbage": "abc.def.ghi",
        "forged": _forged(town),
        "alg-none": _alg_none(town),
        "wrong-audience": services.tokens.mint(P1, role="person", audience="healthcode:staff", now=now, ttl=timedelta(hours=1)),
        "expired": services.tokens.mint(P1, role="person", audience=PERSON_AUDIENCE, now=now - timedelta(hours=2), ttl=timedelta(hours=1)),
        "staff-role": services.tokens.mint(P1, role="official", audience=PERSON_AUDIENCE, now=now, ttl=timedelta(hours=1)),
    }[kind]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = client.get("/api/v1/me/status", headers=headers)
    assert answer.status_code in (401, 403)
    assert answer.json()["code"] in {"auth.required", "auth.invalid_token", "auth.forbidden"}
