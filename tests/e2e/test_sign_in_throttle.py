"""Brute-force protection of the staff password sign-in: after 5 failures for a badge id (or 50
from one address) within 15 minutes, 429 ``auth.too_many_attempts`` with ``Retry-After``, even
for the right password; the fake clock moves time, nothing sleeps. No badge id or address is
stored or logged."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from healthcode.store import tables as t
from tests.town import Town

RIGHT = {"username": "zz-off-1", "password": "correct horse 1"}
WRONG = {"username": "zz-off-1", "password": "wrong"}


def sign_in(client: TestClient, form: dict[str, str]) -> tuple[int, str | None]:
    answer = client.post("/api/v1/staff/token", data=form)
    return answer.status_code, None if answer.status_code == 200 else answer.json()["code"]


def test_a_badge_is_throttled_after_five_failures(
    town: Town, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(5):
        assert sign_in(client, WRONG) == (401, "auth.invalid_token")
        town.clock.advance(seconds=10)
    answer = client.post("/api/v1/staff/token", data=RIGHT)  # the right one: refused too
    assert (answer.status_code, answer.json()["code"]) == (429, "auth.too_many_attempts")
    assert set(answer.json()["message"]) == {"zh", "en"}
    # The first failure (50 s ago) leaves the window 15 minutes after it: 850 s to wait.
    assert answer.headers["Retry-After"] == "850"
    assert sign_in(client, {**WRONG, "username": "zz-sup-1"}) == (401, "auth.invalid_token")
    town.clock.advance(seconds=849)
    assert sign_in(client, RIGHT) == (429, "auth.too_many_attempts")
    town.clock.advance(seconds=1)
    assert sign_in(client, RIGHT) == (200, None)
    # A success forgets the badge's failures: five more are needed to throttle it again.
    for _ in range(4):
        assert sign_in(client, WRONG) == (401, "auth.invalid_token")
    assert sign_in(client, RIGHT) == (200, None)
    with town.services.db.read() as conn:
        stored = [row.subject for row in conn.execute(select(t.sign_in_failures.c.subject))]
    assert stored and not any("zz-" in s or "testclient" in s for s in stored)
    assert "zz-off-1" not in caplog.text and "zz-sup-1" not in caplog.text


def test_an_address_is_throttled_across_badges(town: Town, client: TestClient) -> None:
    per_address = town.services.staff.throttle.policy.per_address
    for n in range(per_address):
        assert sign_in(client, {"username": f"guess-{n}", "password": "x"})[0] == 401
    assert sign_in(client, RIGHT) == (429, "auth.too_many_attempts")
    spec = client.get("/openapi.json").json()["paths"]["/api/v1/staff/token"]["post"]
    assert "429" in spec["responses"]
