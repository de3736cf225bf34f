"""`healthcode admin staff-token BADGE`: the operator's token for a member of staff is logged
(a ``staff_token`` entry) and marked operator-issued; a co-signature made with it over the API
and a case step made with it in the console are each logged as made with it
(``staff_token_use``), and ``operator_tokens`` opens a case about each member; an unknown badge
or a lifetime out of bounds is refused, exit 2, nothing written. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.oversight.detectors.staff_tokens import OperatorTokens
from healthcode.services.tokens import STAFF_AUDIENCE
from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.counting import counts
from tests.services.test_order_refusals import bulk
from tests.services.test_oversight_cases import HandMade, finding
from tests.town import Town, days


@pytest.fixture
def cli(town: Town, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("healthcode.cli.admin.services", lambda: town.services)
    return CliRunner()


def issued(cli: CliRunner, *args: str) -> str:
    printed = cli.invoke(app, ["admin", "staff-token", *args])
    assert printed.exit_code == 0, printed.output
    return printed.stdout.strip()


def test_its_token_is_logged_and_what_it_does_is_the_operators(
    cli: CliRunner, town: Town, client: TestClient
) -> None:
    request_id, _ = bulk(town)
    supervisor = issued(cli, "zz-sup-2", "--minutes", "30")
    claims = town.services.tokens.verify(supervisor, audience=STAFF_AUDIENCE, now=town.clock.now())
    assert claims.operator_issued and claims.expires_at - claims.issued_at == timedelta(minutes=30)
    cosigned = client.post(
        f"/api/v1/orders/requests/{request_id}/cosign",
        headers={"Authorization": f"Bearer {supervisor}"},
    )
    assert cosigned.status_code == 200, cosigned.text
    # The auditor's token, through its sign-in link, moves a case in the console.
    [case_id] = town.services.oversight.run(
        town.clock.now(), detectors=[HandMade([finding(town, "official:zz-off-1", "order:o-1")])]
    ).new_cases
    console = TestClient(create_app(town.services, run_scheduler=False))
    auditor = issued(cli, "auditor-1")
    assert console.get(f"/staff/login?token={auditor}", follow_redirects=False).status_code == 303
    moved = console.post(
        f"/oversight/cases/{case_id}/steps",
        data={"status": "investigating", "note": "who issued these?"},
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    with town.services.db.read() as conn:
        uses = conn.execute(
            t.staff_token_uses.join(t.staff_tokens)
            .select()
            .order_by(t.staff_token_uses.c.log_index)
        ).all()
    assert [(u.staff_id, u.act) for u in uses] == [
        ("zz-sup-2", "order_cosign"), ("auditor-1", "oversight_case_step"),
    ]  # fmt: skip
    now = town.clock.now() + days(1)
    summary = town.services.oversight.run(now, detectors=[OperatorTokens()])
    subjects = {c.finding.subject for c in town.services.oversight.cases() if c.finding}
    assert len(summary.new_cases) == 2
    assert {"official:zz-sup-2", "official:auditor-1"} <= subjects
    assert town.services.self_check.run(now=now, halt=False).ok


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["zz-nobody"], "staff_token.member_unknown"),
        (["zz-sup-1", "--minutes", "0"], "staff_token.ttl_invalid"),
        (["zz-sup-1", "--minutes", "100000000000"], "staff_token.ttl_invalid"),
    ],
)
def test_an_unknown_badge_or_a_lifetime_out_of_bounds_is_refused(
    cli: CliRunner, town: Town, args: list[str], code: str
) -> None:
    town.register_staff()
    before = counts(town.services.db)
    refused = cli.invoke(app, ["admin", "staff-token", *args])
    assert refused.exit_code == 2 and code in refused.output
    assert counts(town.services.db) == before
