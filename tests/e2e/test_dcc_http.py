"""EU DCCs over HTTP: supervisors keep the trust list (public, logged), a person submits a
certificate as text or as a picture of its QR code, refusals carry specific codes and change
nothing, and no mutated HC1 text makes the server fail."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from healthcode.credentials.hcert.transport import PREFIX
from healthcode.services.clock import FixedClock
from tests.counting import counts
from tests.dcc_cases import (
    DATA_EPOCH,
    case,
    clock_of,
    holder_of,
    signer_of,
    text_of,
    with_payload_changed,
)
from tests.http import bearer
from tests.town import Town

AT_VACCINATION, AT_TEST = "AT/2DCode/raw/1.json", "AT/2DCode/raw/3.json"
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DATA_EPOCH)


def add_signer(town: Town, client: TestClient, name: str = AT_TEST) -> dict[str, object]:
    body = {
        "country": "AT",
        "certificate": base64.b64encode(signer_of(name, "AT").certificate).decode(),
    }
    answer = client.post(
        "/api/v1/dcc/signers", json=body, headers=bearer(town, "zz-sup-1", "supervisor")
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def holder(town: Town, name: str = AT_TEST) -> str:
    latin, born = holder_of(name)
    return town.person("holder", latin_name=latin, birth_date=born)


def test_supervisors_keep_the_public_trust_list(town: Town, client: TestClient) -> None:
    body = {"country": "AT", "certificate": case(AT_TEST)["TESTCTX"]["CERTIFICATE"]}
    for who, role in (("zz-off-1", "official"), ("auditor-1", "auditor")):
        answer = client.post("/api/v1/dcc/signers", json=body, headers=bearer(town, who, role))
        assert answer.status_code == 403
    signer = add_signer(town, client)
    assert (signer["country"], signer["source_id"], signer["removed_at"]) == ("AT", "dcc-AT", None)
    assert set(signer["kinds"]) == {"test_result", "vaccination", "recovery"}  # type: ignore[arg-type]
    listed = client.get("/api/v1/dcc/signers").json()
    assert [s["kid"] for s in listed] == [signer["kid"]]
    bad = client.post(
        "/api/v1/dcc/signers",
        json={"country": "AT", "certificate": "bm90IGEgY2VydA=="},
        headers=bearer(town, "zz-sup-1", "supervisor"),
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "dcc.trust_list")
    removed = client.post(
        f"/api/v1/dcc/signers/{signer['kid']}/remove",
        json={"reason": "withdrawn_by_issuer"},
        headers=bearer(town, "zz-sup-2", "supervisor"),
    )
    assert (
        removed.status_code == 200 and removed.json()[0]["remove_reason"] == "withdrawn_by_issuer"
    )
    again = client.post(
        f"/api/v1/dcc/signers/{signer['kid']}/remove",
        json={"reason": "withdrawn_by_issuer"},
        headers=bearer(town, "zz-sup-2", "supervisor"),
    )
    assert (again.status_code, again.json()["code"]) == (404, "dcc.signer_not_found")
    assert client.get("/api/v1/dcc/signers").json()[0]["removed_at"] is not None


def test_a_person_submits_text_and_a_qr_picture(town: Town, client: TestClient) -> None:
    add_signer(town, client)
    town.clock.set(clock_of(AT_TEST))
    person = holder(town)
    me = bearer(town, person, "person")
    answer = client.post("/api/v1/me/dcc", json={"text": text_of(AT_TEST)}, headers=me)
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert (receipt["kind"], receipt["source_id"], receipt["already_present"]) == (
        "test_result",
        "dcc-AT",
        False,
    )
    status = client.get("/api/v1/me/status", headers=me).json()
    assert status["colour"] == "green"
    town.clock.set(clock_of(AT_VACCINATION))
    png = base64.b64decode(case(AT_VACCINATION)["2DCODE"])
    picture = client.post(
        "/api/v1/me/dcc", files={"image": ("dcc.png", png, "image/png")}, headers=me
    )
    assert picture.status_code == 200, picture.text
    assert picture.json()["kind"] == "vaccination"
    before = counts(town.services.db)
    again = client.post(
        "/api/v1/me/dcc", files={"image": ("dcc.png", png, "image/png")}, headers=me
    )
    assert again.json()["already_present"] is True and counts(town.services.db) == before
    not_a_code = client.post(
        "/api/v1/me/dcc", files={"image": ("x.png", b"\x89PNG nonsense", "image/png")}, headers=me
    )
    assert (not_a_code.status_code, not_a_code.json()["code"]) == (422, "request.malformed")
    town.services.sequencer.integrate(now=town.clock.now())
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


def test_refusals_over_http_have_their_codes_and_write_nothing(
    town: Town, client: TestClient
) -> None:
    add_signer(town, client)
    for name in ("common/2DCode/raw/CO17.json", "common/2DCode/raw/CO8.json"):
        client.post(
            "/api/v1/dcc/signers",
            json={"country": "AT", "certificate": case(name)["TESTCTX"]["CERTIFICATE"]},
            headers=bearer(town, "zz-sup-1", "supervisor"),
        )
    town.clock.set(clock_of(AT_TEST))
    person = holder(town)
    stranger = town.person("stranger", latin_name=("Wang", "Fang"), birth_date=DATA_EPOCH.date())

    def forged(dcc: dict[str, object]) -> None:
        dcc["dob"] = "2001-01-01"

    attempts = [
        (stranger, text_of(AT_TEST), "dcc.not_holder"),
        (person, with_payload_changed(text_of(AT_TEST), forged), "dcc.signature"),
        (person, text_of("common/2DCode/raw/CO17.json"), "dcc.expired"),
        (person, text_of("common/2DCode/raw/CO8.json"), "dcc.key_usage"),
        (person, "HC1:not base45 at all!", "dcc.base45"),
    ]
    for who, text, code in attempts:
        before = counts(town.services.db)
        answer = client.post(
            "/api/v1/me/dcc", json={"text": text}, headers=bearer(town, who, "person")
        )
        assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
        assert set(answer.json()["message"]) == {"zh", "en"}
        assert counts(town.services.db) == before
    # On behalf of someone who is not a dependant.
    answer = client.post(
        "/api/v1/me/dcc",
        json={"text": text_of(AT_TEST), "on_behalf_of": person},
        headers=bearer(town, stranger, "person"),
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "auth.forbidden")
    for body in ({}, {"text": ""}, {"text": "HC1:x", "colour": "green"}):
        answer = client.post("/api/v1/me/dcc", json=body, headers=bearer(town, person, "person"))
        assert (answer.status_code, answer.json()["code"]) == (422, "request.malformed")
    raw = client.post("/api/v1/me/dcc", content=b"\xff\xfe", headers=bearer(town, person, "person"))
    assert raw.status_code == 422
    huge = client.post(
        "/api/v1/me/dcc",
        content=b'{"text": "' + b"A" * 200_000 + b'"}',
        headers={**bearer(town, person, "person"), "content-type": "application/json"},
    )
    assert (huge.status_code, huge.json()["code"]) == (413, "request.too_large")
    spec = client.get("/openapi.json").json()["paths"]["/api/v1/me/dcc"]["post"]
    assert set(spec["requestBody"]["content"]) == {"application/json", "multipart/form-data"}


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for position, length, replacement in edits:
        at = position % (len(text) + 1)
        text = text[:at] + replacement + text[at + length :]
    return text


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, 4000),
            st.integers(0, 3),
            st.text(alphabet=st.sampled_from(BASE45) | st.characters(), max_size=4),
        ),
        min_size=1,
        max_size=4,
    ),
    prefixed=st.booleans(),
)
@example(edits=[(10, 1, "\ud800")], prefixed=True)  # a lone surrogate, as JSON sends it
def test_mutated_hc1_texts_never_fail_the_server(
    town: Town, client: TestClient, edits: list[tuple[int, int, str]], prefixed: bool
) -> None:
    if not town.services.dcc_trust.signers():
        add_signer(town, client)
        town.clock.set(clock_of(AT_TEST))
        town.person("fuzz", latin_name=holder_of(AT_TEST)[0], birth_date=holder_of(AT_TEST)[1])
    person = town.services.identity.person_key("id-fuzz")
    original = text_of(AT_TEST)
    mutated = _mutate(original if prefixed else original.removeprefix(PREFIX), edits)
    before = counts(town.services.db)
    # Encoded here with ASCII escapes: a lone surrogate (which Hypothesis draws now and then)
    # cannot be sent as UTF-8, but a client may well send it as "\ud800".
    answer = client.post(
        "/api/v1/me/dcc",
        content=json.dumps({"text": mutated}),
        headers={**bearer(town, person, "person"), "content-type": "application/json"},
    )
    assert answer.status_code != 500, answer.text
    if answer.status_code == 200:  # an edit that changed nothing (e.g. a trailing newline)
        town.clock.advance(seconds=1)
    else:
        assert answer.status_code in (413, 422), answer.text
        assert answer.json()["code"].startswith(("dcc.", "request.")), answer.text
        assert counts(town.services.db) == before


def test_the_self_check_passes_after_dcc_intake_and_trust_changes(
    town: Town, client: TestClient
) -> None:
    signer = add_signer(town, client)
    town.clock.set(clock_of(AT_TEST))
    person = holder(town)
    client.post(
        "/api/v1/me/dcc", json={"text": text_of(AT_TEST)}, headers=bearer(town, person, "person")
    )
    client.post(
        f"/api/v1/dcc/signers/{signer['kid']}/remove",
        json={"reason": "superseded"},
        headers=bearer(town, "zz-sup-1", "supervisor"),
    )
    town.clock.advance(hours=1)
    town.services.sequencer.integrate(now=town.clock.now() + timedelta(seconds=1))
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
