"""`healthcode pass verify`: offline, against a cached trust list; a revoked key fails with
its reason and exit code 1. `healthcode venue ...` and `healthcode pass trust-list`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.credentials.passes import qr_png, raw_public_key
from healthcode.services.orders import Actor
from healthcode.services.trust_lists import b64url
from healthcode.store import places as places_repo
from healthcode.store.database import Database
from tests.conftest import make_services
from tests.town import ZHENGZHOU, ZHONGYUAN, Town


@pytest.fixture
def cli_town(
    sqlite_database: Database, clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Town:  # type: ignore[no-untyped-def]
    services = make_services(sqlite_database, clock, tmp_path / "data")
    monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", sqlite_database.url)
    # Commands that build the services would migrate the store: hand them the test's own.
    monkeypatch.setattr("healthcode.cli.passes.services", lambda: services)
    return Town.register(services, clock)


def test_verify_a_pass_offline_then_after_revocation(cli_town: Town, tmp_path: Path) -> None:
    services = cli_town.services
    person = cli_town.person("王小明", home=ZHONGYUAN)
    issued = services.passes.issue_pass(person, cli_town.clock.now())
    published = services.trust_lists.current()
    assert published is not None
    cached = tmp_path / "trust-list.json"
    cached.write_bytes(published.document)
    [anchor] = [b64url(raw_public_key(k)) for k in services.trust_lists.anchors().values()]
    at = (cli_town.clock.now() + timedelta(minutes=1)).isoformat()
    runner = CliRunner()
    args = ["--trust-list", str(cached), "--anchor", anchor, "--at", at]

    ok = runner.invoke(app, ["pass", "verify", issued.text, *args])
    assert ok.exit_code == 0, ok.output
    assert "green" in ok.output and "王*明" in ok.output and "zz-health" in ok.output
    picture = tmp_path / "pass.png"
    picture.write_bytes(qr_png(issued.text))
    assert runner.invoke(app, ["pass", "verify", str(picture), *args]).exit_code == 0
    # This deployment's own anchor and trust list are the defaults.
    assert runner.invoke(app, ["pass", "verify", issued.text, "--at", at]).exit_code == 0

    forged = issued.text[:-4] + ("AAAA" if not issued.text.endswith("AAAA") else "BBBB")
    refused = runner.invoke(app, ["pass", "verify", forged, *args])
    assert refused.exit_code == 1

    with services.db.read() as conn:
        [key] = [r for r in places_repo.trust_keys(conn) if r.issuer == "zz-health"]
    supervisor = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))
    services.trust_lists.revoke(
        supervisor, key.key_id, reason="key-compromise", now=cli_town.clock.now()
    )
    newer = services.trust_lists.current()
    assert newer is not None
    cached.write_bytes(newer.document)
    revoked = runner.invoke(app, ["pass", "verify", issued.text, *args])
    assert revoked.exit_code == 1
    assert "pass.key_revoked" in revoked.output and "key-compromise" in revoked.output
    wrong_anchor = runner.invoke(
        app, ["pass", "verify", issued.text, "--trust-list", str(cached), "--anchor", "A" * 43]
    )
    assert wrong_anchor.exit_code == 1 and "trust.signature" in wrong_anchor.output


def test_venue_commands(cli_town: Town, tmp_path: Path) -> None:
    runner = CliRunner()
    prepared = runner.invoke(app, ["venue", "prepare"])
    assert prepared.exit_code == 0, prepared.output
    assert "3 venue_keys" in prepared.output
    token = runner.invoke(app, ["venue", "token", "station"])
    assert token.exit_code == 0 and "/venue/login?token=" in token.output
    assert runner.invoke(app, ["venue", "token", "nowhere"]).exit_code == 2
    printed = tmp_path / "static.png"
    static = runner.invoke(app, ["venue", "static-code", "market", "--png", str(printed)])
    assert static.exit_code == 0 and static.output.startswith("HCV1:")
    assert printed.read_bytes().startswith(b"\x89PNG")
    exported = tmp_path / "list.json"
    listed = runner.invoke(app, ["pass", "trust-list", "--out", str(exported)])
    assert listed.exit_code == 0, listed.output
    assert b'"healthcode.trust-list.v1"' in exported.read_bytes()
