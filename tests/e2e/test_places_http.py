"""Place codes, scans, passes, cards and the trust list over HTTP, and what venues learn.

The venue-facing test inspects every answer of every `/api/v1/venue/*` route and of the
venue pages for the person's full name, key, rule ids, reason texts and evidence refs.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from healthcode.domain.rulebook import load_rulebook
from healthcode.services.qr import read_qr_texts
from healthcode.services.rulebooks import default_edition_source
from healthcode.tlog import leaf_hash, verify_inclusion
from healthcode.web.routes import all_routes
from tests.counting import counts
from tests.e2e.test_person_page import login
from tests.http import bearer
from tests.independent_verifier import verify_receipt
from tests.town import ERQI, PUDONG, ZHONGYUAN, Town

VENUE_ANSWER = {"colour", "valid_until", "masked_name"}


def forbidden_texts(town: Town, person: str, full_name: str) -> list[str]:
    """What a venue must never see: the full name, the person key, every rule id and reason
    of the rulebook, and the refs of the person's evidence."""
    rulebook = load_rulebook(default_edition_source())
    texts = [full_name, person, rulebook.default_rule_id, rulebook.default_reason.zh,
             rulebook.default_reason.en]  # fmt: skip
    for rule in rulebook.rules:
        texts += [rule.id, rule.reason.zh, rule.reason.en]
    status = town.services.explanations.explain(person, now=town.clock.now()).status
    texts += [ref.removeprefix("evidence:") for ref in status.inputs]
    with town.services.db.read() as conn:
        from sqlalchemy import select

        from healthcode.store import tables as t

        rows = conn.execute(
            select(t.evidence.c.source_id, t.evidence.c.record_id).where(
                t.evidence.c.person_key == person
            )
        ).all()
    texts += [f"{row.source_id}/{row.record_id}" for row in rows]
    texts += [row.record_id for row in rows if len(row.record_id) > 8]
    return texts


def test_venue_answers_hold_colour_validity_and_masked_name_only(
    town: Town, client: TestClient
) -> None:
    full_name = "王小明明"
    person = town.person(full_name, home=ZHONGYUAN)
    town.test(person, town.clock.now() - timedelta(hours=1), "positive")
    me, venue = bearer(town, person, "person"), bearer(town, "mall", "venue")
    code = client.get("/api/v1/venue/place-code", headers=bearer(town, "market", "venue"))
    client.post("/api/v1/scans", json={"code": code.json()["text"]}, headers=me)
    pass_text = client.get("/api/v1/me/pass", headers=me).json()["text"]
    pass_png = client.get("/api/v1/me/pass?format=png", headers=me).content
    card_text = client.get("/api/v1/me/card?format=json", headers=me).json()["text"]
    card_png = client.get("/api/v1/me/card", headers=me).content
    assert read_qr_texts(card_png) == [card_text]

    answers = {
        "place-code": client.get("/api/v1/venue/place-code", headers=venue),
        "place-code.svg": client.get("/api/v1/venue/place-code?format=svg", headers=venue),
        "static": client.get("/api/v1/venue/place-code/static", headers=venue),
        "pass json": client.post("/api/v1/venue/pass-check", json={"text": pass_text}, headers=venue),
        "pass form": client.post("/api/v1/venue/pass-check", data={"text": pass_text}, headers=venue),
        "pass image": client.post("/api/v1/venue/pass-check", headers=venue,
                                  files={"image": ("pass.png", pass_png, "image/png")}),
        "pass refused": client.post("/api/v1/venue/pass-check", json={"text": pass_text[:-9]},
                                    headers=venue),
        "card json": client.post("/api/v1/venue/identity-check", json={"card": card_text},
                                 headers=venue),
        "card image": client.post("/api/v1/venue/identity-check", headers=venue,
                                  files={"image": ("card.png", card_png, "image/png")}),
        "card refused": client.post("/api/v1/venue/identity-check", json={"card": "HCI1:X"},
                                    headers=venue),
    }  # fmt: skip
    client.cookies.clear()
    venue_token = town.token("mall", "venue")
    assert (
        client.get(f"/venue/login?token={venue_token}", follow_redirects=False).status_code == 303
    )
    answers |= {
        "page": client.get("/venue"),
        "page en": client.get("/venue?lang=en"),
        "check pass": client.post("/venue/check", data={"text": pass_text}),
        "check card": client.post("/venue/check", files={"image": ("card.png", card_png, "image/png")}),
        "check refused": client.post("/venue/check", data={"text": "HCP1:nonsense"}),
        "login": client.get("/venue/login"),
    }  # fmt: skip
    for name in ("pass json", "pass form", "pass image", "card json", "card image"):
        body = answers[name].json()
        assert answers[name].status_code == 200, (name, body)
        assert set(body) == VENUE_ANSWER, name
        assert (body["colour"], body["masked_name"]) == ("red", "王**明"), name
    assert answers["pass refused"].status_code == 422
    assert answers["card refused"].json()["code"] in {"pass.base45", "pass.zlib"}
    assert "code-red" in answers["check pass"].text and "王**明" in answers["check card"].text
    forbidden = forbidden_texts(town, person, full_name)
    for name, answer in answers.items():
        text = answer.text
        found = [item for item in forbidden if item and item in text]
        assert found == [], (name, found)
    # Every venue-facing route was exercised.
    venue_routes = {
        (method, route.path)
        for route in all_routes(client.app)  # type: ignore[arg-type]
        if route.path.startswith(("/api/v1/venue", "/venue"))
        for method in route.methods - {"HEAD"}
    }
    assert venue_routes == {
        ("GET", "/api/v1/venue/place-code"), ("GET", "/api/v1/venue/place-code/static"),
        ("POST", "/api/v1/venue/pass-check"), ("POST", "/api/v1/venue/identity-check"),
        ("GET", "/venue"), ("POST", "/venue/check"), ("GET", "/venue/login"),
    }  # fmt: skip


def test_a_scan_over_http_answers_what_staff_see_and_its_proof_verifies(
    town: Town, client: TestClient, tmp_path: Path
) -> None:
    person = town.person("scanner", home=PUDONG)
    code = client.get("/api/v1/venue/place-code", headers=bearer(town, "station", "venue")).json()
    assert code["static"] is False and code["svg"].startswith("<svg")
    answer = client.post(
        "/api/v1/scans", json={"code": code["text"]}, headers=bearer(town, person, "person")
    )
    assert answer.status_code == 200, answer.text
    scanned = answer.json()
    assert scanned.pop("presence_note")["en"].startswith("Your visit is recorded as proven")
    assert scanned == {
        "colour": "green",
        "venue_name": {"zh": "郑州站", "en": "Zhengzhou Station"},
        "at": town.clock.now().isoformat().replace("+00:00", "Z"),
        "presence": "proven",
    }
    proof_url = re.match(r"<([^>]+)>", answer.headers["link"]).group(1)  # type: ignore[union-attr]
    assert client.get(proof_url, headers=bearer(town, person, "person")).json()["code"] == (
        "scan.not_sealed"
    )
    again = client.post(
        "/api/v1/scans", json={"code": code["text"]}, headers=bearer(town, person, "person")
    )
    assert (again.status_code, again.json()["code"]) == (409, "place.replayed")

    town.clock.advance(seconds=2)
    town.services.places.seal_due(town.clock.now())
    town.services.sequencer.integrate(now=town.clock.now())
    proof = client.get(proof_url, headers=bearer(town, person, "person")).json()
    verify_inclusion(
        leaf_hash(proof["record"].encode()), proof["leaf_index"], proof["batch_size"],
        [bytes.fromhex(h) for h in proof["inclusion"]], bytes.fromhex(proof["batch_root"]),
    )  # fmt: skip
    assert json.loads(proof["entry"])["data"]["root"] == proof["batch_root"]
    verify_receipt(proof["receipt"], proof["entry"].encode(), town.services.log.vkey())
    other = town.person("someone else")
    assert client.get(proof_url, headers=bearer(town, other, "person")).status_code == 404
    # A monitor re-hashing the whole served log accepts it, and the self-check agrees.
    from healthcode.services.monitor import verify_log

    monitored = verify_log("http://testserver/log/", tmp_path / "monitor.json", client=client)
    assert monitored.entries_verified == monitored.size > 0
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_bad_place_codes_over_http_change_nothing(town: Town, client: TestClient) -> None:
    person = town.person("bad codes", home=ERQI)
    me = bearer(town, person, "person")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from healthcode.credentials.passes import place_code

    good = client.get("/api/v1/venue/place-code", headers=bearer(town, "market", "venue")).json()
    client.post("/api/v1/scans", json={"code": good["text"]}, headers=me)
    stranger = place_code("market", good["window"], Ed25519PrivateKey.generate(), b"x" * 8)
    with town.services.db.read() as conn:
        from healthcode.store import places as places_repo

        [market_key] = [r for r in places_repo.venue_keys(conn) if r.venue_id == "market"]
    impostor = place_code(
        "market", good["window"], Ed25519PrivateKey.generate(), bytes.fromhex(market_key.key_id)
    )
    before = counts(town.services.db)
    for text, code in (
        (good["text"], "place.replayed"),
        (stranger, "place.unknown_venue"),
        (impostor, "place.signature"),
        ("HCV1:%%%", "place.malformed"),
        ("HCP1:" + good["text"][5:], "place.malformed"),
    ):
        answer = client.post("/api/v1/scans", json={"code": text}, headers=me)
        assert answer.json()["code"] == code, (code, answer.text)
    assert counts(town.services.db) == before


def test_passes_cards_and_the_trust_list_over_http(town: Town, client: TestClient) -> None:
    guardian = town.person("guardian", home=ZHONGYUAN)
    child = town.person("小孩子", home=ZHONGYUAN)
    town.services.identity.add_guardian(guardian, child, now=town.clock.now())
    me = bearer(town, guardian, "person")
    mine = client.get("/api/v1/me/pass", headers=me)
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    assert set(mine.json()) == {"text", "colour", "valid_until", "masked_name", "issuer", "svg"}
    png = client.get("/api/v1/me/pass?format=png", headers=me)
    assert png.headers["content-type"] == "image/png"
    assert read_qr_texts(png.content)[0].startswith("HCP1:")
    theirs = client.get(f"/api/v1/me/dependants/{child}/pass", headers=me).json()
    assert theirs["masked_name"] == "小*子"
    card = client.get(f"/api/v1/me/dependants/{child}/card?format=json", headers=me).json()
    assert card["text"].startswith("HCI1:")
    stranger = town.person("stranger")
    assert client.get(f"/api/v1/me/dependants/{stranger}/pass", headers=me).status_code == 403

    listed = client.get("/api/v1/trust-list")
    assert listed.status_code == 200 and "max-age" in listed.headers["cache-control"]
    etag = listed.headers["etag"]
    assert client.get("/api/v1/trust-list", headers={"If-None-Match": etag}).status_code == 304
    anchors = client.get("/api/v1/trust-list/anchors").json()["anchors"]
    from healthcode.services.offline import anchors_of, read_trust_list

    cached = read_trust_list(listed.content, anchors_of(a["public_key"] for a in anchors))
    [zz_key] = [k for k in cached.keys if k.issuer == "zz-health"]
    revoke = f"/api/v1/trust-list/keys/{zz_key.key_id.hex()}/revoke"
    elsewhere = client.post(
        revoke, json={"reason": "misuse"}, headers=bearer(town, "sh-sup-1", "supervisor")
    )
    assert elsewhere.status_code == 403
    done = client.post(revoke, json={"reason": "key-compromise"},
                       headers=bearer(town, "zz-sup-1", "supervisor"))  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["trust_list_version"] == cached.version + 1
    check = client.post("/api/v1/venue/pass-check", json={"text": mine.json()["text"]},
                        headers=bearer(town, "mall", "venue"))  # fmt: skip
    assert check.json()["code"] == "pass.key_revoked"
    assert check.json()["reason"]["code"] == "key-compromise"


def test_the_person_page_shows_the_pass_and_scans_a_code(town: Town, client: TestClient) -> None:
    person = town.person("page person", home=ZHONGYUAN)
    code = client.get(
        "/api/v1/venue/place-code?format=png", headers=bearer(town, "market", "venue")
    )
    text = read_qr_texts(code.content)[0]
    client.cookies.clear()
    login(client, town.services, person)
    page = client.get("/me").text
    assert "/api/v1/me/pass?format=svg" in page and 'action="/me/scan"' in page
    assert client.get("/api/v1/me/pass?format=svg").headers["content-type"].startswith("image/svg")
    scanned = client.post("/me/scan", files={"image": ("code.png", code.content, "image/png")})
    assert scanned.status_code == 200 and "中原菜市场" in scanned.text
    again = client.post("/me/scan", data={"code": text})
    assert again.status_code == 409 and "place.replayed" in again.text


def test_the_venue_page_refreshes_with_and_without_javascript(
    town: Town, client: TestClient
) -> None:
    assert client.get("/venue").status_code == 401
    token = town.token("station", "venue")
    assert client.get(f"/venue/login?token={token}", follow_redirects=False).status_code == 303
    page = client.get("/venue?lang=en").text
    assert '<noscript><meta http-equiv="refresh"' in page
    assert '<script src="/static/venue.js" defer></script>' in page
    assert "Zhengzhou Station" in page and "<svg" in page
    # A screen reader names the code (the script swaps only what is inside it).
    assert (
        'role="img" aria-label="Place code of Zhengzhou Station, to scan with healthcode"' in page
    )
    assert 'aria-label="郑州站的场所码，请用健康码扫描"' in client.get("/venue?lang=zh").text
    assert client.get("/static/venue.js").status_code == 200
    assert client.get("/venue/login?token=forged").status_code == 401


def language_switch(page: str) -> str:
    found = re.search(r'<a href="([^"]*)" hreflang="', page)
    assert found, "the page has no language switch"
    return found.group(1).replace("&amp;", "&")


def test_the_language_switch_of_a_form_answer_opens_a_page(town: Town, client: TestClient) -> None:
    """A scan's or a pass check's answer is the answer to a POST: its language switch must
    lead to a page a browser can open, not to the form's address (405)."""
    person = town.person("switching person", home=ZHONGYUAN)
    text = client.get("/api/v1/venue/place-code", headers=bearer(town, "market", "venue"))
    client.cookies.clear()
    login(client, town.services, person)
    scanned = client.post("/me/scan?lang=zh", data={"code": text.json()["text"]})
    assert scanned.status_code == 200
    switched = client.get(language_switch(scanned.text))
    assert switched.status_code == 200 and '<html lang="en">' in switched.text
    assert switched.url.path == "/me"
    pass_text = client.get("/api/v1/me/pass").json()["text"]
    client.cookies.clear()
    assert client.get(f"/venue/login?token={town.token('market', 'venue')}").status_code == 200
    checked = client.post("/venue/check?lang=en", data={"text": pass_text})
    switched = client.get(language_switch(checked.text))
    assert switched.status_code == 200 and switched.url.path == "/venue"
    assert '<html lang="zh-CN">' in switched.text
    # a page opened by GET keeps its own address and its other parameters
    assert language_switch(client.get("/venue?lang=en&x=1").text) == "?x=1&lang=zh"
