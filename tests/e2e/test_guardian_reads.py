"""Invariant 7 for guardians: a guardian who is shown a dependant's code (on /me, the appeal
form for them, the API) has read that person's record, and the dependant sees each read."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from healthcode.domain.log_entries import actor_tag, person_tag
from healthcode.services.orders import staff_secret_key
from healthcode.web.app import create_app
from tests.e2e.test_appeals_pages import login
from tests.log_rows import stored
from tests.town import ERQI, Town


def access_entries(town: Town) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
    with town.services.db.read() as conn:
        rows = stored(conn)
    return [(index, json.loads(body)["data"]) for index, kind, body in rows if kind == "access"]


def reads(town: Town, person: str) -> list[tuple[str, str, str | None, str]]:
    return [
        (a.accessor_id, a.accessor_role, a.authority_id, a.purpose)
        for a in town.services.access.of_person(person)
    ]


def test_a_guardians_view_of_me_is_a_read_the_dependant_sees(
    town: Town, client: TestClient
) -> None:
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    stranger = town.person("路人", home=ERQI)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    login(client, town, parent)
    assert "段小红" in client.get("/me").text
    assert reads(town, child) == [(parent, "guardian", None, "guardianship")]
    # Every view is a read, as every staff look-up is: none is merged into another.
    client.get("/me")
    assert len(reads(town, child)) == 2
    assert reads(town, parent) == [] and reads(town, stranger) == []

    # The entry names neither of them: tags only, the guardian's by an actor secret of theirs.
    secrets = town.services.secrets
    [(index, entry), _] = access_entries(town)
    assert entry == {
        "person": person_tag(secrets.secret(child), index),
        "accessor": actor_tag(secrets.secret(staff_secret_key(parent)), index),
        "role": "guardian", "authority": None, "purpose": "guardianship", "at": entry["at"],
    }  # fmt: skip
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok

    # The dependant's page lists it, in both languages, by the guardian's name, not their key.
    own = TestClient(create_app(town.services, run_scheduler=False))
    login(own, town, child)
    zh = own.get("/me").text
    row = zh[zh.index("谁查看过您的记录") :]
    assert "段父" in row and "监护人" in row and "监护人照看" in row and parent not in zh
    en = own.get("/me?lang=en").text
    assert "段父 (guardian)" in en and "care by a guardian" in en
    listing = own.get("/api/v1/me/accesses")
    [listed, _] = listing.json()
    assert (listed["accessor_role"], listed["accessor_name"], listed["purpose_name"]) == (
        "guardian", {"zh": "段父", "en": "段父"}, {"zh": "监护人照看", "en": "care by a guardian"})  # fmt: skip
    # Named, not identified: the guardian's person key is another person's pseudonym.
    assert listed["accessor_id"] is None and parent not in listing.text


def test_the_appeal_form_for_a_dependant_and_the_api_record_the_read(
    town: Town, client: TestClient
) -> None:
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    stranger = town.person("路人", home=ERQI)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    login(client, town, parent)
    client.get("/me/appeals")  # the guardian's own form: the dependant's name only
    assert reads(town, child) == []
    assert client.get(f"/me/appeals?for={child}").status_code == 200
    assert len(reads(town, child)) == 1
    assert client.get(f"/me/appeals?for={stranger}").status_code == 403
    bearer = {"Authorization": f"Bearer {town.token(parent, 'person')}"}
    assert [
        d["person_key"] for d in client.get("/api/v1/me/dependants", headers=bearer).json()
    ] == [child]
    status = client.get(f"/api/v1/me/dependants/{child}/status", headers=bearer)
    assert status.status_code == 200 and len(reads(town, child)) == 3
    refused = client.get(f"/api/v1/me/dependants/{stranger}/status", headers=bearer)
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden")
    assert reads(town, stranger) == []
    assert {read[1:] for read in reads(town, child)} == {("guardian", None, "guardianship")}


def test_a_guardians_fetch_of_a_dependants_pass_or_card_is_a_read_the_dependant_sees(
    town: Town, client: TestClient
) -> None:
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    stranger = town.person("路人", home=ERQI)
    town.services.identity.add_guardian(parent, child, now=town.clock.now())
    bearer = {"Authorization": f"Bearer {town.token(parent, 'person')}"}
    assert client.get(f"/api/v1/me/dependants/{child}/pass", headers=bearer).status_code == 200
    assert reads(town, child) == [(parent, "guardian", None, "guardianship")]
    # The QR picture the guardian's /me page shows, and the card it links to, are reads too.
    assert client.get(f"/api/v1/me/dependants/{child}/pass?format=svg", headers=bearer).is_success
    card = client.get(f"/api/v1/me/dependants/{child}/card?format=json", headers=bearer)
    assert card.status_code == 200 and card.json()["text"].startswith("HCI1:")
    assert reads(town, child) == [(parent, "guardian", None, "guardianship")] * 3
    assert len(access_entries(town)) == 3
    # The guardian's own pass and card are no one else's read.
    assert client.get("/api/v1/me/pass", headers=bearer).is_success
    assert client.get("/api/v1/me/card?format=json", headers=bearer).is_success
    assert reads(town, parent) == []
    for path in ("pass", "card?format=json"):
        refused = client.get(f"/api/v1/me/dependants/{stranger}/{path}", headers=bearer)
        assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden")
    assert reads(town, stranger) == [] and len(access_entries(town)) == 3

    mine = {"Authorization": f"Bearer {town.token(child, 'person')}"}
    listed = client.get("/api/v1/me/accesses", headers=mine).json()
    assert [(a["accessor_id"], a["accessor_role"], a["purpose"], a["accessor_name"]) for a in listed] == [
        (None, "guardian", "guardianship", {"zh": "段父", "en": "段父"})] * 3  # fmt: skip
    town.services.sequencer.integrate(now=town.clock.now())
    report = town.services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems
