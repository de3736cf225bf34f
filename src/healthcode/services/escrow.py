"""Each person's log secret: derived by the server, shown to the person, escrowed to oversight.

The secret keys the HMAC that names a person in log entries. The server derives it from a
master key, so it never needs storing in the clear; a copy encrypted to oversight's X25519 key
with HPKE (RFC 9180, from ``cryptography``) is stored, so oversight can open any entry even
without the server's master key.

The escrows a transaction writes together (the people a batch of evidence turned red, say)
share one HPKE encryption, of a fresh AES-128-GCM key, and each secret is sealed under that
key (envelope encryption): one key agreement per transaction, where HPKE of each secret cost
a tenth of a millisecond each. An escrow is ``HCE2 || HPKE(key) || nonce || AES-GCM(secret)``
and holds everything needed to open it with oversight's private key alone. Escrows written
before were HPKE of the secret itself; `open_escrow` opens both.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from sqlalchemy import Connection

from healthcode.store import log as log_repo

_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
_INFO = b"healthcode person log secret v1"  # escrows written before envelopes (HPKE alone)
_ENVELOPE = b"HCE2"
_KEY_INFO = b"healthcode person log secret key v2"
_SEALED_KEY = 32 + 16 + 16  # HPKE of an AES-128 key: the encapsulated key, the key, its tag
_NONCE = 12
_SECRET = hashlib.sha256().digest_size


class PersonSecrets:
    def __init__(self, master: bytes, oversight_public: X25519PublicKey) -> None:
        self._master = master
        self._oversight = oversight_public

    def secret(self, person_key: str) -> bytes:
        return hmac.new(
            self._master, f"person-secret:{person_key}".encode(), hashlib.sha256
        ).digest()

    def escrowed(self, conn: Connection, key: str, now: datetime) -> bytes:
        """The secret of ``key`` (a person key, or a member of staff's `staff_secret_key`),
        escrowed in this transaction if it is not yet: for an entry that tags its owner."""
        self.escrow_missing(conn, [key], now)
        return self.secret(key)

    def escrow_missing(self, conn: Connection, person_keys: Sequence[str], now: datetime) -> None:
        """Store the escrowed secret of every person not yet escrowed (same transaction)."""
        missing = sorted(set(person_keys) - log_repo.escrowed(conn, person_keys))
        sealed = self.seal_all(missing)
        log_repo.insert_escrows(
            conn, [(key, one, now) for key, one in zip(missing, sealed, strict=True)]
        )

    def escrow_all(self, conn: Connection, person_keys: Sequence[str], now: datetime) -> None:
        """As `escrow_missing`, without reading who is escrowed: every secret is sealed (one
        key agreement, as for one) and a person already escrowed keeps theirs. One statement,
        which can go with others (`store.copy.pipelined`): the derivation's."""
        keys = sorted(set(person_keys))
        sealed = self.seal_all(keys)
        log_repo.insert_escrows(
            conn,
            [(key, one, now) for key, one in zip(keys, sealed, strict=True)],
            keep_existing=True,
        )

    def seal_all(self, person_keys: Sequence[str]) -> list[bytes]:
        """The escrows of these people's secrets, in order, under one envelope key."""
        if not person_keys:
            return []
        key = AESGCM.generate_key(bit_length=128)
        head = _ENVELOPE + _SUITE.encrypt(key, self._oversight, info=_KEY_INFO)
        aead = AESGCM(key)
        sealed = []
        for number, person_key in enumerate(person_keys):
            # The key is fresh and used for these escrows only: counting gives unique nonces.
            nonce = number.to_bytes(_NONCE, "big")
            plaintext = person_key.encode() + b":" + self.secret(person_key)
            sealed.append(head + nonce + aead.encrypt(nonce, plaintext, head))
        return sealed


def open_escrow(sealed: bytes, oversight_private: X25519PrivateKey) -> tuple[str, bytes]:
    """Oversight's side: the person key and secret inside one escrow record."""
    plaintext = _open_envelope(sealed, oversight_private)
    if plaintext is None:
        plaintext = _SUITE.decrypt(sealed, oversight_private, info=_INFO)
    return _split(plaintext)


class EscrowOpener:
    """Oversight's side for many escrows: each envelope's key is opened once, so opening every
    escrow of a city costs one HPKE a transaction that wrote escrows, then one AES-GCM each.
    An escrow this key does not open is ``None``, not an error: whoever opens many decides
    what a key that opens none of them means."""

    def __init__(self, oversight_private: X25519PrivateKey) -> None:
        self._private = oversight_private
        self._keys: dict[bytes, AESGCM | None] = {}  # envelope head -> its key; None: not ours

    def open(self, sealed: bytes) -> tuple[str, bytes] | None:
        cut = len(_ENVELOPE) + _SEALED_KEY
        if sealed.startswith(_ENVELOPE) and len(sealed) >= cut + _NONCE:
            head, nonce, body = sealed[:cut], sealed[cut : cut + _NONCE], sealed[cut + _NONCE :]
            if head not in self._keys:
                self._keys[head] = self._envelope_key(head)
            aead = self._keys[head]
            if aead is not None:
                try:
                    return _split(aead.decrypt(nonce, body, head))
                except InvalidTag:
                    pass
        try:  # an escrow of before envelopes: HPKE of the secret itself
            return _split(_SUITE.decrypt(sealed, self._private, info=_INFO))
        except (InvalidTag, ValueError):
            return None

    def _envelope_key(self, head: bytes) -> AESGCM | None:
        try:
            key = _SUITE.decrypt(head[len(_ENVELOPE) :], self._private, info=_KEY_INFO)
        except (InvalidTag, ValueError):
            return None
        return AESGCM(key)


def _split(plaintext: bytes) -> tuple[str, bytes]:
    # ``person key:secret``: the secret is the last 32 bytes (a staff key holds a colon too).
    key, secret = plaintext[: -_SECRET - 1], plaintext[-_SECRET:]
    return key.decode(), secret


def _open_envelope(sealed: bytes, oversight_private: X25519PrivateKey) -> bytes | None:
    """The plaintext of an envelope escrow; ``None`` if ``sealed`` is not one (an escrow of
    before, which begins with the marker once in 2^32, fails to open as an envelope)."""
    cut = len(_ENVELOPE) + _SEALED_KEY
    if not sealed.startswith(_ENVELOPE) or len(sealed) < cut + _NONCE:
        return None
    head, nonce, body = sealed[:cut], sealed[cut : cut + _NONCE], sealed[cut + _NONCE :]
    try:
        key = _SUITE.decrypt(head[len(_ENVELOPE) :], oversight_private, info=_KEY_INFO)
        return AESGCM(key).decrypt(nonce, body, head)
    except InvalidTag:
        return None
