"""Every act a person (or a guardian, for a dependant) makes with a token the operator issued
(``healthcode admin token``: a bearer token, or a sign-in link and the session it opens) is
logged as made with it: an appeal filed, one taken to oversight, a guardian's read of a
dependant's record; each a ``person_token_use`` entry naming the token's entry and the act's,
written with it, and the self-check rebuilds them. The person's own token writes none; a token
the log does not back for that person acts for no one. The person's page shows each act by
the token it was made with. On SQLite and PostgreSQL (the ``town`` fixture runs on both)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from healthcode.domain.person_tokens import token_commitment
from healthcode.services.tokens import PERSON_AUDIENCE, SIGN_IN_AUDIENCE
from healthcode.store import person_tokens
from healthcode.web.app import create_app
from tests.counting import counts
from tests.e2e.appeal_steps import answer, contact, quarantine
from tests.http import bearer
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ERQI, Town


def issue(town: Town, person: str, kind: str, hours: float = 2) -> str:
    """The token ``healthcode admin token`` prints for ``person``."""
    [token] = town.services.person_tokens.issue(
        person,
        [kind],
        now=town.clock.now(),
        ttl=timedelta(hours=hours),  # type: ignore[list-item]
    )
    return token


def token_id(town: Town, token: str, audience: str = PERSON_AUDIENCE) -> str:
    """The id of the operator's token, checked to be a logged one of its person."""
    claims = town.services.tokens.check(token, audience=audience, now=town.clock.now())
    with town.services.db.read() as conn:
        assert person_tokens.find(conn, claims.subject, claims.token_id) is not None
    return claims.token_id


def uses(town: Town, size: int) -> list[tuple[int, dict[str, Any]]]:
    """The ``person_token_use`` entries logged since ``size``: (index, data)."""
    return [
        (index, json.loads(body)["data"])
        for index, kind, body in entries_after(town, size)
        if kind == "person_token_use"
    ]


def only(town: Town, size: int, kind: str) -> int:
    """The index of the one entry of ``kind`` logged since ``size``."""
    [index] = [index for index, found, _ in entries_after(town, size) if found == kind]
    return index


def ordered(town: Town, client: TestClient, name: str) -> tuple[str, str, str]:
    """A person under an order (issued by an official's own sign-in): (person, order, evidence)."""
    person = town.person(name, home=ERQI)
    evidence = contact(town, person)
    return person, quarantine(town, client, person, evidence), evidence


def appeal(client: TestClient, order_id: str, **headers: str) -> Any:
    body = {"target": "order", "ref": order_id, "ground": "not_there"}
    return client.post("/api/v1/me/appeals", json=body, headers=headers)


def problems(town: Town) -> list[str]:
    return town.services.self_check.run(now=town.clock.now(), halt=False).problems


def test_an_appeal_filed_and_escalated_with_an_operators_bearer_token_is_logged_as_made_with_it(
    town: Town, client: TestClient
) -> None:
    person, order_id, evidence = ordered(town, client, "持令牌者")
    token = issue(town, person, "bearer")
    size = log_size(town)
    filed = appeal(client, order_id, Authorization=f"Bearer {token}")
    assert filed.status_code == 201, filed.text
    act = only(town, size, "appeal_filed")
    [(use, data)] = uses(town, size)
    assert data == {"token": token_commitment(token_id(town, token), use), "entry": act,
                    "act": "appeal_filed", "at": data["at"]}  # fmt: skip
    assert use == act + 1 and person.encode() not in entries_after(town, use)[0][2]
    upheld = answer(client, town, filed.json()["id"], outcome="upheld", evidence=[evidence])
    assert upheld.status_code == 200, upheld.text
    size = log_size(town)
    escalated = client.post(
        f"/api/v1/me/appeals/{filed.json()['id']}/escalate",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert escalated.status_code == 200, escalated.text
    [(second, again)] = uses(town, size)
    assert (again["entry"], again["act"]) == (
        only(town, size, "appeal_escalated"),
        "appeal_escalated",
    )
    # One token's uses are not linkable in the public log: each states it differently.
    assert again["token"] == token_commitment(token_id(town, token), second) != data["token"]
    assert problems(town) == []


def test_an_appeal_filed_after_signing_in_with_an_operators_link_is_logged_as_made_with_it(
    town: Town, client: TestClient
) -> None:
    """The session the link opens carries the link's id: its acts are the link's, and it ends
    when the link's logged validity does."""
    person, order_id, _ = ordered(town, client, "链接登录者")
    link = issue(town, person, "login_link", hours=1)
    link_id = token_id(town, link, SIGN_IN_AUDIENCE)
    signed_in = client.post("/login", data={"token": link}, follow_redirects=False)
    assert signed_in.status_code == 303
    session = town.services.tokens.check(
        client.cookies["hc_session"], audience=PERSON_AUDIENCE, now=town.clock.now()
    )
    link_claims = town.services.tokens.check(link, audience=SIGN_IN_AUDIENCE, now=town.clock.now())
    assert session.opened_with == link_claims.token_id and not session.operator_issued
    assert session.expires_at == link_claims.expires_at  # not the 12 hours of a session
    size = log_size(town)
    form = {"item": f"order:{order_id}", "ground": "not_there"}
    assert client.post("/me/appeals", data=form, follow_redirects=False).status_code == 303
    [(use, data)] = uses(town, size)
    assert (data["token"], data["entry"], data["act"]) == (
        token_commitment(link_id, use), only(town, size, "appeal_filed"), "appeal_filed",
    )  # fmt: skip
    assert problems(town) == []


def test_an_appeal_filed_with_the_persons_own_token_writes_no_use(
    town: Town, client: TestClient
) -> None:
    person, order_id, _ = ordered(town, client, "自己的令牌")
    size = log_size(town)
    assert appeal(client, order_id, **bearer(town, person)).status_code == 201
    assert [kind for _, kind, _ in entries_after(town, size)].count("appeal_filed") == 1
    assert uses(town, size) == []


@pytest.mark.parametrize("token", ["never_logged", "another_persons", "outside_validity"])
def test_a_token_the_log_does_not_back_files_no_appeal_and_writes_nothing(
    town: Town, client: TestClient, token: str
) -> None:
    """A token that says the operator issued it acts only for the person its entry names,
    within the validity the entry states: a forged one (signed by the server's key, as a
    leaked key or the operator could) files nothing, and nothing is written."""
    person, order_id, _ = ordered(town, client, "被冒用者")
    tokens = town.services.tokens
    now = town.clock.now()
    if token == "never_logged":
        forged = tokens.mint(person, role="person", now=now, ttl=timedelta(hours=1),
                             token_id="0" * 32, operator=True)  # fmt: skip
    else:
        other = town.person("另一人") if token == "another_persons" else person
        issued = tokens.check(issue(town, other, "bearer", hours=1), audience=PERSON_AUDIENCE,
                              now=now)  # fmt: skip
        # Its id in a token of the person's, or lasting longer than its entry says.
        forged = tokens.mint(person, role="person", now=now, ttl=timedelta(hours=3),
                             token_id=issued.token_id, operator=True)  # fmt: skip
        if token == "outside_validity":
            town.clock.advance(hours=2)
    before = counts(town.services.db)
    refused = appeal(client, order_id, Authorization=f"Bearer {forged}")
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")
    assert counts(town.services.db) == before
    assert problems(town) == []


def test_a_guardians_reads_of_their_dependants_with_an_operators_token_are_logged_as_made_with_it(
    town: Town, client: TestClient
) -> None:
    parent, child = town.person("监护人甲", home=ERQI), town.person("孩子甲", home=ERQI)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    token = issue(town, parent, "bearer")
    size = log_size(town)
    read = client.get(
        f"/api/v1/me/dependants/{child}/status", headers={"Authorization": f"Bearer {token}"}
    )
    assert read.status_code == 200, read.text
    [(_, data)] = uses(town, size)
    assert (data["entry"], data["act"]) == (only(town, size, "access"), "access")
    # A read of the guardian's own record writes no entry, so no use either.
    size = log_size(town)
    own = client.get("/api/v1/me/status", headers={"Authorization": f"Bearer {token}"})
    assert own.status_code == 200 and entries_after(town, size) == []
    assert problems(town) == []


def test_the_persons_page_shows_the_acts_made_with_each_token(
    town: Town, client: TestClient
) -> None:
    person, order_id, _ = ordered(town, client, "看页面者")
    token = issue(town, person, "bearer")
    size = log_size(town)
    assert appeal(client, order_id, Authorization=f"Bearer {token}").status_code == 201
    act = only(town, size, "appeal_filed")
    [(use, _)] = uses(town, size)
    listed = client.get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(u["act"], u["act_index"], u["log_index"]) for u in listed[0]["uses"]] == [
        ("appeal_filed", act, use)
    ]
    assert listed[0]["use_count"] == 1
    page = TestClient(create_app(town.services, run_scheduler=False))
    page.cookies.set("hc_lang", "en")
    page.post("/login", data={"token": town.link(person)}, follow_redirects=False)
    tokens = page.get("/me").text
    tokens = tokens[tokens.index('id="issued-tokens"') :]
    assert "Appeal filed" in tokens and f'href="/public/log/{act}"' in tokens
    assert f'href="/public/log/{use}"' in tokens
    shown = page.get("/me/appeals").text
    assert "filed with a token the operator issued" in shown
