"""Fuzzing: whatever is mutated at whichever layer, only PassError comes out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcode.credentials import passes
from healthcode.credentials.passes import cose, transport

from .conftest import (
    ANCHOR,
    ANCHORS,
    COMMITMENT,
    FRESHNESS,
    INTERVAL,
    ISSUER_A,
    T0,
    VENUE,
    VENUE_KEY,
    VENUE_KID,
    cbor,
    trust_list,
    wrap,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # keep the work tree clean
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DURING = T0 + timedelta(minutes=1)
TRUST = trust_list()
KEYRING = passes.VenueKeyring.of(
    [passes.VenueKey.of(VENUE, VENUE_KID, VENUE_KEY.public_key(), T0, T0 + timedelta(days=1))]
)

PASS = ISSUER_A.pass_text()
CARD = passes.issue_identity_card(
    passes.IdentityClaims(ISSUER_A.region, "王*明", COMMITMENT, T0, T0 + timedelta(days=9)),
    ISSUER_A.key,
    ISSUER_A.kid,
)
PLACE = passes.place_code(VENUE, passes.window_of(DURING, INTERVAL), VENUE_KEY, VENUE_KID)
STATIC = passes.static_place_code(VENUE, VENUE_KEY, VENUE_KID)
TRUST_DOC = passes.sign_trust_list(TRUST, ANCHOR)

# A mutation is (position as a fraction of the length, operation, a byte to use).
mutations = st.lists(
    st.tuples(
        st.floats(0, 1, allow_nan=False),
        st.sampled_from(["flip", "insert", "delete", "truncate", "set"]),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=6,
)


def _mutate(data: bytes, steps: list[tuple[float, str, int]]) -> bytes:
    buf = bytearray(data)
    for where, op, value in steps:
        at = min(int(where * len(buf)), max(len(buf) - 1, 0))
        if op == "truncate":
            del buf[at:]
        elif op == "insert":
            buf.insert(at, value)
        elif not buf:
            continue
        elif op == "delete":
            del buf[at]
        elif op == "flip":
            buf[at] ^= 1 << (value % 8)
        else:
            buf[at] = value
    return bytes(buf)


def _only_pass_errors(check: Any, text: Any) -> None:
    try:
        check(text)
    except passes.PassError as error:
        # The last-resort guards must stay unused: each stage names its own failures.
        assert "unanticipated" not in error.message_en, error.__cause__


def _pass(text: Any) -> None:
    _only_pass_errors(lambda t: passes.verify_pass(t, TRUST, DURING), text)


def _card(text: Any) -> None:
    _only_pass_errors(lambda t: passes.verify_identity_card(t, TRUST, DURING), text)


def _place(text: Any) -> None:
    _only_pass_errors(
        lambda t: passes.check_place_code(t, KEYRING, DURING, INTERVAL, FRESHNESS), text
    )
    _only_pass_errors(
        lambda t: passes.check_place_code(t, TRUST, DURING, INTERVAL, FRESHNESS), text
    )


def _layers(text: str) -> tuple[bytes, bytes]:
    compressed = transport.decode_base45(text[5:], 10_000)
    return compressed, transport.decompress(compressed)


@FUZZ
@given(steps=mutations, which=st.sampled_from([PASS, CARD]))
def test_mutated_text(steps: Any, which: str) -> None:
    mutated = _mutate(which.encode("ascii"), steps).decode("latin-1")
    _pass(mutated)
    _card(mutated)


@FUZZ
@given(steps=mutations, which=st.sampled_from([PASS, CARD]))
def test_mutated_base45_bytes(steps: Any, which: str) -> None:
    compressed, _ = _layers(which)
    mutated = which[:5] + transport.encode_base45(_mutate(compressed, steps))
    _pass(mutated)
    _card(mutated)


@FUZZ
@given(steps=mutations, which=st.sampled_from([PASS, CARD]))
def test_mutated_cose_bytes(steps: Any, which: str) -> None:
    _, cose_bytes = _layers(which)
    mutated = wrap(_mutate(cose_bytes, steps), which[:5])
    _pass(mutated)
    _card(mutated)


@FUZZ
@given(steps=mutations, which=st.sampled_from([PASS, CARD]))
def test_mutated_claims_validly_signed(steps: Any, which: str) -> None:
    _, cose_bytes = _layers(which)
    payload = cbor2.loads(cose_bytes).value[2]
    mutated = ISSUER_A.signed_text(_mutate(payload, steps), which[:5])
    _pass(mutated)
    _card(mutated)


cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=80)
    | st.binary(max_size=40)
    | st.builds(cbor2.CBORTag, st.sampled_from([0, 18, 28, 258]), st.text(max_size=4)),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.integers(-70_000, 10), inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(claim=st.sampled_from([1, 4, 6, -65537, -65538, 2]), value=cbor_values)
def test_arbitrary_signed_claim_values(claim: int, value: Any) -> None:
    claims = ISSUER_A.claim_map({claim: value})
    try:
        payload = cbor2.dumps(claims, canonical=True)
    except Exception:  # hypothesis built something CBOR itself cannot encode
        return
    _pass(ISSUER_A.signed_text(payload))
    _card(ISSUER_A.signed_text(payload, "HCI1:"))


@FUZZ
@given(steps=mutations, which=st.sampled_from([PLACE, STATIC]))
def test_mutated_place_code_text(steps: Any, which: str) -> None:
    _place(_mutate(which.encode("ascii"), steps).decode("latin-1"))


@FUZZ
@given(steps=mutations, which=st.sampled_from([PLACE, STATIC]))
def test_mutated_place_code_cbor(steps: Any, which: str) -> None:
    raw = transport.decode_base45(which[5:], 10_000)
    _place("HCV1:" + transport.encode_base45(_mutate(raw, steps)))


@FUZZ
@given(values=st.lists(cbor_values, min_size=0, max_size=5))
def test_arbitrary_place_code_arrays(values: list[Any]) -> None:
    try:
        raw = cbor(values)
    except Exception:
        return
    _place("HCV1:" + transport.encode_base45(raw))


@FUZZ
@given(steps=mutations)
def test_mutated_trust_list_document(steps: Any) -> None:
    _only_pass_errors(lambda d: passes.parse_trust_list(d, ANCHORS), _mutate(TRUST_DOC, steps))


@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_at_every_layer(data: bytes) -> None:
    _pass(wrap(data))
    _pass("HCP1:" + transport.encode_base45(data))
    _place("HCV1:" + transport.encode_base45(data))
    _only_pass_errors(lambda d: passes.parse_trust_list(d, ANCHORS), data)
    _only_pass_errors(lambda d: cose.parse(d), data)
