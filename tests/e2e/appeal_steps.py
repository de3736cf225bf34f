"""What the appeals HTTP tests do again and again: the evidence an order stands on, the order,
filing and answering an appeal, reading it back, and the checks every outcome ends with."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests import independent_verifier as iv
from tests.counting import counts
from tests.http import bearer
from tests.town import ERQI, Town, days


def contact(town: Town, person: str) -> str:
    record = town.record(
        "close_contact", person, town.clock.now() - timedelta(hours=2), area=ERQI, case_ref="c-1"
    )
    town.submit("cdc-1", [record])
    return f"cdc-1/{record['record_id']}"


def lab_result(town: Town, person: str, result: str) -> str:
    record = town.record(
        "test_result", person, town.clock.now() - timedelta(hours=1), method="pcr", result=result
    )
    town.submit("lab-1", [record])
    return f"lab-1/{record['record_id']}"


def quarantine(town: Town, client: TestClient, person: str, evidence: str) -> str:
    body = {
        "kind": "close_contact_quarantine",
        "legal_basis": "idl-art-41-quarantine",
        "persons": [{"person": person, "evidence": [evidence]}],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    }
    answer = client.post("/api/v1/orders", json=body, headers=bearer(town, "zz-off-1", "official"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["orders"][0]["id"])


def file(client: TestClient, town: Town, person: str, **body: Any) -> Any:
    return client.post("/api/v1/me/appeals", json=body, headers=bearer(town, person))


def answer(
    client: TestClient, town: Town, appeal_id: str, who: str = "zz-off-1", **body: Any
) -> Any:
    role = "supervisor" if "-sup-" in who else "official"
    return client.post(
        f"/api/v1/appeals/{appeal_id}/answer", json=body, headers=bearer(town, who, role)
    )


def mine(client: TestClient, town: Town, person: str, appeal_id: str) -> dict[str, Any]:
    found = client.get(f"/api/v1/me/appeals/{appeal_id}", headers=bearer(town, person))
    assert found.status_code == 200, found.text
    return dict(found.json())


def status(client: TestClient, town: Town, person: str) -> dict[str, Any]:
    return dict(client.get("/api/v1/me/status", headers=bearer(town, person)).json())


def refused_without_trace(town: Town, call: Callable[[], Any], code: str, http_status: int) -> None:
    before = counts(town.services.db)
    refused = call()
    assert (refused.status_code, refused.json()["code"]) == (http_status, code), refused.text
    assert set(refused.json()["message"]) == {"zh", "en"}
    assert counts(town.services.db) == before  # no appeal, no citation, no log entry, no order


def check_receipts(town: Town, client: TestClient, person: str, appeal: dict[str, Any]) -> None:
    town.services.sequencer.integrate(now=town.clock.now())
    vkey = client.get("/log/key").text
    for receipt in appeal["receipts"]:
        assert receipt["receipt_url"] == (
            f"/api/v1/me/appeals/{appeal['id']}/receipts/{receipt['log_index']}"
        )
        text = client.get(receipt["receipt_url"], headers=bearer(town, person))
        assert text.status_code == 200, text.text
        entry = town.services.log.entry(receipt["log_index"])
        assert iv.verify_receipt(text.text, entry, vkey) == receipt["log_index"]
        assert json.loads(entry)["kind"] == f"appeal_{receipt['step']}"
        assert person not in entry.decode()  # the person appears only as an HMAC tag


def self_check_ok(town: Town) -> None:
    report = town.services.self_check.run(now=town.clock.now())
    assert report.ok, report.problems


def order_body(town: Town, person: str, evidence: str, kind: str = "close_contact_quarantine",
               basis: str = "idl-art-41-quarantine") -> dict[str, Any]:  # fmt: skip
    return {
        "kind": kind,
        "legal_basis": basis,
        "persons": [{"person": person, "evidence": [evidence]}],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    }
