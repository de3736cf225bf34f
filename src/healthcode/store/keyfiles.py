"""The server's own secrets, kept as files in the data directory (mode 0600).

Created on first start; a production deployment mounts them from its secret store instead.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat


@dataclass(frozen=True)
class ServerKeys:
    token_signing: Ed25519PrivateKey
    pseudonym_secret: bytes


def _read_or_create(path: Path, make: bytes) -> bytes:
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
    return make


def load_or_create(key_dir: Path) -> ServerKeys:
    seed = _read_or_create(
        key_dir / "token-signing.ed25519",
        Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
    )
    pseudonym = _read_or_create(key_dir / "pseudonym.secret", secrets.token_bytes(32))
    return ServerKeys(
        token_signing=Ed25519PrivateKey.from_private_bytes(seed),
        pseudonym_secret=pseudonym,
    )
