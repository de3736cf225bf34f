"""`healthcode admin token PERSON`: the bearer token and the login link the operator issues a
person are each a ``person_token`` entry with its row, written together, before they are
printed; the person's page (in zh and en) and ``GET /api/v1/me/tokens`` list them; a person
key no one has, or a lifetime out of bounds, is refused, exit 2, nothing written. On SQLite
and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.services.tokens import PERSON_AUDIENCE
from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.counting import counts
from tests.e2e.test_person_page_details import section
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import Town


@pytest.fixture
def cli(town: Town, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("healthcode.cli.admin.services", lambda: town.services)
    return CliRunner()


def issued(cli: CliRunner, *args: str) -> tuple[str, str]:
    printed = cli.invoke(app, ["admin", "token", *args])
    assert printed.exit_code == 0, printed.output
    bearer, link_line = printed.output.split()[:2]
    link = re.fullmatch(r"http://[^/]+/login\?token=(.+)", link_line)
    assert link is not None
    return bearer, link.group(1)


def test_what_the_operator_issues_is_logged_and_listed_on_the_persons_page(
    cli: CliRunner, town: Town
) -> None:
    person = town.person("令牌页")
    size = log_size(town)
    bearer, link = issued(cli, person, "--hours", "2")
    logged = entries_after(town, size)
    assert [kind for _, kind, _ in logged] == ["person_token", "person_token"]
    with town.services.db.read() as conn:
        rows = conn.execute(t.person_tokens.select().order_by(t.person_tokens.c.log_index)).all()
    assert [(r.person_key, r.kind, r.log_index) for r in rows] == [
        (person, "bearer", logged[0][0]), (person, "login_link", logged[1][0]),
    ]  # fmt: skip
    claims = town.services.tokens.verify(bearer, audience=PERSON_AUDIENCE, now=town.clock.now())
    assert claims.operator_issued and claims.token_id == rows[0].token_id
    client = TestClient(create_app(town.services, run_scheduler=False))
    assert client.post("/login", data={"token": link}, follow_redirects=False).status_code == 303
    zh = section(client.get("/me?lang=zh").text, "为您签发的令牌")
    assert "持有者令牌（供应用使用）" in zh and "登录链接（仅可登录一次）" in zh
    assert f">{rows[0].log_index}</a>" in zh and f">{rows[1].log_index}</a>" in zh
    en = section(client.get("/me?lang=en").text, "Tokens issued for you")
    assert "bearer token (for an app)" in en and "sign-in link (signs in once)" in en
    listed = client.get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {bearer}"})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [(x["kind"], x["log_index"]) for x in body] == [
        ("login_link", rows[1].log_index), ("bearer", rows[0].log_index),
    ]  # fmt: skip
    assert body[0]["kind_name"] == {
        "zh": "登录链接（仅可登录一次）",
        "en": "sign-in link (signs in once)",
    }
    assert body[0]["revoked_at"] is not None and body[1]["revoked_at"] is None  # the link spent
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_a_person_with_no_token_issued_is_told_so(town: Town) -> None:
    from tests.e2e.test_person_page import login  # a session of the tests' own making

    person = town.person("无令牌")
    client = TestClient(create_app(town.services, run_scheduler=False))
    login(client, town.services, person)
    assert "尚未为您签发任何令牌。" in client.get("/me?lang=zh").text
    assert "No token has been issued for you." in client.get("/me?lang=en").text


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["0" * 32], "person_token.person_unknown"),
        (["not-a-person-key"], "person_token.person_unknown"),
        (["KNOWN", "--hours", "0"], "person_token.ttl_invalid"),
        (["KNOWN", "--hours", "169"], "person_token.ttl_invalid"),
        (["KNOWN", "--hours", "100000000000"], "person_token.ttl_invalid"),
    ],
)
def test_an_unknown_person_or_a_lifetime_out_of_bounds_is_refused(
    cli: CliRunner, town: Town, args: list[str], code: str
) -> None:
    person = town.person("有人")
    before = counts(town.services.db)
    refused = cli.invoke(app, ["admin", "token", *[person if a == "KNOWN" else a for a in args]])
    assert refused.exit_code == 2 and code in refused.output
    assert "token=" not in refused.output
    assert counts(town.services.db) == before
