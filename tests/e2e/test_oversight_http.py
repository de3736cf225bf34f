"""Oversight's cases over HTTP and the command line: an auditor reads the findings and moves a
case to its end; every other role is refused; a refused step answers its stable code and
writes nothing; an escalated appeal's case moves the same way and the person sees where it
ended."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.cli import app as cli_app
from healthcode.cli.oversight import PASSWORD_VARIABLE
from healthcode.store.database import Database
from tests.conftest import make_services
from tests.counting import counts
from tests.http import bearer
from tests.services.test_oversight_cases import HandMade, finding, upheld_and_escalated
from tests.town import Town

AUDITOR_PASSWORD = "correct horse a"

STEPS = "/api/v1/oversight/cases/{}/steps"
OTHERS = {"person": None, "venue": "station", "hotline": "hl-erqi", "official": "zz-off-1",
          "supervisor": "zz-sup-1"}  # fmt: skip


def auditor(town: Town) -> dict[str, str]:
    return bearer(town, "auditor-1", "auditor")


def opened(town: Town, subject: str = "official:zz-off-1") -> str:
    detector = HandMade([finding(town, subject, "order:ord-1", "order:ord-2")])
    [case_id] = town.services.oversight.run(town.clock.now(), detectors=[detector]).new_cases
    return case_id


def refused_with(answer: Any, code: str, status: int) -> None:
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert set(answer.json()["message"]) == {"zh", "en"}


def test_the_detector_filter_is_a_closed_list_of_the_registered_ones(
    client: TestClient, town: Town
) -> None:
    # `?detector=nope` answered 200 [] where `cases?status=nope` answers 422.
    refused = client.get("/api/v1/oversight/findings?detector=nope", headers=auditor(town))
    assert (refused.status_code, refused.json()["code"]) == (422, "request.malformed")
    known = client.get("/api/v1/oversight/findings?detector=remote_scans", headers=auditor(town))
    assert (known.status_code, known.json()) == (200, [])
    spec = client.get("/openapi.json").json()["paths"]["/api/v1/oversight/findings"]["get"]
    [param] = [p for p in spec["parameters"] if p["name"] == "detector"]
    registered = sorted(p.name for p in entry_points(group="healthcode.detectors"))
    assert registered and json.dumps(param["schema"]).count('"remote_scans"') == 1
    assert all(name in json.dumps(param["schema"]) for name in registered)


def test_an_auditor_reads_findings_and_moves_a_case_to_its_end(
    town: Town, client: TestClient
) -> None:
    case_id = opened(town)
    town.services.sequencer.integrate(now=town.clock.now())
    [found] = client.get("/api/v1/oversight/findings", headers=auditor(town)).json()
    assert (found["detector"], found["subject_kind"], found["case_id"], found["case_status"]) == (
        "hand_made", "official", case_id, "open",
    )  # fmt: skip
    assert found["records"] == ["order:ord-1", "order:ord-2"]
    assert found["summary"]["en"] == "official:zz-off-1 stands out"
    listed = client.get("/api/v1/oversight/cases", headers=auditor(town))
    assert listed.headers["Healthcode-Checkpoint"].startswith(town.services.settings.log_origin)
    [case] = listed.json()
    assert (case["id"], case["origin"], case["detector"], case["appeal_id"]) == (
        case_id, "finding", "hand_made", None,
    )  # fmt: skip
    steps = [("investigating", "asked zz-health for the orders' evidence"),
             ("referred", "to the discipline commission"), ("closed", "orders without evidence")]  # fmt: skip
    for status, note in steps:
        town.clock.advance(hours=1)
        moved = client.post(
            STEPS.format(case_id), json={"status": status, "note": note}, headers=auditor(town)
        )
        assert moved.status_code == 200, moved.text
        assert (moved.json()["status"], moved.json()["steps"][-1]["by"]) == (status, "auditor-1")
    detail = client.get(f"/api/v1/oversight/cases/{case_id}", headers=auditor(town)).json()
    assert [(s["status"], s["note"]) for s in detail["steps"]] == steps
    assert detail["conclusion"] == "orders without evidence"
    assert detail["finding"]["records"] == ["order:ord-1", "order:ord-2"]
    for step in detail["steps"]:
        entry = json.loads(town.services.log.entry(step["log_index"]))
        assert (entry["kind"], entry["data"]["case"]) == ("oversight_case_step", case_id)
        assert "auditor-1" not in json.dumps(entry)
    only_closed = client.get("/api/v1/oversight/cases?status=closed", headers=auditor(town))
    assert [c["id"] for c in only_closed.json()] == [case_id]
    assert client.get("/api/v1/oversight/cases?status=open", headers=auditor(town)).json() == []
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_every_other_role_is_refused(town: Town, client: TestClient) -> None:
    case_id = opened(town)
    person = town.person("someone")
    before = counts(town.services.db)
    for role, subject in OTHERS.items():
        headers = bearer(town, subject or person, role)
        for method, url, body in (
            ("GET", "/api/v1/oversight/findings", None),
            ("GET", "/api/v1/oversight/cases", None),
            ("GET", f"/api/v1/oversight/cases/{case_id}", None),
            ("POST", STEPS.format(case_id), {"status": "closed", "note": "nothing"}),
        ):
            answer = client.request(method, url, json=body, headers=headers)
            assert answer.status_code in (401, 403), (role, method, url, answer.status_code)
            assert "zz-off-1" not in answer.text
    anonymous = client.post(STEPS.format(case_id), json={"status": "closed", "note": "x"})
    assert anonymous.status_code == 401
    assert counts(town.services.db) == before
    assert town.services.oversight.case(case_id).case.status == "open"


def test_a_refused_step_answers_its_code_and_writes_nothing(town: Town, client: TestClient) -> None:
    case_id = opened(town)
    before = counts(town.services.db)
    post = lambda body: client.post(STEPS.format(case_id), json=body, headers=auditor(town))  # noqa: E731
    refused_with(post({"status": "referred", "note": "skip"}),
                          "oversight.transition_invalid", 409)  # fmt: skip
    refused_with(post({"status": "closed", "note": ""}),
                          "oversight.conclusion_missing", 422)  # fmt: skip
    refused_with(post({"status": "dismissed", "note": "x"}), "request.malformed", 422)
    refused_with(post({"status": "closed", "note": "x", "colour": "green"}),
                          "request.malformed", 422)  # fmt: skip
    refused_with(post({"status": "closed", "note": "x" * 4001}),
                          "request.malformed", 422)  # fmt: skip
    missing = client.post(STEPS.format("case-none"), json={"status": "investigating"},
                          headers=auditor(town))  # fmt: skip
    refused_with(missing, "oversight.case_not_found", 404)
    assert counts(town.services.db) == before  # no step, no log entry (refusals apart)
    unknown = client.get("/api/v1/oversight/cases/case-none", headers=auditor(town))
    refused_with(unknown, "oversight.case_not_found", 404)


def test_an_escalated_appeals_case_is_closed_and_the_person_sees_it(
    town: Town, client: TestClient
) -> None:
    person = upheld_and_escalated(town)
    [case] = client.get("/api/v1/oversight/cases", headers=auditor(town)).json()
    assert (case["origin"], case["authority_id"], case["appeal_outcome"]) == (
        "appeal", "zz-health", "upheld",
    )  # fmt: skip
    closed = client.post(
        STEPS.format(case["id"]), json={"status": "closed", "note": "the contact is documented"},
        headers=auditor(town),
    )  # fmt: skip
    assert closed.status_code == 200, closed.text
    mine = client.get("/api/v1/me/appeals", headers=bearer(town, person, "person")).json()
    assert (mine[0]["case"]["status"], mine[0]["case"]["conclusion"]) == (
        "closed", "the contact is documented",
    )  # fmt: skip
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


@pytest.fixture
def cli_town(
    sqlite_database: Database, clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Town:  # type: ignore[no-untyped-def]
    services = make_services(sqlite_database, clock, tmp_path / "data")
    # The commands build their services from the environment: hand them the test's own.
    monkeypatch.setattr("healthcode.cli.oversight.services", lambda: services)
    town = Town.register(services, clock)
    town.register_staff()
    # The auditor signs in to move a case: their password, asked for or in the environment.
    services.staff.register(
        [{"id": "auditor-1", "role": "auditor", "name": "监督员", "password": AUDITOR_PASSWORD}],
        now=clock.now(),
    )
    return town


def test_the_commands_run_list_and_move(cli_town: Town, monkeypatch: pytest.MonkeyPatch) -> None:
    detector = HandMade([finding(cli_town, "venue:station", "evidence:scan-1/r1")])
    monkeypatch.setattr("healthcode.cli.oversight.load_detectors", lambda names: [detector])
    runner = CliRunner()
    ran = runner.invoke(cli_app, ["oversight", "run", "--detector", "hand_made"])
    assert ran.exit_code == 0, ran.output
    assert "hand_made" in ran.output and "1 new cases" in ran.output
    again = runner.invoke(cli_app, ["oversight", "run", "--detector", "hand_made"])
    assert "0 new cases" in again.output
    [view] = cli_town.services.oversight.cases()
    listed = runner.invoke(cli_app, ["oversight", "cases", "--status", "open"])
    assert listed.exit_code == 0 and view.case.id in listed.output
    move = ["oversight", "move", view.case.id]
    # Whoever runs the command (the operator) cannot move a case in an auditor's name: the
    # auditor's password is asked for, unseen; a wrong one moves nothing.
    before = counts(cli_town.services.db)
    guessed = runner.invoke(
        cli_app, [*move, "closed", "--by", "auditor-1", "--note", "x"], input="a guess\n"
    )
    assert guessed.exit_code == 2 and "auth.invalid_token" in guessed.output, guessed.output
    assert "password of auditor-1" in guessed.output and "a guess" not in guessed.output
    before["sign_in_failures"] += 1  # counted against the badge, as the sign-in route does
    assert counts(cli_town.services.db) == before
    typed = f"{AUDITOR_PASSWORD}\n"
    bad = runner.invoke(cli_app, [*move, "closed", "--by", "auditor-1"], input=typed)
    assert bad.exit_code == 2 and "oversight.conclusion_missing" in bad.output
    not_auditor = runner.invoke(
        cli_app, [*move, "investigating", "--by", "zz-off-1"], input="correct horse 1\n"
    )
    assert not_auditor.exit_code == 2 and "auth.forbidden" in not_auditor.output
    moved = runner.invoke(
        cli_app, [*move, "closed", "--by", "auditor-1", "--note", "a busy station, nothing more"],
        env={PASSWORD_VARIABLE: AUDITOR_PASSWORD},
    )  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert f"case {view.case.id} is closed" in moved.output
    assert runner.invoke(cli_app, ["oversight", "cases", "--status", "nope"]).exit_code == 2
