"""Oversized input is refused before the work it would cause: bombs, deep CBOR, many items."""

from __future__ import annotations

import tracemalloc
import zlib
from datetime import timedelta

import pytest

from healthcode.credentials import passes
from healthcode.credentials.passes import cborscan, transport
from healthcode.credentials.passes.claims import CLAIM_PASS

from .conftest import ISSUER_A, T0, cbor, wrap

DURING = T0 + timedelta(minutes=1)


def _zeros_compressed(megabytes: int) -> bytes:
    squeezer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    return b"".join(squeezer.compress(chunk) for _ in range(megabytes)) + squeezer.flush()


def test_zlib_bomb_is_refused_without_allocating_it() -> None:
    bomb = _zeros_compressed(100)  # 100 MB of zeros in ~100 KB
    tracemalloc.start()
    try:
        with pytest.raises(passes.TooLargeError) as caught:
            transport.decompress(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "pass.too_large"
    assert peak < 1 << 20


def test_zlib_bomb_inside_a_pass_text(trust: passes.TrustList) -> None:
    bomb = zlib.compress(bytes(100_000), 9)
    text = "HCP1:" + transport.encode_base45(bomb)
    assert len(text) <= passes.DEFAULT_LIMITS.max_text_chars
    with pytest.raises(passes.TooLargeError, match="decompressed"):
        passes.verify_pass(text, trust, DURING)


def test_base45_output_is_bounded_before_decoding() -> None:
    with pytest.raises(passes.TooLargeError):
        transport.decode_base45("000" * 400, 700)


def test_cbor_nested_past_the_limit_before_the_signature(trust: passes.TrustList) -> None:
    deep = b"\x81" * 500 + b"\x00"
    with pytest.raises(passes.CborDepthError) as caught:
        passes.verify_pass(wrap(deep), trust, DURING)
    assert caught.value.code == "pass.cbor_depth"


def test_cbor_nested_past_the_limit_inside_signed_claims(trust: passes.TrustList) -> None:
    nested: object = "x"
    for _ in range(10):
        nested = [nested]
    text = ISSUER_A.signed_text(cbor(ISSUER_A.claim_map({CLAIM_PASS: nested})))
    with pytest.raises(passes.CborDepthError):
        passes.verify_pass(text, trust, DURING)


def test_deep_tags_count_as_nesting() -> None:
    with pytest.raises(passes.CborDepthError):
        cborscan.prescan(
            b"\xd2" * 50 + b"\x00", max_depth=6, max_items=100, allowed_tags=frozenset({18})
        )


def test_too_many_items(trust: passes.TrustList) -> None:
    many = b"\x98\x64" + b"\x00" * 100  # an array of 100 zeros
    with pytest.raises(passes.TooLargeError) as caught:
        passes.verify_pass(wrap(many), trust, DURING)
    assert caught.value.code == "pass.too_large"


def test_huge_declared_lengths_are_refused_without_reading() -> None:
    for head in (b"\x9b" + b"\xff" * 8, b"\x5b" + b"\xff" * 8, b"\xbb" + b"\x7f" * 8):
        with pytest.raises(passes.PassError):
            cborscan.prescan(head, max_depth=6, max_items=48)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x9f\x00\xff", "indefinite"),
        (b"\x5f\x41\x00\xff", "indefinite"),
        (b"\x18\x01", "shortest"),  # 1 encoded in two bytes
        (b"\x19\x00\xff", "shortest"),
        (b"\xf9\x00\x00", "float"),
        (b"\xf7", "simple"),  # undefined
        (b"\xf8\x20", "simple"),
        (b"\x1c", "reserved"),
        (b"\xc1\x00", "tag"),  # epoch date tag
        (b"\xd8\x1c\x00", "tag"),  # shared reference (RFC 8949 registry, tag 28)
        (b"\x00\x00", "trailing"),
        (b"\x82\x00", "ends"),
        (b"\x43ab", "past the end"),
        (b"", "ends"),
    ],
)
def test_prescan_refuses(data: bytes, why: str) -> None:
    with pytest.raises(passes.CborError, match=why):
        cborscan.prescan(data, max_depth=6, max_items=48)


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("a2020101 01"),  # keys out of order
        bytes.fromhex("a2010101 02"),  # duplicate key 1
        bytes.fromhex("62c328"),  # invalid UTF-8
    ],
)
def test_not_deterministic_or_not_well_formed(data: bytes) -> None:
    with pytest.raises(passes.CborError):
        cborscan.loads_bounded(data)


def test_prescan_accepts_what_the_format_uses() -> None:
    value = {1: "cn", 4: 1_780_000_000, -65537: {1: "green", 3: b"\0" * 32}, 7: [True, None]}
    data = cbor(value)
    assert cborscan.loads_bounded(data) == value
