"""C2SP tlog-cosignature ``cosignature/v1``: timestamped Ed25519 witness cosignatures."""

from __future__ import annotations

import struct

from healthcode.tlog.errors import CosignatureError
from healthcode.tlog.keys import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    SIGNATURE_TYPE_ED25519,
    TypedEd25519Signer,
    TypedEd25519Verifier,
    ed25519_verify,
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


class CosignatureVerifier(TypedEd25519Verifier):
    """Note verifier for ``cosignature/v1`` signatures by one witness key."""

    SIGNATURE_TYPE = SIGNATURE_TYPE_COSIGNATURE_V1
    __slots__ = ()

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


class CosignatureSigner(TypedEd25519Signer):
    """A witness key producing ``cosignature/v1`` signatures; the time is always an argument."""

    SIGNATURE_TYPE = SIGNATURE_TYPE_COSIGNATURE_V1
    # A ``PRIVATE+KEY+`` string of type 0x04, or a plain Ed25519 (0x01) one: existing witness
    # deployments keep type 0x01 signer keys and derive the 0x04 key ID from the same seed.
    SKEY_TYPES = (SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519)
    __slots__ = ()

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
