"""The server's own secrets, kept as files in the data directory (mode 0600).

Created on first start; a production deployment mounts them from its secret store instead.
Oversight's escrow key is the one exception to "the server holds it": in production only the
public half (``oversight-escrow.x25519.pub``) is deployed; the demo creates both halves.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from healthcode.errors import InputRejected


@dataclass(frozen=True)
class ServerKeys:
    token_signing: Ed25519PrivateKey
    pseudonym_secret: bytes
    log_signing_seed: bytes
    person_secret_master: bytes
    oversight_public: X25519PublicKey
    oversight_private: X25519PrivateKey | None
    # Derives every venue place-code key, issuer key, the trust-list anchor and the scan
    # sources' keys (services/keyring.py): one secret to keep, whatever the number of venues.
    places_master: bytes


# Every file a store is bound to once it has signed: made afresh, each would break what the
# store holds (the log's signatures, the person keys, the escrowed secrets, the place keys).
# The private half of the escrow key is optional: production deploys only the public one.
BOUND = (
    "token-signing.ed25519",
    "pseudonym.secret",
    "log-signing.ed25519",
    "person-secrets.master",
    "places.master",
    "oversight-escrow.x25519.pub",
)


def missing(key_dir: Path) -> list[str]:
    """The files of `BOUND` not in ``key_dir``."""
    return [name for name in BOUND if not (key_dir / name).exists()]


def _read_or_create(path: Path, make: bytes) -> bytes:
    if path.exists():
        try:
            found = path.read_bytes()
        except OSError as error:
            raise InputRejected("keys.invalid", f"{path}: {error.strerror}") from None
        if len(found) != len(make):  # every key here is 32 bytes, raw
            raise InputRejected("keys.invalid", f"{path}: {len(found)} bytes, not {len(make)}")
        return found
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
    return make


def _seed() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )


def load_or_create(key_dir: Path) -> ServerKeys:
    token_seed = _read_or_create(key_dir / "token-signing.ed25519", _seed())
    pseudonym = _read_or_create(key_dir / "pseudonym.secret", secrets.token_bytes(32))
    log_seed = _read_or_create(key_dir / "log-signing.ed25519", _seed())
    master = _read_or_create(key_dir / "person-secrets.master", secrets.token_bytes(32))
    places = _read_or_create(key_dir / "places.master", secrets.token_bytes(32))
    private_path, public_path = (
        key_dir / "oversight-escrow.x25519",
        key_dir / "oversight-escrow.x25519.pub",
    )
    private: X25519PrivateKey | None = None
    if not public_path.exists():
        made = X25519PrivateKey.generate()
        _read_or_create(
            private_path, made.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        )
        _read_or_create(public_path, made.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    if private_path.exists():
        private = X25519PrivateKey.from_private_bytes(_read_or_create(private_path, bytes(32)))
    return ServerKeys(
        token_signing=Ed25519PrivateKey.from_private_bytes(token_seed),
        pseudonym_secret=pseudonym,
        log_signing_seed=log_seed,
        person_secret_master=master,
        oversight_public=X25519PublicKey.from_public_bytes(_read_or_create(public_path, bytes(32))),
        oversight_private=private,
        places_master=places,
    )
