"""Each person's log secret: derived by the server, shown to the person, escrowed to oversight.

The secret keys the HMAC that names a person in log entries. The server derives it from a
master key, so it never needs storing in the clear; a copy encrypted to oversight's X25519 key
with HPKE (RFC 9180, from ``cryptography``) is stored, so oversight can open any entry even
without the server's master key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from sqlalchemy import Connection

from healthcode.store import log as log_repo

_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
_INFO = b"healthcode person log secret v1"


class PersonSecrets:
    def __init__(self, master: bytes, oversight_public: X25519PublicKey) -> None:
        self._master = master
        self._oversight = oversight_public

    def secret(self, person_key: str) -> bytes:
        return hmac.new(
            self._master, f"person-secret:{person_key}".encode(), hashlib.sha256
        ).digest()

    def escrow_missing(self, conn: Connection, person_keys: Sequence[str], now: datetime) -> None:
        """Store the escrowed secret of every person not yet escrowed (same transaction)."""
        missing = sorted(set(person_keys) - log_repo.escrowed(conn, person_keys))
        log_repo.insert_escrows(conn, [(key, self.seal(key), now) for key in missing])

    def seal(self, person_key: str) -> bytes:
        plaintext = person_key.encode() + b":" + self.secret(person_key)
        return _SUITE.encrypt(plaintext, self._oversight, info=_INFO)


def open_escrow(sealed: bytes, oversight_private: X25519PrivateKey) -> tuple[str, bytes]:
    """Oversight's side: the person key and secret inside one escrow record."""
    plaintext = _SUITE.decrypt(sealed, oversight_private, info=_INFO)
    key, _, secret = plaintext.partition(b":")
    return key.decode(), secret
