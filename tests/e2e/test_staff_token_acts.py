"""Every act a member of staff makes over the API or in the console with a token the operator
issued (``healthcode admin staff-token``) is logged as made with it: an order (each of a
batch), its end, a designation, its end, a read of a person's record, an appeal's answer, a
key change proposed and withdrawn, a source revoked, a rulebook edition proposed and
co-signed, a wider jurisdiction withdrawn; each a ``staff_token_use`` entry naming
the act's entry, written with it, and the self-check rebuilds them all. A member's own sign-in
writes none. On SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from fastapi.testclient import TestClient

from healthcode.services.tokens import STAFF_AUDIENCE
from healthcode.store import staff_tokens
from healthcode.web.app import create_app
from tests.counting import counts
from tests.e2e.appeal_steps import contact, file, quarantine
from tests.e2e.test_registry_proposals_http import WIDER
from tests.e2e.test_source_keys_http import NEW_PUBLIC
from tests.services.test_authority_acts import edition_2
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ERQI, Town, days

# Each act's entry kind, and the acts whose entry a use must name.
LOGGED = ("order", "order_end", "designation", "designation_end", "access", "appeal_answered",
          "source_key_proposal", "source_key_withdrawal", "registry")  # fmt: skip


def operator_token(town: Town, badge: str) -> str:
    """The token ``healthcode admin staff-token BADGE`` prints."""
    return town.services.staff.issue_token(badge, now=town.clock.now(), ttl=timedelta(hours=1))


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def uses(town: Town, size: int) -> dict[int, tuple[int, dict[str, object]]]:
    """The uses logged since ``size``: act index -> (the use's index, its data)."""
    found = {}
    for index, kind, body in entries_after(town, size):
        if kind == "staff_token_use":
            data = json.loads(body)["data"]
            found[int(data["entry"])] = (index, data)
    return found


def token_entry(town: Town, token: str) -> int:
    """The log index of the ``staff_token`` entry the operator's token was issued in."""
    claims = town.services.tokens.verify(token, audience=STAFF_AUDIENCE, now=town.clock.now())
    with town.services.db.read() as conn:
        issued = staff_tokens.find(conn, claims.token_id)
    assert issued is not None
    return issued.log_index


def appealed(town: Town, client: TestClient) -> str:
    """An appeal against an order the official issued with their own sign-in, open."""
    person = town.person("p-3", home=ERQI)
    order_id = quarantine(town, client, person, contact(town, person))
    filed = file(client, town, person, target="order", ref=order_id, ground="not_there")
    assert filed.status_code == 201, filed.text
    return str(filed.json()["id"])


def act(client: TestClient, method: str, path: str, token: str, **body: object) -> None:
    done = client.request(method, path, headers=headers(token), json=body or None)
    assert done.status_code in (200, 201), done.text


def acts_of_an_official(town: Town, client: TestClient, token: str) -> None:
    """Orders for two people (one request), one lifted, a designation ended as made in error,
    a read of a record, a key change proposed: each answered 2xx."""
    people = [town.person(f"p-{n}", home=ERQI) for n in (1, 2)]
    cited = [contact(town, person) for person in people]
    issued = client.post("/api/v1/orders", headers=headers(token), json={
        "kind": "close_contact_quarantine", "legal_basis": "idl-art-41-quarantine",
        "persons": [{"person": p, "evidence": [e]} for p, e in zip(people, cited, strict=True)],
        "valid_until": (town.clock.now() + days(10)).isoformat(),
    })  # fmt: skip
    assert issued.status_code == 200, issued.text
    lifted = issued.json()["orders"][0]["id"]
    act(client, "POST", f"/api/v1/orders/{lifted}/end", token, reason="no_longer_needed")
    act(client, "POST", "/api/v1/designations", token, id="d-op", area=ERQI, level="medium",
        valid_from=town.clock.now().isoformat(), valid_to=(town.clock.now() + days(2)).isoformat(),
        case_count=1, basis="1 case")  # fmt: skip
    act(client, "POST", "/api/v1/designations/d-op/end", token, reason="issued_in_error")
    act(client, "GET", f"/api/v1/persons/{people[0]}/status?purpose=contact_tracing", token)


def test_acts_made_with_an_operators_token_over_the_api_are_each_logged_as_made_with_it(
    town: Town,
) -> None:
    town.register_staff()
    client = TestClient(create_app(town.services, run_scheduler=False))
    appeal_id = appealed(town, client)
    official, supervisor = operator_token(town, "zz-off-1"), operator_token(town, "zz-sup-1")
    size = log_size(town)
    acts_of_an_official(town, client, official)
    proposed = client.post("/api/v1/sources/lab-1/key-changes", headers=headers(official),
                           json={"public_key": NEW_PUBLIC})  # fmt: skip
    assert proposed.status_code == 200, proposed.text
    act(client, "POST", f"/api/v1/key-changes/{proposed.json()['id']}/withdraw", supervisor)
    act(client, "POST", f"/api/v1/appeals/{appeal_id}/answer", supervisor, outcome="overturned")
    act(client, "POST", "/api/v1/sources/scan-1/revoke", supervisor, reason="decommissioned")
    logged = entries_after(town, size)
    kinds = {index: kind for index, kind, _ in logged}
    acts = {index: kind for index, kind in kinds.items() if kind in LOGGED}
    assert Counter(acts.values()) == {
        "order": 2, "order_end": 2, "designation": 1, "designation_end": 1, "access": 1,
        "source_key_proposal": 1, "source_key_withdrawal": 1, "appeal_answered": 1,
        "registry": 1,
    }  # fmt: skip
    made = uses(town, size)
    assert sorted(made) == sorted(acts)  # one use for each act, none for anything else
    by_supervisor = {"source_key_withdrawal", "appeal_answered", "registry"}
    lifted_by_appeal = max(i for i, kind in acts.items() if kind == "order_end")
    for index, kind in acts.items():
        use, data = made[index]
        holder = supervisor if kind in by_supervisor or index == lifted_by_appeal else official
        assert data == {
            "token": token_entry(town, holder), "entry": index, "act": kind,
            "at": data["at"],
        }  # fmt: skip
        # Written with the act: after it, only the same request's acts and their uses between.
        assert {kinds[i] for i in range(index + 1, use)} <= {kind, "staff_token_use"}
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.problems == []


def test_a_read_made_with_an_operators_token_in_the_console_is_logged_as_made_with_it(
    town: Town,
) -> None:
    town.register_staff()
    person = town.person("p-1", home=ERQI)
    contact(town, person)
    console = TestClient(create_app(town.services, run_scheduler=False))
    token = operator_token(town, "zz-off-1")
    assert console.get(f"/staff/login?token={token}", follow_redirects=False).status_code == 303
    size = log_size(town)
    read = console.get(f"/hotline?person={person}&purpose=contact_tracing")
    assert read.status_code == 200, read.text
    [access] = [index for index, kind, _ in entries_after(town, size) if kind == "access"]
    [(use, data)] = uses(town, size).values()
    assert (use, data["entry"], data["act"]) == (access + 1, access, "access")
    assert data["token"] == token_entry(town, token)
    assert town.services.self_check.run(now=town.clock.now(), halt=False).problems == []


def test_a_members_own_sign_in_is_no_operators_token_and_writes_no_use(town: Town) -> None:
    town.register_staff()
    client = TestClient(create_app(town.services, run_scheduler=False))
    signed_in = client.post(
        "/api/v1/staff/token", data={"username": "zz-off-1", "password": "correct horse 1"}
    )
    assert signed_in.status_code == 200, signed_in.text
    size = log_size(town)
    acts_of_an_official(town, client, signed_in.json()["access_token"])
    logged = Counter(kind for _, kind, _ in entries_after(town, size))
    assert logged["order"] == 2 and logged["access"] == 1 and logged["designation_end"] == 1
    assert logged["staff_token_use"] == 0
    # The same read with the operator's token for the same member is logged as made with it.
    person = town.person("p-1", home=ERQI)
    size = log_size(town)
    act(client, "GET", f"/api/v1/persons/{person}/status?purpose=contact_tracing",
        operator_token(town, "zz-off-1"))  # fmt: skip
    assert [data["act"] for _, data in uses(town, size).values()] == ["access"]
    assert counts(town.services.db)["staff_token_uses"] == 1


def test_a_rulebook_proposal_its_publication_and_a_jurisdiction_withdrawal_with_operators_tokens(
    town: Town,
) -> None:
    """The acts the first test leaves out: an official's rulebook proposal, a supervisor's
    co-signature publishing it, and a supervisor's withdrawal of a wider jurisdiction a load
    proposed; each with the operator's token, each logged as made with it."""
    town.register_staff()
    client = TestClient(create_app(town.services, run_scheduler=False))
    official, supervisor = operator_token(town, "zz-off-1"), operator_token(town, "zz-sup-1")
    [widening] = town.services.registry.load(
        {"authorities": [WIDER]}, now=town.clock.now()
    ).proposed
    size = log_size(town)
    proposed = client.post("/api/v1/rulebooks/proposals", headers=headers(official), json={
        "source": edition_2(), "effective_from": (town.clock.now() + days(1)).isoformat(),
    })  # fmt: skip
    assert proposed.status_code == 200, proposed.text
    town.clock.advance(minutes=10)  # within the tokens' hour
    published = client.post("/api/v1/rulebooks/proposals/2/cosign", headers=headers(supervisor))
    assert published.status_code == 200, published.text
    # The answer names the proposal's official and hour, not the co-signer's.
    assert (published.json()["proposed_by"], published.json()["status"]) == (
        "zz-off-1",
        "published",
    )
    assert published.json()["proposed_at"] == proposed.json()["proposed_at"]
    act(client, "POST", f"/api/v1/jurisdiction-changes/{widening.id}/withdraw", supervisor)
    acts = {index: kind for index, kind, _ in entries_after(town, size)
            if kind in ("rulebook_proposal", "rulebook", "jurisdiction_withdrawal")}  # fmt: skip
    assert sorted(acts.values()) == ["jurisdiction_withdrawal", "rulebook", "rulebook_proposal"]
    made = uses(town, size)
    assert sorted(made) == sorted(acts)
    for index, kind in acts.items():
        holder = official if kind == "rulebook_proposal" else supervisor
        assert (made[index][1]["act"], made[index][1]["token"]) == (
            kind, token_entry(town, holder)
        )  # fmt: skip
    assert town.services.self_check.run(now=town.clock.now(), halt=False).problems == []
