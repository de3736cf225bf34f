"""The person page: log in by link, the code, the rule and the reason in zh and in en."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from healthcode.bootstrap import Services
from healthcode.services.tokens import SIGN_IN_AUDIENCE, VENUE_AUDIENCE
from healthcode.sim.city import build_city
from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.town import Town


def login(client: TestClient, services: Services, person: str) -> None:
    token = services.tokens.mint(
        person,
        role="person",
        audience=SIGN_IN_AUDIENCE,
        now=services.clock.now(),
        ttl=timedelta(hours=1),
    )
    answer = client.post("/login", data={"token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/me"
    assert "httponly" in answer.headers["set-cookie"].lower()


def test_red_person_page_in_both_languages(town: Town) -> None:
    alice = town.person("王小明")
    town.test(alice, town.clock.now() - timedelta(hours=1), "positive")
    client = TestClient(create_app(town.services, run_scheduler=False))
    login(client, town.services, alice)
    zh = client.get("/me").text
    assert "红码" in zh and "confirmed-case" in zh and "核酸或抗原检测阳性" in zh
    assert "郑州市卫健委" in zh and "王小明" in zh
    en = client.get("/me?lang=en").text
    assert "Red code" in en and "confirmed-case" in en and "Positive PCR or antigen test" in en
    assert "Zhengzhou Health Commission" in en
    assert "Red code" in client.get("/me").text  # the language choice is remembered


def test_without_a_session_the_page_asks_to_sign_in(town: Town) -> None:
    client = TestClient(create_app(town.services, run_scheduler=False))
    assert client.get("/me").status_code == 401
    assert client.get("/login?token=nonsense").status_code == 401


def test_seeded_city_has_a_red_person_whose_page_explains_it(
    sqlite_database, clock, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_services

    services = make_services(sqlite_database, clock, tmp_path / "data")
    summary = build_city(services, people=400, seed=7, days=10)
    assert summary.built and summary.people == 400
    assert summary.by_colour["red"] > 0 and summary.by_colour["green"] > 0
    assert set(summary.login_links) >= {"red", "green"}
    client = TestClient(create_app(services, run_scheduler=False))
    token = summary.login_links["red"].split("token=", 1)[1]
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
    page = client.get("/me").text
    assert "红码" in page
    status = client.get("/api/v1/me/status").json()
    assert (
        status["colour"] == "red" and status["rule_id"] in page and status["reason"]["zh"] in page
    )
    english = client.get("/me?lang=en").text
    assert status["reason"]["en"] in english and "Red code" in english
    # The demo's link is the operator's, logged and listed on the resident's page, spent.
    [issued] = client.get("/api/v1/me/tokens").json()
    assert issued["kind"] == "login_link" and issued["revoked_at"] is not None
    assert "sign-in link (signs in once)" in english
    assert services.self_check.run(now=services.clock.now(), halt=False).ok
    assert set(summary.staff_links) >= {"official", "supervisor", "hotline", "auditor"}
    auditor = summary.staff_links["auditor"].split("token=", 1)[1]
    signed_in = client.get(f"/staff/login?token={auditor}", follow_redirects=False)
    assert signed_in.headers["location"].startswith("/oversight")
    # The venue device's link is the operator's too: logged, listed on the venue's page.
    [(label, link)] = [(k, v) for k, v in summary.staff_links.items() if k.startswith("venue")]
    device = link.split("token=", 1)[1]
    claims = services.tokens.verify(device, audience=VENUE_AUDIENCE, now=services.clock.now())
    with services.db.read() as conn:
        [row] = conn.execute(t.venue_tokens.select()).all()
    assert claims.operator_issued and (claims.token_id, claims.subject) == (
        row.token_id, row.venue_id,
    ) and row.venue_id in label  # fmt: skip
    assert client.get(f"/venue/login?token={device}", follow_redirects=False).status_code == 303
    venue_page = client.get("/venue?lang=en").text
    assert "Device sign-ins issued for this venue" in venue_page
    assert f'<a href="/public/log/{row.log_index}">' in venue_page
    again = build_city(services, people=400, seed=7)
    assert not again.built  # an existing city is never rebuilt over
