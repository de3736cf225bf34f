"""Status passes: round trip, minimal disclosure, and one specific code for each bad input."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

import cbor2
import pytest

from healthcode.credentials import passes
from healthcode.credentials.passes.claims import CLAIM_PASS
from healthcode.credentials.passes.cose import ALG_EDDSA

from .conftest import (
    COMMITMENT,
    ISSUER_A,
    ISSUER_B,
    LIFETIME,
    REGION_B,
    T0,
    cbor,
    key_from,
    wrap,
)

DURING = T0 + timedelta(minutes=1)


def _code(text: str | None, trust: passes.TrustList, at: datetime = DURING) -> str:
    with pytest.raises(passes.PassError) as caught:
        passes.verify_pass(text, trust, at)  # type: ignore[arg-type]
    assert caught.value.message_en and caught.value.message_zh
    return caught.value.code


def test_round_trip(trust: passes.TrustList) -> None:
    text = ISSUER_A.pass_text(colour=passes.Colour.RED)
    assert text.startswith("HCP1:")
    verified = passes.verify_pass(text, trust, DURING)
    assert verified == passes.VerifiedPass(
        colour=passes.Colour.RED,
        valid_until=T0 + LIFETIME,
        masked_name="王*明",
        issuer=ISSUER_A.region,
        key_id=ISSUER_A.kid,
    )


def test_issuing_is_deterministic() -> None:
    assert ISSUER_A.pass_text() == ISSUER_A.pass_text()


def test_a_venue_learns_colour_validity_masked_name_and_who_vouches_nothing_else() -> None:
    fields = {field.name for field in dataclasses.fields(passes.VerifiedPass)}
    assert fields == {"colour", "valid_until", "masked_name", "issuer", "key_id"}


def test_claims_carry_nothing_else(trust: passes.TrustList) -> None:
    text = ISSUER_A.pass_text()
    body = passes.transport.decompress(passes.transport.decode_base45(text[5:], 10_000))
    payload = cbor2.loads(cbor2.loads(body).value[2])
    assert set(payload) == {1, 4, 6, CLAIM_PASS}
    assert set(payload[CLAIM_PASS]) == {1, 2, 3}


def test_pass_never_outlives_the_status() -> None:
    claims = ISSUER_A.claims(status_valid_until=T0 + timedelta(minutes=3))
    assert claims.valid_until == T0 + timedelta(minutes=3)


def test_a_typical_pass_fits_a_small_qr_code() -> None:
    assert len(ISSUER_A.pass_text()) < 300


def test_forged_signature(trust: passes.TrustList) -> None:
    forger = dataclasses.replace(ISSUER_A, key=key_from("forger"))
    forged = passes.issue_pass(ISSUER_A.claims(colour=passes.Colour.RED), forger.key, ISSUER_A.kid)
    assert _code(forged, trust) == "pass.signature"


def test_flipped_signature_byte(trust: passes.TrustList) -> None:
    raw = bytearray(passes.cose.sign(cbor(ISSUER_A.claim_map()), ISSUER_A.key, ISSUER_A.kid))
    raw[-1] ^= 1
    assert _code(wrap(bytes(raw)), trust) == "pass.signature"


def test_expired(trust: passes.TrustList) -> None:
    text = ISSUER_A.pass_text()
    passes.verify_pass(text, trust, T0 + LIFETIME - timedelta(seconds=1))
    assert _code(text, trust, T0 + LIFETIME) == "pass.expired"


def test_issued_in_the_future(trust: passes.TrustList) -> None:
    text = ISSUER_A.pass_text()
    passes.verify_pass(text, trust, T0 - timedelta(minutes=4))  # within the clock skew
    assert _code(text, trust, T0 - timedelta(minutes=6)) == "pass.not_yet_valid"


def test_unknown_key_id(trust: passes.TrustList) -> None:
    stranger = passes.issue_pass(ISSUER_A.claims(), key_from("stranger"), b"stranger")
    assert _code(stranger, trust) == "pass.unknown_key"


def test_key_usage(trust: passes.TrustList) -> None:
    only_places = passes.TrustList(1, T0, (ISSUER_A.trusted(passes.KeyUsage.PLACE_CODE),))
    assert _code(ISSUER_A.pass_text(), only_places) == "pass.key_usage"


def test_key_outside_its_validity(trust: passes.TrustList) -> None:
    short = passes.TrustList(1, T0, (ISSUER_A.trusted(days=0),))
    text = ISSUER_A.pass_text(issued_at=T0 - timedelta(minutes=1))
    assert _code(text, short, T0) == "pass.key_expired"


def test_issued_before_the_key_was_valid(trust: passes.TrustList) -> None:
    text = ISSUER_A.pass_text(issued_at=T0 - timedelta(days=31), lifetime=timedelta(days=1))
    assert _code(text, trust, T0 - timedelta(days=30, hours=-1)) == "pass.key_expired"


def test_revoked_key_shows_the_reason() -> None:
    revoked = passes.Revocation(ISSUER_A.kid, T0, passes.RevocationReason.KEY_COMPROMISE)
    trust = passes.TrustList(1, T0, (ISSUER_A.trusted(),), (revoked,))
    with pytest.raises(passes.KeyRevokedError) as caught:
        passes.verify_pass(ISSUER_A.pass_text(), trust, DURING)
    error = caught.value
    assert error.code == "pass.key_revoked"
    assert error.reason == "key-compromise" and error.revoked_at == T0
    assert "compromised" in error.message_en and "泄露" in error.message_zh


def test_issuer_claim_must_be_the_keys_authority(trust: passes.TrustList) -> None:
    text = passes.issue_pass(ISSUER_A.claims(issuer=REGION_B), ISSUER_A.key, ISSUER_A.kid)
    assert _code(text, trust) == "pass.issuer"


@pytest.mark.parametrize(
    "text",
    [
        "HC1:" + ISSUER_A.pass_text()[5:],
        "hcp1:" + ISSUER_A.pass_text()[5:],
        "",
        None,
    ],
)
def test_wrong_prefix(trust: passes.TrustList, text: str | None) -> None:
    assert _code(text, trust) == "pass.prefix"


def test_identity_card_is_not_a_pass(trust: passes.TrustList) -> None:
    card = passes.issue_identity_card(
        passes.IdentityClaims(ISSUER_A.region, "王*明", COMMITMENT, T0, T0 + timedelta(days=9)),
        ISSUER_A.key,
        ISSUER_A.kid,
    )
    assert _code(card, trust) == "pass.prefix"
    # Even with the prefix swapped, the claim sets differ.
    assert _code("HCP1:" + card[5:], trust) == "pass.claims"


def test_trailing_line_break_is_tolerated(trust: passes.TrustList) -> None:
    passes.verify_pass(ISSUER_A.pass_text() + "\r\n", trust, DURING)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[: 5 + (len(t) - 5) // 3 * 3 - 2],  # leaves a lone character
        lambda t: t[:10] + "a" + t[11:],  # lowercase is not Base45
        lambda t: "HCP1:" + ":::" + t[5:],  # 3 x 44 exceeds 65535
        lambda t: t[:10] + "#" + t[11:],
    ],
)
def test_invalid_base45(trust: passes.TrustList, mangle: Callable[[str], str]) -> None:
    text = ISSUER_A.pass_text()
    assert len(text[5:]) % 3 != 1
    assert _code(mangle(text), trust) == "pass.base45"


def test_truncated_zlib(trust: passes.TrustList) -> None:
    compressed = passes.transport.decode_base45(ISSUER_A.pass_text()[5:], 10_000)
    assert _code("HCP1:" + passes.transport.encode_base45(compressed[:-20]), trust) == "pass.zlib"


def test_uncompressed_is_refused(trust: passes.TrustList) -> None:
    raw = passes.cose.sign(cbor(ISSUER_A.claim_map()), ISSUER_A.key, ISSUER_A.kid)
    text = "HCP1:" + passes.transport.encode_base45(raw)
    assert _code(text, trust) == "pass.zlib"


def test_trailing_bytes_after_zlib(trust: passes.TrustList) -> None:
    raw = passes.cose.sign(cbor(ISSUER_A.claim_map()), ISSUER_A.key, ISSUER_A.kid)
    text = "HCP1:" + passes.transport.encode_base45(passes.transport.compress(raw) + b"\0")
    assert _code(text, trust) == "pass.zlib"


def test_text_too_long(trust: passes.TrustList) -> None:
    assert _code("HCP1:" + "0" * 2000, trust) == "pass.too_large"


def test_oversized_claims(trust: passes.TrustList) -> None:
    long_name = "王" + "*" * 98 + "明"
    text = ISSUER_A.signed_text(
        cbor(ISSUER_A.claim_map({CLAIM_PASS: {1: "green", 2: long_name, 3: COMMITMENT}}))
    )
    assert _code(text, trust) == "pass.claims"
    text = ISSUER_A.signed_text(cbor(ISSUER_A.claim_map({1: "x" * 65})))
    assert _code(text, trust) == "pass.claims"
    with pytest.raises(passes.ClaimsError):
        ISSUER_A.pass_text(masked_name=long_name)


@pytest.mark.parametrize(
    "changes",
    [
        {2: "subject"},  # sub: an unknown claim
        {-260: {1: {}}},  # an HCERT payload smuggled in
        {CLAIM_PASS: {1: "green", 2: "王*明", 3: COMMITMENT, 4: "full name"}},
        {CLAIM_PASS: {1: "green", 2: "王*明"}},
        {CLAIM_PASS: {1: "purple", 2: "王*明", 3: COMMITMENT}},
        {CLAIM_PASS: {1: "green", 2: "王小明", 3: COMMITMENT}},  # not masked
        {CLAIM_PASS: {1: "green", 2: "王*明", 3: COMMITMENT[:31]}},
        {CLAIM_PASS: ["green", "王*明", COMMITMENT]},
        {4: int((T0 + timedelta(days=2)).timestamp())},  # longer than the policy allows
        {4: int(T0.timestamp())},  # valid-until not after issued-at
        {6: -1},
        {6: True},
    ],
)
def test_claims_refused(trust: passes.TrustList, changes: dict[int, object]) -> None:
    assert _code(ISSUER_A.signed_text(cbor(ISSUER_A.claim_map(changes))), trust) == "pass.claims"


def test_missing_claim(trust: passes.TrustList) -> None:
    claims = ISSUER_A.claim_map()
    del claims[6]
    assert _code(ISSUER_A.signed_text(cbor(claims)), trust) == "pass.claims"


def test_issuing_refuses_unmasked_names() -> None:
    with pytest.raises(passes.ClaimsError):
        ISSUER_A.pass_text(masked_name="王小明")


@pytest.mark.parametrize(
    "message",
    [
        [cbor({1: ALG_EDDSA, 4: ISSUER_A.kid}), {}, b"", b"\0" * 64],  # untagged
        cbor2.CBORTag(17, [cbor({1: ALG_EDDSA, 4: ISSUER_A.kid}), {}, b"", b"\0" * 64]),
        cbor2.CBORTag(18, [cbor({1: -7, 4: ISSUER_A.kid}), {}, b"", b"\0" * 64]),  # ES256
        cbor2.CBORTag(18, [cbor({1: ALG_EDDSA}), {4: ISSUER_A.kid}, b"", b"\0" * 64]),
        cbor2.CBORTag(18, [cbor({1: ALG_EDDSA, 4: ISSUER_A.kid}), {5: b"x"}, b"", b"\0" * 64]),
        cbor2.CBORTag(18, [cbor({1: ALG_EDDSA, 4: ISSUER_A.kid}), {}, None, b"\0" * 64]),
        cbor2.CBORTag(18, [cbor({1: ALG_EDDSA, 4: ISSUER_A.kid}), {}, b"", b"\0" * 63]),
        cbor2.CBORTag(18, [cbor({1: ALG_EDDSA, 4: b""}), {}, b"", b"\0" * 64]),
        cbor2.CBORTag(18, [b"", {}, b"", b"\0" * 64]),
    ],
)
def test_cose_shape(trust: passes.TrustList, message: object) -> None:
    code = _code(wrap(cbor2.dumps(message, canonical=True)), trust)
    assert code in {"pass.cose", "pass.cbor"}
    if isinstance(message, cbor2.CBORTag) and message.tag == 18:
        assert code == "pass.cose"


def test_kid_of_region_b_verifies_for_b(trust: passes.TrustList) -> None:
    verified = passes.verify_pass(ISSUER_B.pass_text(colour=passes.Colour.YELLOW), trust, DURING)
    assert verified.issuer == REGION_B and verified.colour is passes.Colour.YELLOW


def test_naive_instant_is_a_caller_bug(trust: passes.TrustList) -> None:
    with pytest.raises(ValueError):
        passes.verify_pass(ISSUER_A.pass_text(), trust, DURING.replace(tzinfo=None))
