"""A member of staff replaces the password the operator set, over the API and on the pages,
signs in on the pages with their badge and password, and sees their sign-ins
(web/api/staff_auth.py, web/pages/staff_account.py). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from healthcode.store import tables as t
from tests.counting import counts, refusal_codes
from tests.town import Town

BADGE, FIRST, OWN = "zz-off-1", "correct horse 1", "only I know this 1"


def signed_in(client: TestClient, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/staff/token", data={"username": BADGE, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_over_the_api(town: Town, client: TestClient) -> None:
    headers = signed_in(client, FIRST)
    before = counts(town.services.db)
    wrong = client.post(
        "/api/v1/staff/password", headers=headers,
        json={"current_password": "a wrong one", "new_password": OWN},
    )  # fmt: skip
    assert wrong.status_code == 403 and wrong.json()["code"] == "staff_password.current_wrong"
    assert refusal_codes(town.services.db)[-1] == "staff_password.current_wrong"
    short = client.post(
        "/api/v1/staff/password", headers=headers,
        json={"current_password": FIRST, "new_password": "short"},
    )  # fmt: skip
    assert short.status_code == 422 and short.json()["code"] == "staff_password.invalid"
    long = client.post(
        "/api/v1/staff/password", headers=headers,
        json={"current_password": FIRST, "new_password": "x" * 201},
    )  # fmt: skip
    assert long.status_code == 422 and long.json()["code"] == "staff_password.invalid"
    nul = client.post(
        "/api/v1/staff/password", headers=headers,
        json={"current_password": FIRST, "new_password": "abcdefgh\x00ij"},
    )  # fmt: skip
    assert nul.status_code == 422 and nul.json()["code"] == "request.malformed"
    after = counts(town.services.db)
    assert after["staff_password_changes"] == before["staff_password_changes"] == 0
    assert after["log entries"] == before["log entries"]
    town.clock.advance(seconds=1)  # `iat` is whole seconds: a sign-in in the change's stays
    changed = client.post(
        "/api/v1/staff/password", headers=headers,
        json={"current_password": FIRST, "new_password": OWN},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    index = changed.json()["log_index"]
    with town.services.db.read() as conn:
        [row] = conn.execute(t.staff_password_changes.select()).all()
    assert (row.log_index, row.staff_id) == (index, BADGE)
    # Every session from before the change ends, the one that made it too.
    ended = client.get("/api/v1/orders", headers=headers)
    assert ended.status_code == 401 and ended.json()["code"] == "auth.invalid_token"
    assert client.get("/api/v1/orders", headers=signed_in(client, OWN)).status_code == 200
    old = client.post("/api/v1/staff/token", data={"username": BADGE, "password": FIRST})
    assert old.status_code == 401


def test_a_token_the_operator_issued_cannot_change_it(town: Town, client: TestClient) -> None:
    token = town.services.staff.issue_token(BADGE, now=town.clock.now(), ttl=timedelta(hours=1))
    answer = client.post(
        "/api/v1/staff/password", headers={"Authorization": f"Bearer {token}"},
        json={"current_password": FIRST, "new_password": OWN},
    )  # fmt: skip
    assert answer.status_code == 403 and answer.json()["code"] == "staff_password.operator_token"
    page = client.get("/staff/account?lang=en", headers={"Authorization": f"Bearer {token}"})
    assert "signed in with a token the operator issued" in page.text
    assert 'action="/staff/password"' not in page.text


def test_sign_in_and_change_it_on_the_pages(town: Town, client: TestClient) -> None:
    form = client.get("/staff/sign-in?lang=zh")
    assert form.status_code == 200 and "工号" in form.text and 'type="password"' in form.text
    empty = client.post("/staff/sign-in?lang=en", data={})
    assert empty.status_code == 422
    wrong = client.post("/staff/sign-in?lang=en", data={"badge": BADGE, "password": "nope"})
    assert wrong.status_code == 401 and "Unknown badge or wrong password." in wrong.text
    assert f'value="{BADGE}"' in wrong.text  # the badge is not typed twice
    landed = client.post(
        "/staff/sign-in", data={"badge": BADGE, "password": FIRST}, follow_redirects=False
    )
    assert landed.status_code == 303 and landed.headers["location"] == "/official/appeals"
    assert "hc_staff" in landed.cookies
    page = client.get("/staff/account?lang=en")
    assert "still the one the operator set" in page.text
    assert 'href="/staff/account" aria-current="page"' in page.text
    # The sign-in just made is listed, with its log entry.
    [sign_in] = town.services.staff.sign_ins(BADGE)
    assert f'<a href="/public/log/{sign_in.log_index}">' in page.text
    mismatch = client.post(
        "/staff/password?lang=zh", data={"current": FIRST, "new": OWN, "again": OWN + "x"}
    )
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    town.clock.advance(seconds=1)
    done = client.post("/staff/password?lang=en", data={"current": FIRST, "new": OWN, "again": OWN})
    assert done.status_code == 200 and "only you know it now" in done.text
    assert done.headers["cache-control"] == "no-store"
    # Signed in again with the new password: the page still opens, and says when it changed.
    page = client.get("/staff/account?lang=en")
    assert page.status_code == 200 and "Your password was last changed at" in page.text
    assert len(town.services.staff.sign_ins(BADGE)) == 2
    client.cookies.clear()
    assert client.get("/staff/account").status_code == 401
    again = client.post(
        "/staff/sign-in", data={"badge": BADGE, "password": OWN}, follow_redirects=False
    )
    assert again.status_code == 303


def test_a_reset_by_the_operator_ends_the_sessions_signed_in_before_it(
    town: Town, client: TestClient
) -> None:
    headers = signed_in(client, FIRST)
    assert client.get("/api/v1/orders", headers=headers).status_code == 200
    town.clock.advance(seconds=1)
    town.services.staff.register(
        [{"id": BADGE, "role": "official", "authority": "zz-health", "name": "张伟",
          "password": "the operator's 2"}], now=town.clock.now(),
    )  # fmt: skip
    assert client.get("/api/v1/orders", headers=headers).status_code == 401
    # A load that keeps the password ends nothing.
    kept = signed_in(client, "the operator's 2")
    town.clock.advance(seconds=1)
    town.services.staff.register(
        [{"id": BADGE, "role": "official", "authority": "zz-health", "name": "张伟"}],
        now=town.clock.now(),
    )
    assert client.get("/api/v1/orders", headers=kept).status_code == 200
    # The operator's own token is no sign-in: a reset leaves it acting (it is logged).
    issued = town.services.staff.issue_token(BADGE, now=town.clock.now(), ttl=timedelta(hours=1))
    town.clock.advance(seconds=1)
    town.services.staff.register(
        [{"id": BADGE, "role": "official", "authority": "zz-health", "name": "张伟",
          "password": "the operator's 3"}], now=town.clock.now(),
    )  # fmt: skip
    assert (
        client.get("/api/v1/orders", headers={"Authorization": f"Bearer {issued}"}).status_code
        == 200
    )
