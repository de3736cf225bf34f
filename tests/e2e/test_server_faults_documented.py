"""The server's faults are answers /openapi.json declares: a store that lost part of its log
answers 500 (`log.tile_missing` on a read, `log.entries_missing` on a write, every write
appending to the log), a receipt the halted log will never sign 503 (`log.halted`), a
certificate without the DCC schemas set up 503 (`dcc.unavailable`); each as the error body
every other refusal is, so a client generated from the document (and schemathesis's status
check) knows them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from healthcode.bootstrap import build
from healthcode.store import tables as t
from healthcode.web.app import create_app
from tests.http import bearer
from tests.synthetic_log import append_entries, set_tile_hashes
from tests.town import Town

ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def answered_and_declared(
    client: TestClient, answer: Any, method: str, path: str, status: int, code: str
) -> None:
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert set(answer.json()["message"]) == {"zh", "en"}
    operation = client.get("/openapi.json").json()["paths"][path][method]
    assert operation["responses"].get(str(status), {}).get("content") == ERROR_BODY, (
        method, path, sorted(operation["responses"]),
    )  # fmt: skip


def test_a_lost_tile_is_a_declared_500(town: Town) -> None:
    append_entries(town, 300)
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size > 256
    set_tile_hashes(town, 0, 0, None)
    client = TestClient(create_app(town.services, run_scheduler=False))
    tile = client.get("/log/tile/0/000")
    answered_and_declared(client, tile, "get", "/log/tile/{path}", 500, "log.tile_missing")
    proof = client.get(f"/log/consistency/10/{signed.size}")
    answered_and_declared(
        client, proof, "get", "/log/consistency/{old_size}/{new_size}", 500, "log.tile_missing"
    )


def test_a_write_over_lost_entries_is_a_declared_500(town: Town) -> None:
    town.test(town.person("ann"), town.clock.now(), "positive")
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    with town.services.db.write() as conn:  # the last signed entry, lost
        conn.execute(t.log_entries.delete().where(t.log_entries.c.idx >= signed.size - 1))
    client = TestClient(create_app(town.services, run_scheduler=False))
    record = town.record("test_result", town.person("ben"), town.clock.now(), method="pcr",
                         result="negative")  # fmt: skip
    answer = client.post("/api/v1/evidence/batches", json=town.batch("lab-1", [record]))
    answered_and_declared(
        client, answer, "post", "/api/v1/evidence/batches", 500, "log.entries_missing"
    )
    # Every write appends to the log (invariant 5), so every write may meet the same fault.
    document = client.get("/openapi.json").json()
    writes = [
        (path, op["responses"].get("500", {}).get("content"))
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if method == "post"
    ]
    assert writes and [path for path, content in writes if content != ERROR_BODY] == []


def test_a_receipt_the_halted_log_will_never_sign_is_a_declared_503(town: Town) -> None:
    signed, later = town.person("signed"), town.person("later")
    town.test(signed, town.clock.now(), "positive")
    town.services.sequencer.integrate(now=town.clock.now())
    town.test(later, town.clock.now(), "positive")  # recorded, not yet in a checkpoint
    with town.services.db.write() as conn:  # a decision edited behind the log's back
        conn.execute(
            update(t.status_changes)
            .where(t.status_changes.c.person_key == signed)
            .values(rule_id="no-risk")
        )
    assert not town.services.self_check.run(now=town.clock.now()).ok  # halts the log
    client = TestClient(create_app(town.services, run_scheduler=False))
    headers = bearer(town, later)
    [change] = client.get("/api/v1/me/status", headers=headers).json()["history"]
    receipt = client.get(f"/api/v1/me/receipts/{change['log_index']}", headers=headers)
    answered_and_declared(
        client, receipt, "get", "/api/v1/me/receipts/{log_index}", 503, "log.halted"
    )
    document = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/me/appeals/{appeal_id}/receipts/{log_index}",
                 "/api/v1/me/scans/{record_id}/proof"):  # fmt: skip
        assert document[path]["get"]["responses"]["503"]["content"] == ERROR_BODY, path


def test_a_certificate_without_the_schemas_set_up_is_a_declared_503(town: Town) -> None:
    settings = replace(town.services.settings, dcc_schemas=None)
    services = build(settings, clock=town.clock, db=town.services.db, migrate=False)
    client = TestClient(create_app(services, run_scheduler=False))
    person = town.person("ann")
    answer = client.post("/api/v1/me/dcc", json={"text": "HC1:x"}, headers=bearer(town, person))
    answered_and_declared(client, answer, "post", "/api/v1/me/dcc", 503, "dcc.unavailable")
