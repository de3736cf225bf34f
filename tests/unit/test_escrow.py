"""Escrows of people's log secrets: oversight's private key alone opens each, whether written
under a shared envelope key or, as before envelopes, by HPKE of the secret itself."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from healthcode.services.escrow import PersonSecrets, open_escrow

OVERSIGHT = X25519PrivateKey.generate()
SECRETS = PersonSecrets(b"m" * 32, OVERSIGHT.public_key())
PEOPLE = [f"{n:032x}" for n in range(1, 6)] + ["staff:official-1"]


def test_each_escrow_of_one_envelope_opens_to_its_own_person_and_secret() -> None:
    sealed = SECRETS.seal_all(PEOPLE)
    assert [open_escrow(one, OVERSIGHT) for one in sealed] == [
        (key, SECRETS.secret(key)) for key in PEOPLE
    ]
    assert len(set(sealed)) == len(PEOPLE)
    assert SECRETS.seal_all([]) == []


def test_another_key_opens_no_escrow() -> None:
    (sealed,) = SECRETS.seal_all([PEOPLE[0]])
    with pytest.raises(InvalidTag):
        open_escrow(sealed, X25519PrivateKey.generate())


def test_a_changed_escrow_does_not_open() -> None:
    first, second = SECRETS.seal_all(PEOPLE[:2])
    for changed in (first[:-1] + bytes([first[-1] ^ 1]), first[:-16] + second[-16:]):
        with pytest.raises(InvalidTag):
            open_escrow(changed, OVERSIGHT)
    # One escrow's sealed secret under another's envelope fails: the envelope is authenticated.
    with pytest.raises(InvalidTag):
        open_escrow(second[:80] + first[80:], OVERSIGHT)


def test_an_escrow_written_before_envelopes_still_opens() -> None:
    """The earlier format, made here with the library's HPKE directly: HPKE of the secret."""
    suite = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
    key = PEOPLE[0]
    plaintext = key.encode() + b":" + SECRETS.secret(key)
    sealed = suite.encrypt(
        plaintext, OVERSIGHT.public_key(), info=b"healthcode person log secret v1"
    )
    assert open_escrow(sealed, OVERSIGHT) == (key, SECRETS.secret(key))


def test_the_opener_opens_each_envelope_once_and_both_formats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Oversight opening a city's escrows: one HPKE an envelope, not one an escrow; an escrow
    of before envelopes opens too; another key's escrows are None, not an error."""
    from healthcode.services import escrow

    sealed = SECRETS.seal_all(PEOPLE[:3]) + SECRETS.seal_all(PEOPLE[3:])
    suite = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
    legacy_key = "0" * 32
    sealed.append(suite.encrypt(
        legacy_key.encode() + b":" + SECRETS.secret(legacy_key), OVERSIGHT.public_key(),
        info=b"healthcode person log secret v1",
    ))  # fmt: skip
    calls: list[int] = []
    decrypt = escrow._SUITE.decrypt

    class Counting:
        def decrypt(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(1)
            return decrypt(*args, **kwargs)

    monkeypatch.setattr(escrow, "_SUITE", Counting())
    opener = escrow.EscrowOpener(OVERSIGHT)
    assert [opener.open(one) for one in sealed] == [
        (key, SECRETS.secret(key)) for key in [*PEOPLE, legacy_key]
    ]
    assert len(calls) == 3  # two envelopes and the escrow of before
    other = escrow.EscrowOpener(X25519PrivateKey.generate())
    assert [other.open(one) for one in sealed] == [None] * len(sealed)
    changed = sealed[0][:-1] + bytes([sealed[0][-1] ^ 1])
    assert opener.open(changed) is None
