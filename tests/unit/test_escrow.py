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
