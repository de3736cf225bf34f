"""The trust list document, and passes crossing regions before and after a revocation."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from healthcode.credentials import passes
from healthcode.credentials.passes.trustdoc import _b64

from .conftest import ANCHOR, ANCHORS, ISSUER_A, ISSUER_B, T0, key_from, trust_list

DURING = T0 + timedelta(minutes=1)


def _signed(body: Any, key: Ed25519PrivateKey = ANCHOR) -> bytes:
    """Any JSON value as the trust_list member, validly signed by the anchor."""
    return json.dumps(
        {
            "signer": _b64(passes.key_id_for(key.public_key())),
            "signature": _b64(key.sign(rfc8785.dumps(body))),
            "trust_list": body,
        }
    ).encode()


def _code(document: bytes | str, min_version: int = 0) -> str:
    with pytest.raises(passes.PassError) as caught:
        passes.parse_trust_list(document, ANCHORS, min_version=min_version)
    return caught.value.code


def test_round_trip_and_deterministic() -> None:
    revoked = passes.Revocation(b"old-key", T0, passes.RevocationReason.SUPERSEDED)
    original = trust_list(revoked, version=3)
    document = passes.sign_trust_list(original, ANCHOR)
    assert document == passes.sign_trust_list(original, ANCHOR)
    assert passes.parse_trust_list(document, ANCHORS) == original
    assert passes.parse_trust_list(document.decode(), ANCHORS, min_version=3) == original


def test_tampered_list_fails_the_signature() -> None:
    document = json.loads(passes.sign_trust_list(trust_list(), ANCHOR))
    document["trust_list"]["keys"][1]["usages"].append("identity-card")
    document["trust_list"]["keys"][1]["usages"].sort()
    assert _code(json.dumps(document)) == "trust.signature"


def test_unknown_anchor() -> None:
    assert (
        _code(passes.sign_trust_list(trust_list(), key_from("someone else"))) == "trust.signature"
    )


def test_anchor_id_with_a_different_key() -> None:
    document = passes.sign_trust_list(
        trust_list(), key_from("someone else"), passes.key_id_for(ANCHOR.public_key())
    )
    assert _code(document) == "trust.signature"


def test_rollback_is_refused() -> None:
    document = passes.sign_trust_list(trust_list(version=4), ANCHOR)
    assert _code(document, min_version=5) == "trust.rollback"


def _body(**changes: Any) -> dict[str, Any]:
    body = passes.trust_list_json(trust_list())
    body.update(changes)
    return body


def _key(**changes: Any) -> dict[str, Any]:
    key: dict[str, Any] = passes.trust_list_json(trust_list())["keys"][0]
    key.update(changes)
    return key


@pytest.mark.parametrize(
    "body",
    [
        _body(type="something-else"),
        _body(version=-1),
        _body(version=True),
        _body(issued_at="2026-06-01 08:00:00"),
        _body(issued_at="2026-02-30T00:00:00Z"),
        _body(extra=1),
        _body(keys=[_key(usages=["pass", "sign-anything"])]),
        _body(keys=[_key(usages=["pass", "pass"])]),
        _body(keys=[_key(usages=[])]),
        _body(keys=[_key(public_key="AAAA")]),
        _body(keys=[_key(key_id="")]),
        _body(keys=[_key(key_id="a+b/")]),
        _body(keys=[_key(issuer="has space")]),
        _body(keys=[_key(not_after="2020-01-01T00:00:00Z")]),
        _body(keys=[_key(), _key()]),
        _body(keys=[{k: v for k, v in _key().items() if k != "issuer"}]),
        _body(
            revocations=[
                {"key_id": "AQ", "revoked_at": "2026-06-01T00:00:00Z", "reason": "because"}
            ]
        ),
        _body(keys={}),
        [],
        "a list",
    ],
)
def test_invalid_content_validly_signed(body: Any) -> None:
    assert _code(_signed(body)) == "trust.invalid"


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"signer": "AA", "signer": "AA", "signature": "", "trust_list": {}}',
        b'{"signer": "AA", "signature": "", "trust_list": {"version": 1.5}}',
        b'{"signer": "AA", "signature": "", "trust_list": NaN}',
        b'{"signer": "A", "signature": "", "trust_list": {}}',
        b'{"signer": "AB", "signature": "", "trust_list": {}}',  # non-canonical base64url
        b" " * (5 * 1024 * 1024),
    ],
)
def test_invalid_documents(document: bytes) -> None:
    assert _code(document) == "trust.invalid"


def test_integer_outside_i_json_is_refused() -> None:
    document = {
        "signer": _b64(passes.key_id_for(ANCHOR.public_key())),
        "signature": _b64(bytes(64)),
        "trust_list": _body(version=2**60),
    }
    assert _code(json.dumps(document)) == "trust.invalid"


def test_a_pass_from_region_a_verifies_at_a_venue_in_region_b_until_a_is_revoked() -> None:
    # The venue in region B caches a list holding both regions' keys.
    cached = passes.parse_trust_list(passes.sign_trust_list(trust_list(version=1), ANCHOR), ANCHORS)
    assert cached.issuers() == {ISSUER_A.region, ISSUER_B.region}
    from_a = ISSUER_A.pass_text(colour=passes.Colour.GREEN)
    assert passes.verify_pass(from_a, cached, DURING).issuer == ISSUER_A.region

    revocation = passes.Revocation(ISSUER_A.kid, T0, passes.RevocationReason.MISUSE)
    update = passes.sign_trust_list(trust_list(revocation, version=2), ANCHOR)
    cached = passes.parse_trust_list(update, ANCHORS, min_version=cached.version)
    with pytest.raises(passes.KeyRevokedError) as caught:
        passes.verify_pass(from_a, cached, DURING)
    assert caught.value.code == "pass.key_revoked"
    assert caught.value.reason == "misuse"
    assert "outside the published rules" in caught.value.message_en
    assert "已公布规则之外" in caught.value.message_zh
    # Region B's passes are unaffected, and the old list cannot be replayed.
    passes.verify_pass(ISSUER_B.pass_text(), cached, DURING)
    old = passes.sign_trust_list(trust_list(version=1), ANCHOR)
    assert _code(old, min_version=cached.version) == "trust.rollback"


def test_revocation_applies_from_its_instant() -> None:
    later = passes.Revocation(
        ISSUER_A.kid, T0 + timedelta(hours=1), passes.RevocationReason.SUPERSEDED
    )
    trust = trust_list(later)
    passes.verify_pass(ISSUER_A.pass_text(), trust, DURING)
    text = ISSUER_A.pass_text(issued_at=T0 + timedelta(hours=1))
    with pytest.raises(passes.KeyRevokedError):
        passes.verify_pass(text, trust, T0 + timedelta(hours=1, minutes=1))


def test_duplicate_key_ids_are_refused_when_building() -> None:
    with pytest.raises(passes.TrustListInvalidError):
        passes.TrustList(1, T0, (ISSUER_A.trusted(), ISSUER_A.trusted()))
