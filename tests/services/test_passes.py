"""Status passes, identity cards and the trust list: a pass issued in one region verifies
offline at a venue of another; after its key is revoked it fails with the revocation reason;
every bad input gets its own code and changes nothing."""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import Any

import pytest

from healthcode.credentials.passes import (
    CLAIM_PASS,
    PASS_PREFIX,
    cose,
    verify_pass,
)
from healthcode.credentials.passes.cborscan import dumps
from healthcode.credentials.passes.claims import decode_pass_claims
from healthcode.credentials.passes.transport import compress, decode_base45, encode_base45
from healthcode.domain.designations import RiskLevel
from healthcode.errors import HealthcodeError
from healthcode.services.offline import read_trust_list, verify_offline
from healthcode.services.orders import Actor
from healthcode.services.pass_refusals import PassRefused
from healthcode.store import places as places_repo
from tests.counting import counts
from tests.log_rows import stored
from tests.town import ERQI, PUDONG, ZHENGZHOU, ZHONGYUAN, Town

ZZ_SUPERVISOR = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))
SH_SUPERVISOR = Actor("sh-sup-1", "supervisor", "sh-health", frozenset({"310100"}))


def payload_of(text: str) -> bytes:
    body = decode_base45(text.removeprefix(PASS_PREFIX), 4096)
    return cose.parse(zlib.decompress(body)).payload


def test_a_pass_says_the_colour_the_derivation_says(town: Town) -> None:
    passes = town.services.passes
    person = town.person("王小明", home=ZHONGYUAN)
    issued = passes.issue_pass(person, town.clock.now())
    assert (issued.colour, issued.masked_name, issued.issuer) == ("green", "王*明", "zz-health")
    assert issued.valid_until == town.clock.now() + timedelta(minutes=15)

    town.test(person, town.clock.now() - timedelta(hours=1), "positive")
    red = passes.issue_pass(person, town.clock.now())
    assert red.colour == "red"
    # The commitment differs in every pass: venues cannot link two passes of one person.
    first, second = (decode_pass_claims(payload_of(p.text)) for p in (issued, red))
    assert first.person_commitment != second.person_commitment
    assert person.encode() not in payload_of(red.text)


def test_a_pass_never_outlives_its_status(town: Town) -> None:
    person = town.person("contact", home=ERQI)
    # A close contact is yellow for 14 days from the contact: let it end in 5 minutes.
    when = town.clock.now() - timedelta(days=14) + timedelta(minutes=5)
    town.submit("cdc-1", [town.record("close_contact", person, when, area=ERQI, case_ref="c1")])
    issued = town.services.passes.issue_pass(person, town.clock.now())
    assert issued.colour == "yellow"
    assert issued.valid_until == town.clock.now() + timedelta(minutes=5)


def test_a_pass_from_one_region_verifies_offline_in_another_until_revoked(town: Town) -> None:
    services = town.services
    zhengzhou_resident = town.person("李娜娜", home=ZHONGYUAN)
    issued = services.passes.issue_pass(zhengzhou_resident, town.clock.now())
    assert issued.issuer == "zz-health"
    # A venue of Shanghai (authority sh-health) caches the national trust list, then goes offline.
    services.passes.issue_pass(town.person("shanghai", home=PUDONG), town.clock.now())
    published = services.trust_lists.current()
    assert published is not None
    cached = read_trust_list(published.document, services.trust_lists.anchors())
    assert {"zz-health", "sh-health"} <= cached.issuers()
    at_the_mall = town.clock.now() + timedelta(minutes=2)
    verdict = verify_offline(issued.text, cached, at_the_mall)
    assert (verdict.colour, verdict.masked_name, verdict.issuer) == ("green", "李*娜", "zz-health")
    # Online at the mall's device: the same answer, nothing more.
    answer = services.passes.check_pass(issued.text, at_the_mall)
    assert (answer.colour, answer.masked_name) == ("green", "李*娜")

    town.clock.advance(minutes=1)
    key_id = verify_pass(issued.text, cached, at_the_mall).key_id.hex()
    before = published.version
    updated = services.trust_lists.revoke(
        ZZ_SUPERVISOR, key_id, reason="key-compromise", now=town.clock.now()
    )
    assert updated.version == before + 1
    refreshed = read_trust_list(
        updated.document, services.trust_lists.anchors(), min_version=cached.version
    )
    with pytest.raises(PassRefused) as caught:
        verify_offline(issued.text, refreshed, town.clock.now())
    assert caught.value.code == "pass.key_revoked"
    assert caught.value.reason is not None and caught.value.reason.value == "key-compromise"
    assert "compromised" in caught.value.detail
    # A new key replaced it: new passes verify with the new list.
    again = services.passes.issue_pass(zhengzhou_resident, town.clock.now())
    assert verify_offline(again.text, refreshed, town.clock.now()).colour == "green"
    # The old list cannot be passed off as newer (rollback).
    with pytest.raises(PassRefused) as rolled:
        read_trust_list(published.document, services.trust_lists.anchors(),
                        min_version=refreshed.version)  # fmt: skip
    assert rolled.value.code == "trust.rollback"
    report = services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems


def test_only_a_supervisor_of_the_keys_authority_revokes_it(town: Town) -> None:
    services = town.services
    services.passes.issue_pass(town.person("x", home=ZHONGYUAN), town.clock.now())
    with services.db.read() as conn:
        key_id = next(
            row.key_id for row in places_repo.trust_keys(conn) if row.issuer == "zz-health"
        )
    before = counts(services.db)
    cases: list[tuple[Actor, str, str, str]] = [
        (SH_SUPERVISOR, key_id, "key-compromise", "auth.forbidden"),
        (
            Actor("zz-off-1", "official", "zz-health", frozenset()),
            key_id,
            "misuse",
            "auth.forbidden",
        ),
        (ZZ_SUPERVISOR, "00" * 8, "misuse", "trust.key_not_found"),
        (ZZ_SUPERVISOR, key_id, "because I say so", "trust.reason_invalid"),
    ]
    for actor, kid, reason, code in cases:
        with pytest.raises(HealthcodeError) as caught:
            services.trust_lists.revoke(actor, kid, reason=reason, now=town.clock.now())
        assert caught.value.code == code
    assert counts(services.db) == before
    services.trust_lists.revoke(ZZ_SUPERVISOR, key_id, reason="superseded", now=town.clock.now())
    with pytest.raises(HealthcodeError) as twice:
        services.trust_lists.revoke(
            ZZ_SUPERVISOR, key_id, reason="superseded", now=town.clock.now()
        )
    assert twice.value.code == "trust.key_already_revoked"


def test_trust_list_changes_are_logged(town: Town) -> None:
    services = town.services
    services.passes.issue_pass(town.person("y"), town.clock.now())
    with services.db.read() as conn:
        kinds = [(kind, body) for _, kind, body in stored(conn)]
    registry = [body for kind, body in kinds if kind == "registry"]
    assert any(b'"what":"trust_key"' in body for body in registry)
    assert any(b'"what":"trust_list"' in body for body in registry)


def test_an_identity_card_is_exchanged_for_the_colour_and_the_read_is_shown(town: Town) -> None:
    services = town.services
    grandmother = town.person("张奶奶奶", home=ZHONGYUAN)
    card = services.passes.identity_card(grandmother, town.clock.now())
    assert card.text.startswith("HCI1:")
    assert services.passes.identity_card(grandmother, town.clock.now()).text == card.text
    town.test(grandmother, town.clock.now() - timedelta(hours=2), "positive")
    venue = services.places.venue("mall", town.clock.now())
    answer = services.passes.check_card(venue, card.text, town.clock.now(), device_token=None)
    assert (answer.colour, answer.masked_name) == ("red", "张**奶")
    reads = services.access.of_person(grandmother)
    assert [(r.accessor_id, r.accessor_role, r.purpose) for r in reads] == [
        ("mall", "venue", "identity_card_check")
    ]
    services.sequencer.integrate(now=town.clock.now())
    report = services.self_check.run(now=town.clock.now(), halt=False)
    assert report.ok, report.problems


def test_a_guardians_card_is_issued_with_its_read_recorded_or_not_at_all(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = town.services
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    services.identity.add_guardian(parent, child, now=town.clock.now())

    def log_down(*args: object) -> list[int]:
        raise RuntimeError("the log refused the entry")

    monkeypatch.setattr("healthcode.services.passes.record_reads", log_down)
    with pytest.raises(RuntimeError):
        services.passes.identity_card(child, town.clock.now(), guardian=parent)
    with services.db.read() as conn:
        assert places_repo.identity_card(conn, child) is None
    monkeypatch.undo()
    services.passes.identity_card(child, town.clock.now(), guardian=parent)
    with services.db.read() as conn:
        assert places_repo.identity_card(conn, child) is not None
    assert [(r.accessor_id, r.purpose) for r in services.access.of_person(child)] == [
        (parent, "guardianship")
    ]
    with pytest.raises(HealthcodeError) as stranger:  # and no one else's card is theirs
        services.passes.identity_card(
            town.person("路人", home=ERQI), town.clock.now(), guardian=parent
        )
    assert stranger.value.code == "auth.forbidden"


def _signed(town: Town, payload: bytes) -> str:
    key = town.services.trust_lists.issuer_key("zz-health", town.clock.now())
    return PASS_PREFIX + encode_base45(compress(cose.sign(payload, key.signing_key, key.key_id)))


def _claims(town: Town, private: dict[int, Any] | None = None) -> dict[int, Any]:
    now = int(town.clock.now().timestamp())
    inner: dict[int, Any] = {1: "green", 2: "王*明", 3: b"\x01" * 32}
    inner.update(private or {})
    return {1: "zz-health", 4: now + 600, 6: now, CLAIM_PASS: inner}


def test_bad_passes_get_their_own_code_and_change_nothing(town: Town) -> None:
    services = town.services
    person = town.person("王小明", home=ZHONGYUAN)
    good = services.passes.issue_pass(person, town.clock.now()).text
    revoked_person = town.person("revoked", home=PUDONG)
    revoked = services.passes.issue_pass(revoked_person, town.clock.now()).text
    with services.db.read() as conn:
        sh_key = next(r.key_id for r in places_repo.trust_keys(conn) if r.issuer == "sh-health")
    services.trust_lists.revoke(SH_SUPERVISOR, sh_key, reason="misuse", now=town.clock.now())
    town.clock.advance(seconds=1)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged_key = Ed25519PrivateKey.generate()
    real = cose.parse(zlib.decompress(decode_base45(good[5:], 4096)))
    forged = PASS_PREFIX + encode_base45(compress(cose.sign(real.payload, forged_key, real.kid)))
    unknown = PASS_PREFIX + encode_base45(compress(cose.sign(real.payload, forged_key, b"nobody")))
    deep: object = "x"
    for _ in range(10):
        deep = [deep]
    cases = {
        "pass.signature": forged,
        "pass.expired": ("later", good),
        "pass.unknown_key": unknown,
        "pass.key_revoked": revoked,
        "pass.prefix": "HCX1:" + good[5:],
        "pass.base45": good[: 5 + (len(good) - 5) // 3 * 3 - 2],  # truncated mid-chunk
        "pass.zlib": PASS_PREFIX + encode_base45(b"not zlib at all"),
        "pass.too_large": PASS_PREFIX + encode_base45(zlib.compress(bytes(100_000), 9)),
        "pass.cbor_depth": _signed(town, dumps(_claims(town) | {CLAIM_PASS: deep})),
        "pass.claims": _signed(town, dumps(_claims(town, {2: "王" * 70}))),
    }
    before = counts(services.db)
    for code, text in cases.items():
        at = town.clock.now()
        if isinstance(text, tuple):
            at, text = at + timedelta(hours=1), text[1]
        with pytest.raises(HealthcodeError) as caught:
            services.passes.check_pass(text, at)
        assert caught.value.code == code, (code, caught.value)
    # Characters outside the Base45 alphabet; a text cut at a chunk boundary is a cut stream.
    for text, code in (
        ("HCP1:abc", "pass.base45"),
        (good[: 5 + ((len(good) - 5) // 3 - 10) * 3], "pass.zlib"),
    ):
        with pytest.raises(HealthcodeError) as caught:
            services.passes.check_pass(text, town.clock.now())
        assert caught.value.code == code
    assert counts(services.db) == before


def test_places_and_keys_can_be_registered_up_front(town: Town) -> None:
    services = town.services
    made = services.places.ensure_registered(town.clock.now())
    assert made == {"scan_sources": 2, "venue_keys": 3}
    assert services.places.ensure_registered(town.clock.now()) == {
        "scan_sources": 0, "venue_keys": 0,
    }  # fmt: skip
    assert services.trust_lists.ensure(services.trust_lists.all_issuers(), town.clock.now()) == 3
    assert services.trust_lists.ensure(services.trust_lists.all_issuers(), town.clock.now()) == 0
    designation_free = town.person("z")
    town.designate(ERQI, RiskLevel.LOW, town.clock.now(), None, id="d-low")
    assert services.passes.issue_pass(designation_free, town.clock.now()).colour == "green"
