"""A halted log is not kept quiet: once the self-check finds the store and the log disagreeing,
the public log page says when and why, a receipt that only a new checkpoint could give is
refused as `log.halted` (not "try again in a second"), and /metrics says so."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.town import Town


def test_a_halt_is_shown_to_the_public_to_people_and_to_operators(town: Town) -> None:
    client = TestClient(create_app(town.services, run_scheduler=False))
    signed, later = town.person("signed"), town.person("later")
    town.test(signed, town.clock.now(), "positive")
    town.services.sequencer.integrate(now=town.clock.now())
    town.test(later, town.clock.now(), "positive")  # recorded, not yet in a checkpoint
    headers = {"Authorization": f"Bearer {town.token(later, 'person')}"}
    [change] = client.get("/api/v1/me/status", headers=headers).json()["history"]
    pending = client.get(f"/api/v1/me/receipts/{change['log_index']}", headers=headers)
    assert (pending.status_code, pending.json()["code"]) == (404, "log.not_found")
    assert 'id="halted"' not in client.get("/public/log").text

    with town.services.db.write() as conn:  # a decision edited behind the log's back
        conn.execute(
            update(t.status_changes)
            .where(t.status_changes.c.person_key == signed)
            .values(rule_id="no-risk")
        )
    report = town.services.self_check.run(now=town.clock.now())
    assert not report.ok
    town.services.sequencer.integrate(now=town.clock.now())  # signs nothing any more

    refused = client.get(f"/api/v1/me/receipts/{change['log_index']}", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (503, "log.halted")
    assert report.problems[0] in refused.json()["detail"]
    assert set(refused.json()["message"]) == {"zh", "en"}
    page = client.get("/public/log?lang=zh")
    assert 'id="halted"' in page.text and "日志已于" in page.text
    entry = client.get(f"/public/log/{change['log_index']}?lang=en")
    assert entry.status_code == 503 and "The log halted at" in entry.text
    metrics = client.get("/metrics").text
    assert "healthcode_log_halted 1.0" in metrics
