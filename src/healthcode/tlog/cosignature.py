"""C2SP tlog-cosignature ``cosignature/v1``: timestamped Ed25519 witness cosignatures."""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from healthcode.tlog.encoding import encode_base64
from healthcode.tlog.errors import CosignatureError, KeyFormatError
from healthcode.tlog.keys import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    SIGNATURE_TYPE_ED25519,
    VerifierKey,
    check_key_name,
    ed25519_verify,
    key_id,
    parse_signer_key,
)
from healthcode.tlog.note import Note, NoteSignature, check_note_text, parse_note

__all__ = [
    "COSIGNATURE_V1_HEADER",
    "MAX_TIMESTAMP",
    "CosignatureSigner",
    "CosignatureVerifier",
    "TimestampedCosigner",
    "cosign_note",
    "cosignature_timestamp",
    "cosigned_message",
]

COSIGNATURE_V1_HEADER = "cosignature/v1"
MAX_TIMESTAMP = (1 << 63) - 1
_TIMESTAMP = struct.Struct(">Q")
_SIGNATURE_SIZE = _TIMESTAMP.size + 64


def _check_timestamp(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"timestamp {timestamp} is outside [0, 2^63 - 1]")


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes a v1 cosigner signs: header line, ``time <t>`` line, then the checkpoint body."""
    _check_timestamp(timestamp)
    check_note_text(body)
    return f"{COSIGNATURE_V1_HEADER}\ntime {timestamp}\n{body}".encode()


def cosignature_timestamp(signature: NoteSignature | bytes) -> int:
    """Return the POSIX timestamp embedded in a v1 cosignature."""
    raw = signature.signature if isinstance(signature, NoteSignature) else signature
    if len(raw) != _SIGNATURE_SIZE:
        raise CosignatureError(f"cosignature must be {_SIGNATURE_SIZE} bytes, got {len(raw)}")
    (timestamp,) = _TIMESTAMP.unpack_from(raw)
    _check_timestamp(timestamp)
    return int(timestamp)


class CosignatureVerifier:
    """Note verifier for ``cosignature/v1`` signatures by one witness key."""

    __slots__ = ("_key_id", "_name", "_public", "_public_bytes")

    def __init__(self, name: str, public_key: bytes) -> None:
        check_key_name(name)
        if len(public_key) != 32:
            raise KeyFormatError("Ed25519 public key must be 32 bytes")
        self._name = name
        self._public_bytes = bytes(public_key)
        self._public = Ed25519PublicKey.from_public_bytes(self._public_bytes)
        self._key_id = key_id(name, SIGNATURE_TYPE_COSIGNATURE_V1, self._public_bytes)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``name+hexid+base64(0x04 || pub)``, checking the key ID."""
        parsed = VerifierKey.parse(vkey)
        return cls(parsed.name, parsed.ed25519_public_key(SIGNATURE_TYPE_COSIGNATURE_V1))

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public_bytes

    def to_vkey(self) -> str:
        return VerifierKey(
            self._name, self._key_id, SIGNATURE_TYPE_COSIGNATURE_V1, self._public_bytes
        ).encode()

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Check ``timestamp || sig`` over the note text ``message``."""
        if len(signature) != _SIGNATURE_SIZE:
            return False
        (timestamp,) = _TIMESTAMP.unpack_from(signature)
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            body = message.decode("utf-8")
            signed = cosigned_message(body, timestamp)
        except (UnicodeDecodeError, CosignatureError, ValueError):
            return False
        return ed25519_verify(self._public, signed, signature[_TIMESTAMP.size :])

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.to_vkey()!r})"


class CosignatureSigner:
    """A witness key producing ``cosignature/v1`` signatures; the time is always an argument."""

    __slots__ = ("_key_id", "_name", "_private", "_public_bytes", "_seed")

    def __init__(self, name: str, seed: bytes) -> None:
        check_key_name(name)
        if len(seed) != 32:
            raise KeyFormatError("Ed25519 seed must be 32 bytes")
        self._name = name
        self._seed = bytes(seed)
        self._private = Ed25519PrivateKey.from_private_bytes(self._seed)
        self._public_bytes = self._private.public_key().public_bytes_raw()
        self._key_id = key_id(name, SIGNATURE_TYPE_COSIGNATURE_V1, self._public_bytes)

    @classmethod
    def from_skey(cls, skey: str) -> CosignatureSigner:
        """Accept a ``PRIVATE+KEY+`` string of type 0x04, or a plain Ed25519 (0x01) one.

        Existing witness deployments keep type 0x01 signer keys and derive the
        0x04 key ID from the same seed, so both are accepted.
        """
        name, _, seed = parse_signer_key(
            skey, (SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519)
        )
        return cls(name, seed)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public_bytes

    def to_skey(self) -> str:
        material = encode_base64(bytes([SIGNATURE_TYPE_COSIGNATURE_V1]) + self._seed)
        return f"PRIVATE+KEY+{self._name}+{self._key_id.hex()}+{material}"

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self._name, self._public_bytes)

    def sign_at(self, body: str, timestamp: int) -> bytes:
        """Return ``timestamp (8 bytes BE) || Ed25519 signature`` over the cosigned message."""
        signed = cosigned_message(body, timestamp)
        return _TIMESTAMP.pack(timestamp) + self._private.sign(signed)

    def cosign(self, body: str, timestamp: int) -> NoteSignature:
        """Return the note signature line for ``body`` at ``timestamp``."""
        return NoteSignature(self._name, self._key_id, self.sign_at(body, timestamp))

    def at(self, timestamp: int) -> TimestampedCosigner:
        """Bind a time, giving a ``Signer`` usable with ``sign_note``."""
        _check_timestamp(timestamp)
        return TimestampedCosigner(self, timestamp)

    def __repr__(self) -> str:
        return f"CosignatureSigner(name={self._name!r}, key_id={self._key_id.hex()})"


class TimestampedCosigner:
    """A ``Signer`` view of a cosigner at one fixed timestamp."""

    __slots__ = ("_signer", "_timestamp")

    def __init__(self, signer: CosignatureSigner, timestamp: int) -> None:
        self._signer = signer
        self._timestamp = timestamp

    @property
    def name(self) -> str:
        return self._signer.name

    @property
    def key_id(self) -> bytes:
        return self._signer.key_id

    def sign(self, message: bytes) -> bytes:
        try:
            body = message.decode("utf-8")
        except UnicodeDecodeError:
            raise CosignatureError("note text is not valid UTF-8") from None
        return self._signer.sign_at(body, self._timestamp)


def cosign_note(signed_note: str | bytes | Note, signer: CosignatureSigner, timestamp: int) -> str:
    """Append a cosignature to an already signed note and return the encoded note.

    The note is only parsed, not verified: a witness must verify the log's
    signature (and consistency) before calling this.
    """
    note = signed_note if isinstance(signed_note, Note) else parse_note(signed_note)
    return note.with_signatures([signer.cosign(note.text, timestamp)]).encode()
