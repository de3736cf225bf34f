"""Signing out revokes the session, not only the browser's cookie: a copy of the cookie kept on a
shared phone or office computer is refused from the next request on, on the pages and the API.
Every signed-in page offers it; a page for nobody does not."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.counting import counts
from tests.town import Town


def app_client(town: Town) -> TestClient:
    return TestClient(create_app(town.services, run_scheduler=False))


def test_a_person_signing_out_ends_every_copy_of_the_session(town: Town) -> None:
    person = town.person("shared-phone")
    client = app_client(town)
    link = town.link(person)
    assert client.post("/login", data={"token": link}, follow_redirects=False).status_code == 303
    session = client.cookies["hc_session"]
    page = client.get("/me?lang=zh")
    assert page.status_code == 200 and "退出登录" in page.text
    assert client.get("/?lang=en").text.count('action="/logout"') == 1

    signed_out = client.post("/logout", follow_redirects=False)
    assert signed_out.status_code == 303 and "hc_session" not in client.cookies
    copy = app_client(town)
    copy.cookies.set("hc_session", session)
    assert copy.get("/me").status_code == 401
    api = copy.get("/api/v1/me/status", headers={"Authorization": f"Bearer {session}"})
    assert (api.status_code, api.json()["detail"]) == (401, "revoked")
    # Anonymous: no sign-out offered; signing out of nothing, or of a forged cookie, writes
    # nothing and still lands on the home page.
    assert 'action="/logout"' not in app_client(town).get("/").text
    forged = app_client(town)
    forged.cookies.set("hc_session", "not-a-token")
    before = counts(town.services.db)
    assert forged.post("/logout", follow_redirects=False).status_code == 303
    assert app_client(town).post("/logout", follow_redirects=False).status_code == 303
    assert counts(town.services.db) == before


def test_staff_signing_out_ends_the_session_on_a_shared_computer(town: Town) -> None:
    town.register_staff()
    client = app_client(town)
    no_link = client.get("/staff/login?lang=en")  # a sign-in link cut short
    assert no_link.status_code == 401 and "<html" in no_link.text
    token = town.token("zz-off-1", "official")
    assert client.get(f"/staff/login?token={token}", follow_redirects=False).status_code == 303
    console = client.get("/official?lang=en")
    assert console.status_code == 200 and 'action="/logout"' in console.text
    client.post("/logout")
    copy = app_client(town)
    copy.cookies.set("hc_staff", token)
    assert copy.get("/official").status_code == 401
    orders = copy.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert orders.status_code == 401


def test_a_venue_screen_offers_no_sign_out_and_signing_out_leaves_its_device_signed_in(
    town: Town,
) -> None:
    client = app_client(town)
    token = town.token("station", "venue")
    assert client.get(f"/venue/login?token={token}", follow_redirects=False).status_code == 303
    screen = client.get("/venue?lang=en")
    assert screen.status_code == 200 and 'action="/logout"' not in screen.text
    client.post("/logout")  # as anyone passing the public screen could
    assert client.get("/venue").status_code == 200
    assert app_client(town).get(f"/venue/login?token={token}").status_code in (200, 303)


def test_deactivated_staff_are_told_their_sign_in_no_longer_holds(town: Town) -> None:
    town.register_staff()
    token = town.token("hl-erqi", "hotline")
    client = app_client(town)
    client.cookies.set("hc_staff", token)
    assert client.get("/official").status_code == 403  # signed in, not for this page
    with town.services.db.write() as conn:
        conn.execute(update(t.staff).where(t.staff.c.id == "hl-erqi").values(active=False))
    assert client.get("/official").status_code == 401
    answer = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json()["code"]) == (401, "auth.invalid_token")
