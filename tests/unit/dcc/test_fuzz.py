"""Fuzzing: whatever is mutated at whichever stage, the verifier raises only HcertError."""

from __future__ import annotations

import zlib
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcode.credentials import hcert

from .conftest import DURING, VACCINATION_PAYLOAD, Issuer

FUZZ = settings(
    max_examples=100,
    deadline=None,  # signature checks vary in speed; only the outcome matters here
    database=None,  # keep the work tree clean
    suppress_health_check=[HealthCheck.too_slow],
)

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


def _check(text: str, issuer: Issuer, loader: hcert.SchemaLoader) -> None:
    try:
        hcert.verify(text, issuer.trust_list(), DURING, loader)
    except hcert.HcertError as error:
        # The last-resort guard must stay unused: each stage should name its own failures.
        assert not error.message_en.startswith("unanticipated"), error.__cause__
    report = hcert.verify_report(text, issuer.trust_list(), DURING, loader)
    assert [stage.name for stage in report] == list(hcert.STAGES)


def _encode(cose: bytes) -> str:
    return "HC1:" + hcert.encode_base45(zlib.compress(cose))


@FUZZ
@given(steps=mutations)
def test_mutated_text(issuer: Issuer, schema_loader: hcert.SchemaLoader, steps: Any) -> None:
    text = issuer.text().encode("ascii")
    _check(_mutate(text, steps).decode("latin-1"), issuer, schema_loader)


@FUZZ
@given(steps=mutations)
def test_mutated_compressed_bytes(
    issuer: Issuer, schema_loader: hcert.SchemaLoader, steps: Any
) -> None:
    compressed = zlib.compress(issuer.cose())
    _check("HC1:" + hcert.encode_base45(_mutate(compressed, steps)), issuer, schema_loader)


RSA_ISSUER = Issuer(rsa_key=True)


@FUZZ
@given(steps=mutations, use_rsa=st.booleans())
def test_mutated_cose_bytes(
    issuer: Issuer, schema_loader: hcert.SchemaLoader, steps: Any, use_rsa: bool
) -> None:
    signer = RSA_ISSUER if use_rsa else issuer
    _check(_encode(_mutate(signer.cose(), steps)), signer, schema_loader)


@FUZZ
@given(steps=mutations)
def test_mutated_claims_validly_signed(
    issuer: Issuer, schema_loader: hcert.SchemaLoader, steps: Any
) -> None:
    # Re-signing after the mutation drives the garbage past the signature into the payload.
    _check(_encode(issuer.cose(_mutate(issuer.claims(), steps))), issuer, schema_loader)


cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=12)
    | st.sampled_from([cbor2.CBORTag(0, "2021-13-01T00:00:00Z"), cbor2.CBORTag(1004, "x")]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.integers(-300, 10), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(
    group=st.dictionaries(st.sampled_from(["v", "t", "r", "ver", "nam", "dob"]), cbor_values),
    claim=st.sampled_from([1, 4, 6, -260]),
    value=cbor_values,
)
def test_arbitrary_signed_claims(
    issuer: Issuer,
    schema_loader: hcert.SchemaLoader,
    group: dict[str, Any],
    claim: int,
    value: Any,
) -> None:
    overrides: dict[int, Any] = {-260: {1: {**VACCINATION_PAYLOAD, **group}}}
    overrides[claim] = value if claim != -260 else {1: value}
    try:
        encoded = issuer.claims(overrides)
    except Exception:  # hypothesis built something CBOR itself cannot encode
        return
    _check(_encode(issuer.cose(encoded)), issuer, schema_loader)
