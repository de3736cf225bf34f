"""The NDJSON import format: actions replayed through the services, refusals counted by code
and nothing written for them but a refusal record, naming the official for a staff act
(docs/oversight.md)."""

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.cli import sim as sim_cli
from healthcode.services.clock import FixedClock
from healthcode.sim.actions import Replayer
from healthcode.store.tables import refusals, staff_token_uses
from tests.counting import counts
from tests.town import ERQI, Town, days


def _lines(town: Town, mother: str, daughter: str) -> list[dict]:
    at = town.clock.now()
    contact = town.record("close_contact", mother, at - days(1), area=ERQI, case_ref="case-9")
    return [
        {"type": "evidence", "at": at.isoformat(), "batch": town.batch("cdc-1", [contact], "b-import")},
        {"type": "order", "at": (at + days(0.1)).isoformat(), "ref": "o1", "by": "zz-off-1",
         "request": {"kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine",
                     "persons": [{"person": mother, "evidence": [f"cdc-1/{contact['record_id']}"]}],
                     "valid_until": (at + days(10)).isoformat()}},
        # A4: the daughter ordered on her mother's evidence
        {"type": "order", "at": (at + days(0.2)).isoformat(), "ref": "o2", "by": "zz-off-1",
         "request": {"kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine",
                     "persons": [{"person": daughter, "evidence": [f"cdc-1/{contact['record_id']}"]}],
                     "valid_until": (at + days(10)).isoformat()}},
        {"type": "appeal", "at": (at + days(0.3)).isoformat(), "ref": "a1", "person": mother,
         "target": "order", "order": "o1", "ground": "not_there"},
        {"type": "answer", "at": (at + days(0.4)).isoformat(), "appeal": "a1", "by": "zz-off-1",
         "outcome": "overturned", "evidence": []},
        {"type": "tick", "at": (at + days(0.5)).isoformat()},
    ]  # fmt: skip


def test_a_replayed_file_lands_what_is_allowed_and_refuses_the_rest(town: Town) -> None:
    town.register_staff()
    mother, daughter = town.person("母亲"), town.person("女儿")
    replayer = Replayer(town.services)
    outcomes = [replayer.apply(line) for line in _lines(town, mother, daughter)]
    assert [o.refused for o in outcomes] == [
        None,
        None,
        "order.evidence_not_theirs",
        None,
        None,
        None,
    ]
    assert outcomes[1].refs == [f"order:{replayer.orders['o1'][0]}"]
    assert outcomes[3].refs == [f"appeal:{replayer.appeals['a1']}"]
    assert town.status(daughter)[0] == "green"
    # The refused order is recorded as the API records it, naming the official who tried it.
    with town.services.db.read() as conn:
        [row] = conn.execute(select(refusals)).mappings().all()
    assert outcomes[2].refs == [f"refusal:{row['id']}"]
    assert (row["code"], row["route"], row["actor_id"], row["actor_role"]) == (
        "order.evidence_not_theirs", "/api/v1/orders", "zz-off-1", "official",
    )  # fmt: skip


def test_the_command_reports_counts_by_outcome(
    town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    town.register_staff()
    mother, daughter = town.person("母亲"), town.person("女儿")
    path = tmp_path / "actions.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in _lines(town, mother, daughter)))
    monkeypatch.setattr(sim_cli, "services", lambda: town.services)
    result = CliRunner().invoke(app, ["sim", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "order.evidence_not_theirs" in result.output and "accepted" in result.output


def test_a_broken_line_stops_the_import_with_its_number(
    town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    path = tmp_path / "actions.ndjson"
    tick = json.dumps({"type": "tick", "at": clock.now().isoformat()})
    path.write_text(tick + "\n{not json\n")
    before = counts(town.services.db)
    monkeypatch.setattr(sim_cli, "services", lambda: town.services)
    result = CliRunner().invoke(app, ["sim", "import", str(path)])
    assert result.exit_code == 2 and "line 2" in result.output
    assert counts(town.services.db) == before


def test_a_co_signature_with_the_operators_token_is_replayed_as_made_with_it(town: Town) -> None:
    town.register_staff()
    at = town.clock.now()
    replayer = Replayer(town.services)
    lines = [
        {"type": "staff_token", "at": at.isoformat(), "ref": "t1", "badge": "zz-sup-2",
         "minutes": 15},
        {"type": "key_change", "at": (at + days(0.001)).isoformat(), "by": "zz-off-1",
         "source": "cdc-1", "public_key": base64.b64encode(town.keys["cdc-1"].public_key().public_bytes_raw()).decode(),
         "kinds": ["close_contact", "quarantine_completed", "test_result"],
         "cosign_by": "zz-sup-2", "cosign_token": "t1"},
    ]  # fmt: skip
    minted, changed = [replayer.apply(line) for line in lines]
    assert minted.landed and changed.landed
    assert minted.refs == [f"staff_token:{replayer.tokens['t1']}"]
    with town.services.db.read() as conn:
        [use] = conn.execute(select(staff_token_uses)).mappings().all()
    assert (use["token_id"], use["act"]) == (replayer.tokens["t1"], "source_key_cosign")
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
