"""Appeals through the HTTP API (invariant 8, A5): upheld, overturned and corrected end to end;
the lapse on silence; escalation to oversight."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.e2e.appeal_steps import (
    answer,
    bearer,
    check_receipts,
    contact,
    file,
    lab_result,
    mine,
    order_body,
    quarantine,
    refused_without_trace,
    self_check_ok,
    status,
)
from tests.town import ERQI, Town, days

# --- the three outcomes, end to end ---------------------------------------------------------


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
