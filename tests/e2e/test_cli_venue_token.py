"""`healthcode venue token VENUE`: the venue device's token the operator issues is a
``venue_token`` entry with its row, written together, before it is printed; its claims say the
operator issued it and carry the row's id; the venue's page lists it, in zh and en; a venue no
one registered, or a lifetime out of bounds, is refused, exit 2, nothing written. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.services.tokens import VENUE_AUDIENCE
from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.counting import counts
from tests.e2e.test_person_page_details import section
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import Town


@pytest.fixture
def cli(town: Town, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("healthcode.cli.passes.services", lambda: town.services)
    return CliRunner()


def issued(cli: CliRunner, *args: str) -> str:
    printed = cli.invoke(app, ["venue", "token", *args])
    assert printed.exit_code == 0, printed.output
    token, link_line = printed.output.split()[:2]
    link = re.fullmatch(r"http://[^/]+/venue/login\?token=(.+)", link_line)
    assert link is not None and link.group(1) == token
    return token


def test_the_device_token_is_logged_and_listed_on_the_venues_page(
    cli: CliRunner, town: Town
) -> None:
    size = log_size(town)
    token = issued(cli, "station")  # the default: 30 days
    [(index, kind, _)] = entries_after(town, size)
    assert kind == "venue_token"
    with town.services.db.read() as conn:
        [row] = conn.execute(t.venue_tokens.select()).all()
    assert (row.venue_id, row.log_index) == ("station", index)
    assert row.valid_until - row.valid_from == timedelta(days=30)
    claims = town.services.tokens.verify(token, audience=VENUE_AUDIENCE, now=town.clock.now())
    assert claims.operator_issued and claims.token_id == row.token_id
    client = TestClient(create_app(town.services, run_scheduler=False))
    signed_in = client.get(f"/venue/login?token={token}", follow_redirects=False)
    assert signed_in.status_code == 303
    zh = section(client.get("/venue?lang=zh").text, "为本场所签发的设备登录")
    assert f'<a href="/public/log/{index}">{index}</a>' in zh
    en = section(client.get("/venue?lang=en").text, "Device sign-ins issued for this venue")
    assert f">{index}</a>" in en and "Valid until" in en
    # Once signed, the public log names the kind in both languages.
    town.services.sequencer.integrate(now=town.clock.now())
    assert "运营方签发的场所设备令牌" in client.get("/public/log?lang=zh").text
    assert "Venue device token issued by the operator" in client.get("/public/log?lang=en").text
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_another_venues_tokens_are_not_listed(cli: CliRunner, town: Town) -> None:
    issued(cli, "market", "--hours", "2")
    token = town.token("station", "venue")  # a device of the tests' own making
    client = TestClient(create_app(town.services, run_scheduler=False))
    assert client.get(f"/venue/login?token={token}", follow_redirects=False).status_code == 303
    assert "尚未为本场所签发任何设备登录。" in client.get("/venue?lang=zh").text
    assert "No device sign-in has been issued for this venue." in client.get("/venue?lang=en").text


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["nowhere"], "venue_token.venue_unknown"),
        (["station", "--hours", "0"], "venue_token.ttl_invalid"),
        (["station", "--hours", "2161"], "venue_token.ttl_invalid"),  # 90 days and an hour
        (["station", "--hours", "-3"], "venue_token.ttl_invalid"),
        (["station", "--hours", "100000000000"], "venue_token.ttl_invalid"),
    ],
)
def test_an_unknown_venue_or_a_lifetime_out_of_bounds_is_refused(
    cli: CliRunner, town: Town, args: list[str], code: str
) -> None:
    before = counts(town.services.db)
    refused = cli.invoke(app, ["venue", "token", *args])
    assert refused.exit_code == 2 and code in refused.output
    assert "token=" not in refused.output
    assert counts(town.services.db) == before
