"""Appeals through the HTTP API and the pages (invariant 8, A5, A7): upheld, overturned and
corrected end to end; the lapse on silence; escalation to oversight; bad input refused with a
stable code and nothing written; no condition anywhere; the person's and the official's pages;
the public statistics."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.services.appeals import Answer, AppealRequest
from healthcode.services.tokens import PERSON_AUDIENCE
from healthcode.store.tables import metadata
from healthcode.web.app import create_app
from tests import independent_verifier as iv
from tests.counting import counts
from tests.town import ERQI, Town, days

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "healthcode" / "web" / "templates"
DEMANDS = re.compile(r"condition|pledge|promise|undertak", re.I)


@pytest.fixture
def client(town: Town) -> TestClient:
    town.register_staff()
    return TestClient(create_app(town.services, run_scheduler=False))


def bearer(town: Town, subject: str, role: str = "person") -> dict[str, str]:
    return {"Authorization": f"Bearer {town.token(subject, role)}"}


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


# --- the three outcomes, end to end ---------------------------------------------------------


def order_body(town: Town, person: str, evidence: str, kind: str = "close_contact_quarantine",
               basis: str = "idl-art-41-quarantine") -> dict[str, Any]:  # fmt: skip
    return {
        "kind": kind,
        "legal_basis": basis,
        "persons": [{"person": person, "evidence": [evidence]}],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    }


def test_overturned_lifts_the_order(town: Town, client: TestClient) -> None:
    person = town.person("rui", home=ERQI)
    evidence = contact(town, person)
    order_id = quarantine(town, client, person, evidence)
    assert status(client, town, person)["colour"] == "red"
    filed = file(client, town, person, target="order", ref=order_id, ground="not_there")
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    assert (appeal["authority_id"], appeal["holder"], appeal["where"]) == (
        "zz-health",
        "zz-health",
        "with_authority",
    )
    assert appeal["holder_name"]["en"] == "Zhengzhou Health Commission"
    assert appeal["time_left_seconds"] == 24 * 3600 and appeal["outcome"] is None
    assert [r["step"] for r in appeal["receipts"]] == ["filed"]
    queue = client.get("/api/v1/appeals", headers=bearer(town, "zz-off-1", "official")).json()
    assert [q["id"] for q in queue] == [appeal["id"]] and queue[0]["ground"] == "not_there"
    assert client.get("/api/v1/appeals", headers=bearer(town, "sh-off-1", "official")).json() == []
    town.clock.advance(hours=2)
    answered = answer(client, town, appeal["id"], "zz-sup-1", outcome="overturned")
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "overturned"
    after = mine(client, town, person, appeal["id"])
    assert (after["outcome"], after["holder"], after["time_left_seconds"]) == (
        "overturned",
        None,
        None,
    )
    assert after["answered_by"] == "zz-sup-1"
    assert [r["step"] for r in after["receipts"]] == ["filed", "answered"]
    now = status(client, town, person)
    assert (now["colour"], now["rule_id"]) == ("yellow", "close-contact")  # the contact remains
    assert now["history"][-1]["cause"] == "order"
    orders = client.get("/api/v1/orders", headers=bearer(town, "zz-off-1", "official")).json()
    assert [(o["status"], o["end_reason"]) for o in orders] == [("ended", "appeal_overturned")]
    # The order cannot simply be issued again on the same evidence: that needs new evidence.
    official = bearer(town, "zz-off-1", "official")
    refused_without_trace(
        town, lambda: client.post("/api/v1/orders", json=order_body(town, person, evidence),
                                  headers=official),
        "order.evidence_set_aside", 422,
    )  # fmt: skip
    check_receipts(town, client, person, after)
    self_check_ok(town)


def test_upheld_cites_evidence_the_person_sees_and_can_escalate(
    town: Town, client: TestClient
) -> None:
    person = town.person("li", home=ERQI)
    evidence = contact(town, person)
    order_id = quarantine(town, client, person, evidence)
    appeal = file(client, town, person, target="order", ref=order_id, ground="other",
                  text="I was at work all day").json()  # fmt: skip
    refused_without_trace(
        town, lambda: answer(client, town, appeal["id"], outcome="upheld"),
        "appeal.evidence_missing", 422,
    )  # fmt: skip
    upheld = answer(client, town, appeal["id"], outcome="upheld", evidence=[evidence])
    assert upheld.status_code == 200, upheld.text
    seen = mine(client, town, person, appeal["id"])
    assert seen["outcome"] == "upheld" and seen["text"] == "I was at work all day"
    [cited] = seen["cited_evidence"]
    assert (cited["ref"], cited["kind"], cited["authority_name"]["en"]) == (
        evidence,
        "close_contact",
        "Zhengzhou Health Commission",
    )
    assert status(client, town, person)["colour"] == "red"  # upheld: nothing changes
    escalated = client.post(
        f"/api/v1/me/appeals/{appeal['id']}/escalate", headers=bearer(town, person)
    )
    assert escalated.status_code == 200, escalated.text
    case = escalated.json()
    assert (case["where"], case["holder"], case["case"]["status"]) == (
        "with_oversight",
        "oversight",
        "open",
    )
    assert [r["step"] for r in case["receipts"]] == ["filed", "answered", "escalated"]
    listed = client.get("/api/v1/oversight/cases", headers=bearer(town, "auditor-1", "auditor"))
    assert listed.status_code == 200
    [opened] = listed.json()
    assert (opened["appeal_id"], opened["authority_id"], opened["cited_evidence"]) == (
        appeal["id"],
        "zz-health",
        [evidence],
    )
    assert (
        client.get(
            "/api/v1/oversight/cases", headers=bearer(town, "zz-off-1", "official")
        ).status_code
        == 403
    )
    refused_without_trace(
        town,
        lambda: client.post(
            f"/api/v1/me/appeals/{appeal['id']}/escalate", headers=bearer(town, person)
        ),
        "appeal.already_escalated",
        409,
    )
    assert status(client, town, person)["colour"] == "red"  # oversight sets no colour either
    check_receipts(town, client, person, case)
    self_check_ok(town)


def test_corrected_shortens_the_order(town: Town, client: TestClient) -> None:
    person = town.person("wang", home=ERQI)
    order_id = quarantine(town, client, person, contact(town, person))
    appeal = file(client, town, person, target="order", ref=order_id, ground="order_expired").json()
    refused_without_trace(
        town,
        lambda: answer(client, town, appeal["id"], outcome="corrected",
                       ends_at=(town.clock.now() + days(11)).isoformat()),
        "appeal.answer_invalid", 422,
    )  # fmt: skip
    ends = town.clock.now() + days(1)
    corrected = answer(client, town, appeal["id"], outcome="corrected", ends_at=ends.isoformat())
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["ends_at"] == ends.isoformat().replace("+00:00", "Z")
    now = status(client, town, person)
    assert now["colour"] == "red" and now["valid_until"].startswith(ends.isoformat()[:19])
    town.clock.set(ends + timedelta(seconds=1))
    town.services.ticker.tick(now=town.clock.now())
    assert status(client, town, person)["colour"] == "yellow"
    orders = client.get("/api/v1/orders", headers=bearer(town, "zz-off-1", "official")).json()
    assert [o["end_reason"] for o in orders] == ["appeal_corrected"]
    check_receipts(town, client, person, mine(client, town, person, appeal["id"]))
    self_check_ok(town)


def test_corrected_replaces_the_orders_evidence(town: Town, client: TestClient) -> None:
    person = town.person("zhao", home=ERQI)
    wrong = contact(town, person)
    order_id = quarantine(town, client, person, wrong)
    right = contact(town, person)
    appeal = file(
        client, town, person, target="order", ref=order_id, ground="evidence_wrong"
    ).json()
    refused_without_trace(
        town, lambda: answer(client, town, appeal["id"], outcome="corrected", evidence=[wrong]),
        "appeal.answer_invalid", 422,
    )  # fmt: skip
    corrected = answer(client, town, appeal["id"], outcome="corrected", evidence=[right])
    assert corrected.status_code == 200, corrected.text
    replacement = corrected.json()["replacement_order_id"]
    orders = {
        o["id"]: o
        for o in client.get("/api/v1/orders", headers=bearer(town, "zz-off-1", "official")).json()
    }
    assert (orders[order_id]["status"], orders[order_id]["end_reason"]) == (
        "ended",
        "appeal_corrected",
    )
    assert (orders[replacement]["status"], orders[replacement]["evidence"]) == ("active", [right])
    assert orders[replacement]["valid_until"] == orders[order_id]["valid_until"]  # never longer
    now = status(client, town, person)
    assert (now["colour"], now["inputs"]) == ("red", [f"order:{replacement}"])
    seen = mine(client, town, person, appeal["id"])
    assert seen["replacement_order_id"] == replacement
    assert [e["ref"] for e in seen["cited_evidence"]] == [right]
    self_check_ok(town)


def test_corrected_and_overturned_evidence_is_set_aside_for_the_person(
    town: Town, client: TestClient
) -> None:
    person = town.person("chen", home=ERQI)
    wrong = lab_result(town, person, "positive")
    assert status(client, town, person)["rule_id"] == "confirmed-case"
    right = lab_result(town, person, "negative")
    appeal = file(client, town, person, target="evidence", ref=wrong, ground="evidence_wrong")
    assert appeal.status_code == 201, appeal.text
    assert appeal.json()["deadline"] == (
        town.clock.now() + timedelta(hours=48)
    ).isoformat().replace("+00:00", "Z")
    refused_without_trace(
        town,
        lambda: answer(client, town, appeal.json()["id"], outcome="upheld", evidence=[wrong]),
        "appeal.citation_invalid",
        422,
    )  # fmt: skip  (the contested record cannot support itself)
    corrected = answer(client, town, appeal.json()["id"], outcome="corrected", evidence=[right])
    assert corrected.status_code == 200, corrected.text
    now = status(client, town, person)
    assert (now["colour"], now["history"][-1]["cause"]) == ("green", "appeal")
    # The same record of someone else still counts: the set-aside is for this person only.
    other = town.person("other", home=ERQI)
    other_ref = lab_result(town, other, "positive")
    appeal2 = file(client, town, other, target="evidence", ref=other_ref, ground="not_mine").json()
    assert answer(client, town, appeal2["id"], outcome="overturned").status_code == 200
    assert status(client, town, other)["colour"] == "green"
    # Set aside for them, the record cannot carry an order either.
    refused_without_trace(
        town, lambda: client.post(
            "/api/v1/orders",
            json=order_body(town, other, other_ref, "case_isolation", "idl-art-39-isolation"),
            headers=bearer(town, "zz-off-1", "official"),
        ),
        "order.evidence_set_aside", 422,
    )  # fmt: skip
    refused_without_trace(
        town, lambda: file(client, town, person, target="evidence", ref=wrong, ground="not_mine"),
        "appeal.target_inactive", 409,
    )  # fmt: skip
    self_check_ok(town)


def test_an_appeal_against_the_colour_goes_to_the_input_that_decides_it(
    town: Town, client: TestClient
) -> None:
    person = town.person("sun", home=ERQI)
    evidence = contact(town, person)
    order_id = quarantine(town, client, person, evidence)
    first = file(client, town, person, target="colour", ground="not_there").json()
    assert (first["order_id"], first["colour"], first["rule_id"], first["authority_id"]) == (
        order_id,
        "red",
        "quarantine-order",
        "zz-health",
    )
    assert first["time_left_seconds"] == 24 * 3600
    refused_without_trace(
        town,
        lambda: file(client, town, person, target="colour", ground="not_there"),
        "appeal.duplicate",
        409,
    )  # fmt: skip  (the order is under appeal; the contact is not an input of red)
    answer(client, town, first["id"], outcome="overturned")
    second = file(client, town, person, target="colour", ground="not_mine").json()
    assert (second["evidence"], second["colour"], second["rule_id"]) == (
        evidence,
        "yellow",
        "close-contact",
    )
    assert answer(client, town, second["id"], outcome="overturned").status_code == 200
    assert status(client, town, person)["colour"] == "green"
    refused_without_trace(
        town, lambda: file(client, town, person, target="colour", ground="not_there"),
        "appeal.nothing_to_contest", 409,
    )  # fmt: skip
    self_check_ok(town)


# --- lapse on silence ------------------------------------------------------------------------


def test_silence_lapses_the_order_at_the_deadline_and_healthcode_tick_does_it(
    town: Town, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = town.person("zhou", home=ERQI)
    order_id = quarantine(town, client, person, contact(town, person))
    appeal = file(client, town, person, target="order", ref=order_id, ground="not_there").json()
    town.clock.advance(hours=23, minutes=59)
    assert mine(client, town, person, appeal["id"])["time_left_seconds"] == 60
    town.clock.advance(minutes=1)
    # The deadline has passed: no answer is taken any more, and nothing is written.
    refused_without_trace(
        town, lambda: answer(client, town, appeal["id"], outcome="upheld", evidence=["x/y"]),
        "appeal.deadline_passed", 409,
    )  # fmt: skip
    assert mine(client, town, person, appeal["id"])["where"] == "awaiting_lapse"
    import healthcode.cli.main as cli_main

    monkeypatch.setattr(cli_main, "services", lambda: town.services)
    result = CliRunner().invoke(cli_main.app, ["tick"])
    assert result.exit_code == 0, result.output
    lapsed = mine(client, town, person, appeal["id"])
    assert (lapsed["status"], lapsed["outcome"], lapsed["where"]) == (
        "lapsed",
        "no_answer_in_time",
        "lapsed",
    )
    assert status(client, town, person)["colour"] == "yellow"
    refused_without_trace(
        town, lambda: answer(client, town, appeal["id"], outcome="overturned"),
        "appeal.closed", 409,
    )  # fmt: skip
    stats = client.get("/api/v1/stats/appeals").json()
    [zz] = [a for a in stats["authorities"] if a["authority_id"] == "zz-health"]
    assert zz["lapsed"] == "<10" and stats["suppressed_below"] == 10
    check_receipts(town, client, person, lapsed)
    self_check_ok(town)


# --- bad input -------------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_stable_code_and_nothing_written(
    town: Town, client: TestClient
) -> None:
    person, other = town.person("a", home=ERQI), town.person("b", home=ERQI)
    order_id = quarantine(town, client, person, contact(town, person))
    evidence = lab_result(town, person, "positive")
    others = lab_result(town, other, "positive")
    appeal = file(client, town, person, target="order", ref=order_id, ground="not_there").json()
    cases: list[tuple[Callable[[], Any], str, int]] = [
        # someone other than the person or their guardian
        (lambda: file(client, town, other, target="evidence", ref=evidence, ground="not_mine",
                      on_behalf_of=person), "appeal.not_guardian", 403),
        (lambda: client.post("/api/v1/me/appeals", json={"target": "colour", "ground": "not_mine"},
                             headers=bearer(town, "hl-erqi", "hotline")), "auth.invalid_token", 401),
        # an order or evidence that is not theirs (or does not exist: the same answer)
        (lambda: file(client, town, other, target="order", ref=order_id, ground="not_there"),
         "appeal.not_theirs", 404),
        (lambda: file(client, town, other, target="evidence", ref=evidence, ground="not_mine"),
         "appeal.not_theirs", 404),
        (lambda: file(client, town, other, target="order", ref="ord-nope", ground="not_there"),
         "appeal.not_theirs", 404),
        # an official of another authority, or no official at all
        (lambda: answer(client, town, appeal["id"], "sh-off-1", outcome="overturned"),
         "appeal.wrong_authority", 403),
        (lambda: client.post(f"/api/v1/appeals/{appeal['id']}/answer", json={"outcome": "overturned"},
                             headers=bearer(town, "hl-erqi", "hotline")), "auth.forbidden", 403),
        # upheld without evidence, or with someone else's
        (lambda: answer(client, town, appeal["id"], outcome="upheld"), "appeal.evidence_missing", 422),
        (lambda: answer(client, town, appeal["id"], outcome="upheld", evidence=[others]),
         "appeal.citation_invalid", 422),
        (lambda: answer(client, town, appeal["id"], outcome="overturned", evidence=[evidence]),
         "appeal.answer_invalid", 422),
        # grounds from the closed list; only `other` carries a text
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="other"),
         "appeal.ground_invalid", 422),
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="not_mine",
                      text="hello"), "appeal.ground_invalid", 422),
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="bribe"),
         "request.malformed", 422),
        (lambda: file(client, town, person, target="order", ref=order_id, ground="not_mine"),
         "appeal.duplicate", 409),
        (lambda: client.post(f"/api/v1/me/appeals/{appeal['id']}/escalate",
                             headers=bearer(town, person)), "appeal.not_upheld", 409),
        (lambda: client.get(f"/api/v1/me/appeals/{appeal['id']}", headers=bearer(town, other)),
         "appeal.not_found", 404),
        (lambda: answer(client, town, "apl-none", outcome="overturned"), "appeal.not_found", 404),
        # extra fields: a condition, a pledge
        (lambda: file(client, town, person, target="evidence", ref=evidence, ground="not_mine",
                      condition="sign a pledge"), "request.malformed", 422),
        (lambda: answer(client, town, appeal["id"], outcome="overturned",
                        pledge="will not petition"), "request.malformed", 422),
    ]  # fmt: skip
    for call, code, http_status in cases:
        refused_without_trace(town, call, code, http_status)
    assert mine(client, town, person, appeal["id"])["status"] == "open"
    self_check_ok(town)


# --- A7: no condition anywhere ---------------------------------------------------------------


def test_a7_no_api_page_or_model_carries_a_condition(town: Town, client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    properties = {
        (name, prop) for name, schema in schemas.items() for prop in schema.get("properties", {})
    }
    assert {"AppealIn", "AnswerIn", "AppealOut"} <= set(schemas)
    assert [p for p in properties if DEMANDS.search(p[1])] == []
    assert set(schemas["AnswerIn"]["properties"]) == {"outcome", "evidence", "ends_at"}
    assert schemas["AnswerIn"]["additionalProperties"] is False
    assert schemas["AppealIn"]["additionalProperties"] is False
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            names = [p["name"] for p in operation.get("parameters", [])]
            assert not [n for n in names if DEMANDS.search(n)], path
    outcomes = schemas["Outcome"]["enum"]
    assert outcomes == ["upheld", "overturned", "corrected"]
    for template in TEMPLATES.glob("*.html"):
        assert not DEMANDS.search(template.read_text()), template.name
    columns = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
    ]
    assert not [c for c in columns if DEMANDS.search(c)]
    for model in (AppealRequest, Answer):
        assert not [f for f in model.__dataclass_fields__ if DEMANDS.search(f)]
    # An attempt to attach one is refused whole, on filing and on answering.
    person = town.person("p", home=ERQI)
    evidence = lab_result(town, person, "positive")
    for extra in ("condition", "pledge", "promise", "undertaking", "conditions"):
        refused_without_trace(
            town, lambda extra=extra: file(client, town, person, target="evidence", ref=evidence,
                                           ground="not_mine", **{extra: "no petitions"}),
            "request.malformed", 422,
        )  # fmt: skip
    appeal = file(client, town, person, target="evidence", ref=evidence, ground="not_mine").json()
    for extra in ("condition", "pledge", "promise", "undertaking"):
        refused_without_trace(
            town, lambda extra=extra: answer(client, town, appeal["id"], outcome="overturned",
                                             **{extra: "will not go to relevant departments"}),
            "request.malformed", 422,
        )  # fmt: skip
    for outcome in ("conditional", "pledge_signed", "upheld_if_pledge"):
        refused_without_trace(
            town, lambda outcome=outcome: answer(client, town, appeal["id"], outcome=outcome),
            "request.malformed", 422,
        )  # fmt: skip


# --- pages -----------------------------------------------------------------------------------


def login(client: TestClient, town: Town, person: str) -> None:
    token = town.services.tokens.mint(
        person, role="person", audience=PERSON_AUDIENCE, now=town.clock.now(),
        ttl=timedelta(hours=1),
    )  # fmt: skip
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303


def test_the_person_page_shows_the_appeal_its_holder_time_left_outcome_and_receipts(
    town: Town, client: TestClient
) -> None:
    person = town.person("王小明", home=ERQI)
    evidence = contact(town, person)
    order_id = quarantine(town, client, person, evidence)
    login(client, town, person)
    form = client.get("/me/appeals").text
    assert f'value="order:{order_id}"' in form and 'value="colour"' in form
    bad = client.post("/me/appeals", data={"item": "colour", "ground": "other"})
    assert bad.status_code == 422 and "只有“其他”理由附带简短说明" in bad.text
    filed = client.post(
        "/me/appeals", data={"item": f"order:{order_id}", "ground": "not_there"},
        follow_redirects=False,
    )  # fmt: skip
    assert filed.status_code == 303
    [appeal] = client.get("/api/v1/me/appeals", headers=bearer(town, person)).json()
    town.clock.advance(hours=1, minutes=30)
    zh = client.get("/me").text
    assert appeal["id"] in zh and "我没有去过那里" in zh
    assert "郑州市卫健委" in zh and "22 小时 30 分钟" in zh and "正由负责机构处理" in zh
    en = client.get("/me?lang=en").text
    assert "Zhengzhou Health Commission" in en and "22 h 30 min" in en
    assert f"/api/v1/me/appeals/{appeal['id']}/receipts/{appeal['receipts'][0]['log_index']}" in en
    answer(client, town, appeal["id"], outcome="upheld", evidence=[evidence])
    en = client.get("/me?lang=en").text
    assert "Upheld" in en and evidence in en and "answered by official" in en and "zz-off-1" in en
    assert en.count(f"/api/v1/me/appeals/{appeal['id']}/receipts/") == 2
    assert "Escalate to independent oversight" in en
    escalated = client.post(f"/me/appeals/{appeal['id']}/escalate", follow_redirects=False)
    assert escalated.status_code == 303
    zh = client.get("/me/appeals?lang=zh").text
    assert "独立监督机构" in zh and zh.count(f"/api/v1/me/appeals/{appeal['id']}/receipts/") == 3
    # Another person's session sees none of it.
    client.cookies.clear()
    assert client.get("/me/appeals").status_code == 401
    self_check_ok(town)


def test_the_officials_queue_page_sorted_by_deadline(town: Town, client: TestClient) -> None:
    person = town.person("queue", home=ERQI)
    evidence = lab_result(town, person, "positive")
    by_evidence = file(client, town, person, target="evidence", ref=evidence, ground="not_mine")
    town.clock.advance(hours=1)
    order_id = quarantine(town, client, person, contact(town, person))
    by_order = file(client, town, person, target="order", ref=order_id, ground="not_there")
    first, second = by_order.json()["id"], by_evidence.json()["id"]  # 24 h left, then 47 h
    api = client.get("/api/v1/appeals", headers=bearer(town, "zz-off-1", "official")).json()
    assert [a["id"] for a in api] == [first, second]
    assert client.get("/official/appeals").status_code == 401
    staff_token = town.token("zz-off-1", "official")
    assert client.get("/staff/login?token=nonsense").status_code == 401
    signed_in = client.get(f"/staff/login?token={staff_token}", follow_redirects=False)
    assert signed_in.status_code == 303 and "httponly" in signed_in.headers["set-cookie"].lower()
    page = client.get("/official/appeals?lang=en").text
    assert page.index(first) < page.index(second)
    assert "24 h 0 min" in page and "47 h 0 min" in page and "Appeals to answer" in page
    done = client.post(
        f"/official/appeals/{first}/answer", data={"outcome": "overturned"}, follow_redirects=False
    )
    assert done.status_code == 303
    refused = client.post(f"/official/appeals/{second}/answer", data={"outcome": "upheld"})
    assert refused.status_code == 422 and "must cite the evidence" in refused.text
    page = client.get("/official/appeals?lang=zh").text
    assert first not in page and second in page and "待答复的申诉" in page
    self_check_ok(town)


def test_public_statistics_suppress_small_counts_and_give_times_to_answer(
    town: Town, client: TestClient
) -> None:
    people = [town.person(f"s{n}", home=ERQI) for n in range(11)]
    appeal_ids = []
    for person in people:
        ref = lab_result(town, person, "positive")
        appeal_ids.append(
            file(client, town, person, target="evidence", ref=ref, ground="not_mine").json()["id"]
        )
    start = town.clock.now()
    for hours, appeal_id in enumerate(appeal_ids[:10], start=1):
        town.clock.set(start + timedelta(hours=hours))
        assert answer(client, town, appeal_id, outcome="overturned").status_code == 200
    stats = client.get("/api/v1/stats/appeals").json()  # public: no token
    zz = next(a for a in stats["authorities"] if a["authority_id"] == "zz-health")
    assert (zz["filed"], zz["overturned"], zz["answered"], zz["open"], zz["lapsed"]) == (
        11, 10, 10, "<10", "<10",
    )  # fmt: skip
    assert zz["median_seconds_to_answer"] == 5.5 * 3600  # answers after 1, 2, ... 10 hours
    assert zz["p90_seconds_to_answer"] == 9 * 3600  # nearest rank
    sh = next(a for a in stats["authorities"] if a["authority_id"] == "sh-health")
    assert sh["filed"] == "<10" and sh["median_seconds_to_answer"] is None
    zh = client.get("/stats/appeals").text
    assert "申诉统计" in zh and "郑州市卫健委" in zh and "&lt;10" in zh and "5.5 小时" in zh
    en = client.get("/stats/appeals?lang=en").text
    assert "Appeal statistics" in en and "9.0 h" in en and "No answer in time" in en
    assert not any(person in en for person in people)
