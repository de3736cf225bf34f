"""Every private key of places and passes, derived from one server secret (store/keyfiles.py).

Why derived and not stored: there is one place-code key per venue (millions, nationally) and
one issuer key per authority and generation. Deriving each Ed25519 seed as
``HMAC-SHA256(places master, label)`` means no private key is ever written to the database
(a dump of it holds only public keys), a lost table costs nothing, and rotating a key is
bumping its generation. The master is as sensitive as all those keys together, exactly like
a key-encryption key would be; it lives with the other server secrets (mode 0600, or the
deployment's secret store). Public keys and key ids are stored and logged when registered.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from healthcode.credentials.passes import key_id_for

_BLOCK = 64  # SHA-256's block size in bytes


class DerivedKeys:
    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ValueError("the places master secret must be at least 32 bytes")
        self._master = master
        self._cache: dict[str, Ed25519PrivateKey] = {}
        # HMAC-SHA256 (RFC 2104 §2) with the hashes of the key's inner and outer pads made once:
        # a tag is made per scan, and copying two hash states costs half of what copying an
        # `hmac.HMAC` does (a test compares every tag with `hmac`).
        block = (master if len(master) <= _BLOCK else hashlib.sha256(master).digest()).ljust(
            _BLOCK, b"\0"
        )
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def _key(self, label: str) -> Ed25519PrivateKey:
        key = self._cache.get(label)
        if key is None:
            seed = hmac.new(self._master, f"healthcode-key:{label}".encode(), hashlib.sha256)
            key = Ed25519PrivateKey.from_private_bytes(seed.digest())
            if len(self._cache) < 100_000:
                self._cache[label] = key
        return key

    def venue(self, venue_id: str, generation: int) -> Ed25519PrivateKey:
        """A venue's place-code signing key."""
        return self._key(f"venue:{generation}:{venue_id}")

    def issuer(self, issuer: str, generation: int) -> Ed25519PrivateKey:
        """An authority's (or the national issuer's) pass and identity-card key."""
        return self._key(f"issuer:{generation}:{issuer}")

    def anchor(self) -> Ed25519PrivateKey:
        """The trust anchor that signs the trust list."""
        return self._key("trust-list-anchor:1")

    def anchor_id(self) -> bytes:
        return key_id_for(self.anchor().public_key())

    def scan_source(self, source_id: str) -> Ed25519PrivateKey:
        """The key registered for a server-owned scan source (it never signs intake batches)."""
        return self._key(f"scan-source:{source_id}")

    def tag(self, message: str) -> str:
        """A keyed, unguessable tag (hex, 128 bits): record ids of scans, card commitments."""
        inner = self._inner.copy()
        inner.update(f"healthcode-tag:{message}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:32]
