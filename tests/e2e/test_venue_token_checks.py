"""A venue's device signed in with the token ``healthcode venue token`` prints checks identity
cards over the API and on the venue page: each check is logged as made with that token (a
``venue_token_use`` entry after the check's ``access``), and the venue's page shows, for each
token, how many cards were checked with it and when last, apart from when it was revoked, in
zh and en; the public log names the kind in both. A token saying the operator issued it that
was never logged is refused, 401, nothing written. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient

from healthcode.services.tokens import VENUE_AUDIENCE
from healthcode.store import venue_tokens
from healthcode.web.i18n import local_time
from tests.counting import counts
from tests.e2e.test_person_page_details import section
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ZHONGYUAN, Town, days

ZH_HEADING = "为本场所签发的设备登录"
EN_HEADING = "Device sign-ins issued for this venue"


def card(town: Town, name: str) -> str:
    person = town.person(name, home=ZHONGYUAN)
    return town.services.passes.identity_card(person, town.clock.now()).text


def uses(town: Town, size: int) -> list[tuple[int, dict[str, object]]]:
    return [
        (index, json.loads(body)["data"])
        for index, kind, body in entries_after(town, size)
        if kind == "venue_token_use"
    ]


def test_each_card_checked_with_the_device_token_is_logged_and_counted_on_the_venue_page(
    town: Town, client: TestClient
) -> None:
    first, second = card(town, "张奶奶奶"), card(town, "李爷爷爷")
    token = town.services.venue_tokens.issue("mall", now=town.clock.now(), ttl=days(30))
    claims = town.services.tokens.verify(token, audience=VENUE_AUDIENCE, now=town.clock.now())
    other = town.services.venue_tokens.issue("mall", now=town.clock.now(), ttl=days(1))
    town.services.tokens.sign_out(other, audience=VENUE_AUDIENCE, now=town.clock.now())
    town.clock.advance(hours=2)  # the checks' instant is no issue's
    size = log_size(town)
    answer = client.post(
        "/api/v1/venue/identity-check", json={"card": first},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert client.get(f"/venue/login?token={token}", follow_redirects=False).status_code == 303
    town.clock.advance(minutes=7)
    assert client.post("/venue/check", data={"text": second}).status_code == 200
    logged = entries_after(town, size)
    reads = [index for index, kind, _ in logged if kind == "access"]
    assert [kind for _, kind, _ in logged] == ["access", "venue_token_use"] * 2
    assert [data["entry"] for _, data in uses(town, size)] == reads
    with town.services.db.read() as conn:
        issued = venue_tokens.find(conn, claims.token_id)
    assert issued is not None
    assert {data["token"] for _, data in uses(town, size)} == {issued.log_index}
    last = local_time(town.clock.now(), town.services.settings.timezone)
    zh = section(client.get("/venue?lang=zh").text, ZH_HEADING)
    en = section(client.get("/venue?lang=en").text, EN_HEADING)
    for page, checks, revoked in ((zh, "已核验身份卡（最近一次）", "撤销时间"),
                                  (en, "Cards checked (last)", "Revoked")):  # fmt: skip
        assert f'<th scope="col">{checks}</th><th scope="col">{revoked}</th>' in page
        assert f"<td>2 ({last})</td><td>–</td>" in page  # the device's own token
        # The revoked one: no check, and when it was revoked in a column of its own.
        revoked_at = local_time(claims.issued_at, town.services.settings.timezone)
        assert f"<td>0</td><td>{revoked_at}</td>" in page
    town.services.sequencer.integrate(now=town.clock.now())
    assert "使用场所设备令牌核验的身份卡" in client.get("/public/log?lang=zh").text
    assert (
        "Identity card checked with a venue device token" in client.get("/public/log?lang=en").text
    )
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_a_device_token_the_operator_never_logged_checks_no_card(
    town: Town, client: TestClient
) -> None:
    """Minted with the signing key, saying the operator issued it, with no ``venue_token``
    entry behind it: the check is refused and neither the read nor a use is written."""
    text = card(town, "张奶奶奶")
    forged = town.services.tokens.mint(
        "mall", role="venue", audience=VENUE_AUDIENCE, now=town.clock.now(),
        ttl=timedelta(hours=1), token_id="f" * 32, operator=True,
    )  # fmt: skip
    before = counts(town.services.db)
    refused = client.post(
        "/api/v1/venue/identity-check", json={"card": text},
        headers={"Authorization": f"Bearer {forged}"},
    )  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")
    assert set(refused.json()["message"]) == {"zh", "en"}
    assert counts(town.services.db) == before
