"""C2SP signed-note keys: key names, key IDs, vkey/skey strings, Ed25519 keys of a signature
type, and Ed25519 (type 0x01) signers and verifiers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from healthcode.tlog.encoding import decode_base64, encode_base64
from healthcode.tlog.errors import KeyFormatError

__all__ = [
    "SIGNATURE_TYPE_COSIGNATURE_V1",
    "SIGNATURE_TYPE_ED25519",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Signer",
    "TypedEd25519Signer",
    "TypedEd25519Verifier",
    "Verifier",
    "VerifierKey",
    "check_key_name",
    "is_valid_key_name",
    "key_id",
]

SIGNATURE_TYPE_ED25519 = 0x01
SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_ED25519_KEY_SIZE = 32
_ED25519_SIG_SIZE = 64


@runtime_checkable
class Verifier(Protocol):
    """Checks signatures by one key, identified by ``(name, key_id)``."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` (without the key ID) is valid over ``message``."""
        ...


@runtime_checkable
class Signer(Protocol):
    """Signs note texts with one key, identified by ``(name, key_id)``."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes:
        """Return the signature bytes (without the key ID) over ``message``."""
        ...


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty and contain no Unicode spaces and no ``+`` (signed-note §Format)."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 for c in name)
        and _is_utf8(name)
    )


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_key_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid key name {name!r}: must be non-empty, no spaces, no '+'")


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4], the RECOMMENDED signed-note key ID."""
    check_key_name(name)
    if not 0 <= signature_type <= 0xFF:
        raise KeyFormatError(f"signature type {signature_type} is not a byte")
    data = name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    return hashlib.sha256(data).digest()[:4]


def _parse_key_id(text: str) -> bytes:
    if len(text) != 8 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise KeyFormatError(f"key ID must be 8 hex digits, got {text!r}")
    return bytes.fromhex(text)


@dataclass(frozen=True)
class VerifierKey:
    """A parsed vkey string ``<name>+<hex key ID>+<base64(type || public key)>``."""

    name: str
    key_id: bytes
    signature_type: int
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> VerifierKey:
        # The base64 part may itself contain '+', so split at the first two only.
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise KeyFormatError("verifier key must be <name>+<key ID>+<base64 key>")
        name, hex_id, b64 = parts
        check_key_name(name)
        kid = _parse_key_id(hex_id)
        material = decode_base64(b64, "verifier key material", KeyFormatError)
        if len(material) < 2:
            raise KeyFormatError("verifier key material is too short")
        return cls(name, kid, material[0], material[1:])

    def encode(self) -> str:
        material = bytes([self.signature_type]) + self.public_key
        return f"{self.name}+{self.key_id.hex()}+{encode_base64(material)}"

    def ed25519_public_key(self, expected_type: int) -> bytes:
        """Return the 32-byte Ed25519 key after checking type, length and key ID."""
        if self.signature_type != expected_type:
            raise KeyFormatError(
                f"key {self.name!r} has signature type 0x{self.signature_type:02x}, "
                f"expected 0x{expected_type:02x}"
            )
        if len(self.public_key) != _ED25519_KEY_SIZE:
            raise KeyFormatError(f"Ed25519 public key for {self.name!r} must be 32 bytes")
        if self.key_id != key_id(self.name, expected_type, self.public_key):
            raise KeyFormatError(
                f"key ID {self.key_id.hex()} does not match the key for {self.name!r}"
            )
        return self.public_key


def ed25519_verify(public: Ed25519PublicKey, message: bytes, signature: bytes) -> bool:
    """RFC 8032 verification that reports failure as ``False`` instead of raising."""
    if len(signature) != _ED25519_SIG_SIZE:
        return False
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


class _NamedEd25519Key:
    """An Ed25519 key's name, public key and key ID, for one signature type
    (``SIGNATURE_TYPE``, part of the key ID): what a verifier and a signer both have."""

    SIGNATURE_TYPE: ClassVar[int]
    __slots__ = ("_key_id", "_name", "_public_bytes")

    def _named(self, name: str, public_key: bytes) -> None:
        self._name = name
        self._public_bytes = bytes(public_key)
        self._key_id = key_id(name, self.SIGNATURE_TYPE, self._public_bytes)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public_bytes


class TypedEd25519Verifier(_NamedEd25519Key):
    """An Ed25519 public key under a signed-note key name, for one signature type."""

    __slots__ = ("_public",)

    def __init__(self, name: str, public_key: bytes) -> None:
        check_key_name(name)
        if len(public_key) != _ED25519_KEY_SIZE:
            raise KeyFormatError("Ed25519 public key must be 32 bytes")
        self._named(name, public_key)
        self._public = Ed25519PublicKey.from_public_bytes(self._public_bytes)

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse ``name+hexid+base64(type || pub)``, checking the type and the key ID."""
        parsed = VerifierKey.parse(vkey)
        return cls(parsed.name, parsed.ed25519_public_key(cls.SIGNATURE_TYPE))

    def to_vkey(self) -> str:
        return VerifierKey(
            self._name, self._key_id, self.SIGNATURE_TYPE, self._public_bytes
        ).encode()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_vkey()!r})"


class Ed25519Verifier(TypedEd25519Verifier):
    """Verifier for signed-note Ed25519 signatures (type 0x01)."""

    SIGNATURE_TYPE = SIGNATURE_TYPE_ED25519
    __slots__ = ()

    def verify(self, message: bytes, signature: bytes) -> bool:
        return ed25519_verify(self._public, message, signature)


def parse_signer_key(skey: str, allowed_types: tuple[int, ...]) -> tuple[str, int, bytes]:
    """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>``; check the key ID.

    Returns ``(name, signature type, 32-byte seed)``.
    """
    if not skey.startswith(_PRIVATE_PREFIX):
        raise KeyFormatError("signer key must start with PRIVATE+KEY+")
    parts = skey[len(_PRIVATE_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError("signer key must be PRIVATE+KEY+<name>+<key ID>+<base64 key>")
    name, hex_id, b64 = parts
    check_key_name(name)
    kid = _parse_key_id(hex_id)
    material = decode_base64(b64, "signer key material", KeyFormatError)
    if len(material) != 1 + _ED25519_KEY_SIZE or material[0] not in allowed_types:
        raise KeyFormatError("signer key must be a type byte followed by a 32-byte Ed25519 seed")
    seed = material[1:]
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    if kid != key_id(name, material[0], public):
        raise KeyFormatError(f"signer key ID {hex_id} does not match the key for {name!r}")
    return name, material[0], seed


class TypedEd25519Signer(_NamedEd25519Key):
    """An Ed25519 private key (its 32-byte seed) under a signed-note key name, for one
    signature type (``SIGNATURE_TYPE``): what a signer of that type holds. The seed is the
    caller's: this package never draws randomness itself."""

    # The types of ``PRIVATE+KEY+`` strings `from_skey` takes.
    SKEY_TYPES: ClassVar[tuple[int, ...]]
    __slots__ = ("_private", "_seed")

    def __init__(self, name: str, seed: bytes) -> None:
        check_key_name(name)
        if len(seed) != _ED25519_KEY_SIZE:
            raise KeyFormatError("Ed25519 seed must be 32 bytes")
        self._seed = bytes(seed)
        self._private = Ed25519PrivateKey.from_private_bytes(self._seed)
        self._named(name, self._private.public_key().public_bytes_raw())

    @classmethod
    def from_skey(cls, skey: str) -> Self:
        name, _, seed = parse_signer_key(skey, cls.SKEY_TYPES)
        return cls(name, seed)

    def to_skey(self) -> str:
        material = encode_base64(bytes([self.SIGNATURE_TYPE]) + self._seed)
        return f"{_PRIVATE_PREFIX}{self._name}+{self._key_id.hex()}+{material}"

    def __repr__(self) -> str:
        # Never print the seed.
        return f"{type(self).__name__}(name={self._name!r}, key_id={self._key_id.hex()})"


class Ed25519Signer(TypedEd25519Signer):
    """Signer producing signed-note Ed25519 signatures (type 0x01)."""

    SIGNATURE_TYPE = SIGNATURE_TYPE_ED25519
    SKEY_TYPES = (SIGNATURE_TYPE_ED25519,)
    __slots__ = ()

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self._name, self._public_bytes)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)
