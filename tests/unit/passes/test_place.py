"""Place codes: only a fresh rotating code proves presence; stale, replayed, static do not."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from healthcode.credentials import passes
from healthcode.credentials.passes import transport

from .conftest import (
    FRESHNESS,
    INTERVAL,
    ISSUER_A,
    ISSUER_B,
    T0,
    VENUE,
    VENUE_KEY,
    VENUE_KID,
    cbor,
    key_from,
    trust_list,
)

NOW = T0 + timedelta(seconds=4)
WINDOW = passes.window_of(NOW, INTERVAL)


def _check(
    text: str, keys: passes.TrustList | passes.VenueKeyring, at: datetime = NOW
) -> passes.PlaceCodeCheck:
    return passes.check_place_code(text, keys, at, INTERVAL, FRESHNESS)


def _code(text: str, keys: passes.TrustList | passes.VenueKeyring, at: datetime = NOW) -> str:
    with pytest.raises(passes.PassError) as caught:
        _check(text, keys, at)
    return caught.value.code


def test_current_window_is_fresh(keyring: passes.VenueKeyring) -> None:
    text = passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID)
    assert text.startswith("HCV1:") and len(text) < 200
    result = _check(text, keyring)
    assert result == passes.PlaceCodeCheck(VENUE, WINDOW, True, VENUE_KID, None)
    assert not result.static


def test_windows() -> None:
    start = passes.window_start(WINDOW, INTERVAL)
    assert start <= NOW < start + INTERVAL
    assert passes.window_of(start + INTERVAL, INTERVAL) == WINDOW + 1


def test_previous_window_is_fresh_only_within_the_tolerance(keyring: passes.VenueKeyring) -> None:
    text = passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID)
    end = passes.window_start(WINDOW + 1, INTERVAL)
    assert _check(text, keyring, end + FRESHNESS - timedelta(microseconds=1)).fresh
    assert not _check(text, keyring, end + FRESHNESS).fresh


def test_replayed_or_forwarded_code_is_stale(keyring: passes.VenueKeyring) -> None:
    # A screenshot sent to someone who scans it a minute later: valid, but no presence.
    text = passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID)
    result = _check(text, keyring, NOW + timedelta(minutes=1))
    assert result.venue_id == VENUE and result.fresh is False
    assert (
        _check(passes.place_code(VENUE, WINDOW - 100, VENUE_KEY, VENUE_KID), keyring).fresh is False
    )


def test_code_from_a_future_window_is_not_fresh(keyring: passes.VenueKeyring) -> None:
    assert not _check(passes.place_code(VENUE, WINDOW + 5, VENUE_KEY, VENUE_KID), keyring).fresh
    far = passes.place_code(VENUE, passes.place.MAX_WINDOW, VENUE_KEY, VENUE_KID)
    assert not _check(far, keyring).fresh


def test_static_code_is_never_fresh(keyring: passes.VenueKeyring) -> None:
    text = passes.static_place_code(VENUE, VENUE_KEY, VENUE_KID)
    result = _check(text, keyring)
    assert result.static and result.window is None and result.fresh is False


def test_static_signature_cannot_be_turned_into_a_rotating_code(
    keyring: passes.VenueKeyring,
) -> None:
    static = passes.static_place_code(VENUE, VENUE_KEY, VENUE_KID)
    venue_id, _, kid, signature = passes.cborscan.loads_bounded(
        transport.decode_base45(static[5:], 999)
    )
    forged = "HCV1:" + transport.encode_base45(cbor([venue_id, WINDOW, kid, signature]))
    assert _code(forged, keyring) == "place.signature"


def test_unknown_venue(keyring: passes.VenueKeyring) -> None:
    other = key_from("unregistered venue")
    text = passes.place_code("V-999", WINDOW, other, passes.key_id_for(other.public_key()))
    assert _code(text, keyring) == "place.unknown_venue"
    # A registered key naming an unregistered venue is no better.
    assert (
        _code(passes.place_code("V-999", WINDOW, VENUE_KEY, VENUE_KID), keyring)
        == "place.unknown_venue"
    )


def test_a_venue_key_cannot_sign_for_another_venue() -> None:
    ring = passes.VenueKeyring.of(
        [
            passes.VenueKey.of(
                VENUE, VENUE_KID, VENUE_KEY.public_key(), T0, T0 + timedelta(days=1)
            ),
            passes.VenueKey.of(
                "V-2", b"v2", key_from("v2").public_key(), T0, T0 + timedelta(days=1)
            ),
        ]
    )
    assert _code(passes.place_code("V-2", WINDOW, VENUE_KEY, VENUE_KID), ring) == "place.signature"


def test_bad_signature(keyring: passes.VenueKeyring) -> None:
    forged = passes.place_code(VENUE, WINDOW, key_from("forger"), VENUE_KID)
    assert _code(forged, keyring) == "place.signature"


def test_venue_key_outside_its_validity(keyring: passes.VenueKeyring) -> None:
    text = passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID)
    assert _code(text, keyring, T0 + timedelta(days=2)) == "place.key"


@pytest.mark.parametrize(
    "text",
    [
        "HCP1:" + passes.place_code(VENUE, 1, VENUE_KEY, VENUE_KID)[5:],
        "HCV1:abc",
        "HCV1:" + "0" * 500,
        "HCV1:" + transport.encode_base45(b"\xff"),
        "HCV1:" + transport.encode_base45(cbor([VENUE, 1, VENUE_KID])),
        "HCV1:" + transport.encode_base45(cbor([VENUE, -1, VENUE_KID, bytes(64)])),
        "HCV1:" + transport.encode_base45(cbor([VENUE, "1", VENUE_KID, bytes(64)])),
        "HCV1:" + transport.encode_base45(cbor(["", 1, VENUE_KID, bytes(64)])),
        "HCV1:" + transport.encode_base45(cbor([VENUE, 1, VENUE_KID, bytes(63)])),
        "HCV1:" + transport.encode_base45(cbor([VENUE, 1, b"", bytes(64)])),
        "HCV1:" + transport.encode_base45(b"\x81" * 100 + b"\x00"),
    ],
)
def test_malformed(keyring: passes.VenueKeyring, text: str) -> None:
    assert _code(text, keyring) == "place.malformed"


def test_authority_signed_codes_through_the_trust_list() -> None:
    trust = trust_list()
    text = passes.place_code(VENUE, WINDOW, ISSUER_B.key, ISSUER_B.kid)
    result = _check(text, trust)
    assert result.fresh and result.issuer == ISSUER_B.region
    # Region A's key may sign passes but not place codes.
    assert _code(passes.place_code(VENUE, WINDOW, ISSUER_A.key, ISSUER_A.kid), trust) == "place.key"
    assert (
        _code(passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID), trust)
        == "place.unknown_venue"
    )
    revoked = trust_list(
        passes.Revocation(ISSUER_B.kid, T0, passes.RevocationReason.KEY_COMPROMISE)
    )
    with pytest.raises(passes.PlaceKeyError, match="compromised"):
        _check(text, revoked)


def test_policy_mistakes_are_caller_bugs(keyring: passes.VenueKeyring) -> None:
    text = passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID)
    with pytest.raises(ValueError):
        passes.check_place_code(text, keyring, NOW, timedelta(0), timedelta(0))
    with pytest.raises(ValueError):
        passes.check_place_code(text, keyring, NOW, INTERVAL, INTERVAL * 2)
    with pytest.raises(ValueError):
        passes.place_code("bad venue id", 1, VENUE_KEY, VENUE_KID)


def test_a_checker_answers_each_code_as_check_place_code_does(
    keyring: passes.VenueKeyring,
) -> None:
    """The batch path (one checker for many codes at one instant) and the one-code path agree,
    refusals included."""
    codes = [
        passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID),
        passes.place_code(VENUE, WINDOW - 1, VENUE_KEY, VENUE_KID),
        passes.place_code(VENUE, WINDOW - 100, VENUE_KEY, VENUE_KID),
        passes.static_place_code(VENUE, VENUE_KEY, VENUE_KID),
        passes.place_code(VENUE, WINDOW, VENUE_KEY, VENUE_KID)[:-2] + "00",
        "HCV1:???",
    ]
    checker = passes.PlaceCodeChecker(keyring, NOW, INTERVAL, FRESHNESS)
    for text in codes:
        try:
            expected: passes.PlaceCodeCheck | str = _check(text, keyring)
        except passes.PassError as error:
            expected = error.code
        try:
            got: passes.PlaceCodeCheck | str = checker.check(text)
        except passes.PassError as error:
            got = error.code
        assert got == expected
    with pytest.raises(ValueError):
        passes.PlaceCodeChecker(keyring, NOW, INTERVAL, INTERVAL * 2)
