"""The verifier's fast paths give exactly what the full checks give, and defer the rest.

Base45 is decoded without a per-chunk loop, deterministic CBOR without pre-scan and
re-encoding when it is plainly valid, COSE_Sign1 and the claims by their exact shape, and the
Sig_structure is built by hand. Each is compared here with the reference it replaces.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import base45
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycose.messages.sign1message import Sign1Message

from healthcode.credentials import passes
from healthcode.credentials.passes import cborscan, cose, transport
from healthcode.credentials.passes.claims import CLAIM_IDENTITY, CLAIM_PASS, _exact_claims
from healthcode.credentials.passes.limits import DEFAULT_LIMITS, Limits

from .conftest import ISSUER_A, T0, VENUE, VENUE_KEY, VENUE_KID

QUICK = settings(max_examples=300, deadline=None, database=None)


@QUICK
@given(st.binary(max_size=400))
def test_base45_decodes_as_the_reference_library(data: bytes) -> None:
    text = base45.b45encode(data).decode()
    assert transport.decode_base45(text, 1000) == data


@QUICK
@given(st.text(alphabet=transport.BASE45_ALPHABET + "abc~", max_size=60))
def test_base45_refuses_what_the_reference_refuses(text: str) -> None:
    try:
        expected: bytes | None = base45.b45decode(text)
        if any(c not in transport.BASE45_ALPHABET for c in text):
            expected = None  # the library is lenient about some characters; RFC 9285 is not
    except Exception:
        expected = None
    try:
        ours: bytes | None = transport.decode_base45(text, 1000)
    except passes.Base45Error:
        ours = None
    assert ours == expected


def test_base45_chunks_over_65535_and_pairs_over_255_are_refused() -> None:
    for text in ("GGW", "::", "000:::"):  # 65536 + ..., 44 + 45*44 > 255
        with pytest.raises(passes.Base45Error):
            transport.decode_base45(text, 100)


def _slow(data: bytes, limits: Limits = DEFAULT_LIMITS, tags: frozenset[int] = frozenset()) -> Any:
    return cborscan._loads_checked(data, limits, tags)


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.integers(-300, 300) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@QUICK
@given(values, st.sampled_from(["deterministic", "insertion order", "mutated"]), st.integers(0, 99))
def test_fast_cbor_agrees_with_the_full_checks(value: Any, how: str, spot: int) -> None:
    data = cbor2.dumps(value, canonical=how == "deterministic")
    if how == "mutated" and data:
        index = spot % len(data)
        data = data[:index] + bytes([data[index] ^ 0x5A]) + data[index + 1 :]
    fast = cborscan._fast_loads(data, DEFAULT_LIMITS, frozenset())
    try:
        slow = _slow(data)
    except passes.PassError:
        assert fast is cborscan._DEFER  # the fast path never accepts what the checks refuse
        return
    assert fast is cborscan._DEFER or fast == slow


def test_fast_cbor_defers_unsorted_and_duplicate_keys() -> None:
    unsorted = b"\xa2\x02\x00\x01\x00"  # {2: 0, 1: 0}
    duplicate = b"\xa2\x01\x00\x01\x00"
    for data in (unsorted, duplicate):
        assert cborscan._fast_loads(data, DEFAULT_LIMITS, frozenset()) is cborscan._DEFER
        with pytest.raises(passes.CborError):
            cborscan.loads_bounded(data)


def test_sig_structure_is_pycoses() -> None:
    protected = cborscan.dumps({1: -8, 4: b"kid"})
    for payload in (b"", b"x" * 23, b"y" * 24, b"z" * 300):
        message = Sign1Message(phdr_encoded=protected, payload=payload)
        assert cose.sig_structure(protected, payload) == message._create_sig_structure()


def test_the_exact_shapes_read_what_the_generic_decoder_reads() -> None:
    text = ISSUER_A.pass_text()
    encoded = transport.decompress(transport.decode_base45(text[5:], 700))
    message = cose._exact(encoded, DEFAULT_LIMITS)
    assert message is not None
    outer = cborscan._loads_checked(encoded, DEFAULT_LIMITS, frozenset({18}))
    assert [message.protected_bytes, {}, message.payload, message.signature] == outer.value
    claims = _exact_claims(message.payload, CLAIM_PASS, DEFAULT_LIMITS)
    assert claims == cborscan._loads_checked(message.payload, DEFAULT_LIMITS, frozenset())
    assert _exact_claims(message.payload, CLAIM_IDENTITY, DEFAULT_LIMITS) is None
    # Tight limits send everything through the full checks.
    tight = Limits(max_cbor_depth=2)
    assert cose._exact(encoded, tight) is None
    key = ISSUER_A.trusted()
    trust = passes.TrustList(1, key.not_before, (key,))
    with pytest.raises(passes.CborDepthError):
        passes.verify_pass(text, trust, T0 + timedelta(minutes=1), limits=tight)
    assert passes.verify_pass(text, trust, T0 + timedelta(minutes=1)).colour == "green"


def test_peek_reads_a_place_code_without_checking_it() -> None:
    code = passes.place_code(VENUE, 7, VENUE_KEY, VENUE_KID)
    assert passes.peek_place_code(code) == (VENUE, 7, VENUE_KID)
    with pytest.raises(passes.PlaceMalformedError):
        passes.peek_place_code("HCV1:?")


@QUICK
@given(
    st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
    st.none() | st.integers(0, 2**40),
    st.binary(min_size=1, max_size=32),
)
def test_place_code_signed_bytes_are_the_encoded_fields(
    venue: str, window: int | None, kid: bytes
) -> None:
    from healthcode.credentials.passes import place

    code = place._encode(venue, window, VENUE_KEY, kid)
    *_fields, raw = place._decode_raw(code, DEFAULT_LIMITS)
    assert place._signed_bytes_of(raw) == place._signed_bytes(venue, window, kid)
    assert place._exact(raw, DEFAULT_LIMITS) == _slow(raw) == [venue, window, kid, raw[-64:]]
