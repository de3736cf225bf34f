"""C2SP signed-note: strict parsing, formatting, signing and verification of notes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from healthcode.tlog.encoding import decode_base64, encode_base64
from healthcode.tlog.errors import (
    KeyFormatError,
    NoteError,
    NoteSignatureError,
    NoteUnverifiedError,
)
from healthcode.tlog.keys import Signer, Verifier, is_valid_key_name

__all__ = [
    "MAX_SIGNATURES",
    "SIGNATURE_PREFIX",
    "Note",
    "NoteSignature",
    "VerifiedNote",
    "check_note_text",
    "open_note",
    "parse_note",
    "sign_note",
]

SIGNATURE_PREFIX = "\u2014 "
# The spec requires accepting at least 16; 100 matches the Go reference and
# bounds the work an unauthenticated note can demand.
MAX_SIGNATURES = 100
_KEY_ID_SIZE = 4


def _check_characters(text: str, what: str) -> None:
    for c in text:
        if ord(c) < 0x20 and c != "\n":
            raise NoteError(f"{what} contains control character U+{ord(c):04X}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid UTF-8") from None


def check_note_text(text: str) -> None:
    """Raise ``NoteError`` unless ``text`` can be the text of a signed note."""
    if not text.endswith("\n"):
        raise NoteError("note text must be non-empty and end with a newline")
    _check_characters(text, "note text")


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise NoteError(f"invalid key name {self.name!r} in signature")
        if len(self.key_id) != _KEY_ID_SIZE:
            raise NoteError("key ID must be 4 bytes")
        if not self.signature:
            raise NoteError("signature must not be empty")

    def line(self) -> str:
        """``— <name> base64(key ID || signature)`` followed by a newline."""
        return f"{SIGNATURE_PREFIX}{self.name} {encode_base64(self.key_id + self.signature)}\n"

    @classmethod
    def parse_line(cls, line: str) -> NoteSignature:
        """Parse one signature line without its trailing newline."""
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line does not start with an em dash: {line[:80]!r}")
        name, sep, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not is_valid_key_name(name):
            raise NoteError(f"malformed signature line: {line[:80]!r}")
        raw = decode_base64(b64, "signature", NoteError)
        if len(raw) <= _KEY_ID_SIZE:
            raise NoteError(f"signature for {name!r} is too short")
        return cls(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


@dataclass(frozen=True)
class Note:
    """A note text with its signature lines, not yet verified."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        check_note_text(self.text)
        if not self.signatures:
            raise NoteError("a signed note needs at least one signature")
        if len(self.signatures) > MAX_SIGNATURES:
            raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")

    def encode(self) -> str:
        """Text, a blank line, then one line per signature."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)

    def with_signatures(self, extra: Iterable[NoteSignature]) -> Note:
        """Return a copy with ``extra`` appended (e.g. witness cosignatures)."""
        return Note(self.text, self.signatures + tuple(extra))


@dataclass(frozen=True)
class VerifiedNote:
    """A note whose text is authenticated by every signature in ``verified``."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]
    note: Note


def parse_note(data: str | bytes) -> Note:
    """Parse a signed note strictly, WITHOUT verifying it: never trust the result's text.

    The text is everything up to and including the newline before the last blank
    line; every following line must be a well-formed signature line, and the
    note must end with a newline (anything else is trailing garbage).
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    else:
        text = data
    _check_characters(text, "note")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        before = text[text.rfind("\n\n", 0, split) + 2 : split].split("\n")
        if "\n\n" in text[:split] and all(line.startswith(SIGNATURE_PREFIX) for line in before):
            # The last blank line is the note's end, not its separator: what follows the
            # real separator are the signatures, then an empty line the format has no room for.
            raise NoteError(
                "note ends with an empty line after its signature lines (a newline too many)"
            )
        raise NoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteError("note does not end with a newline after its last signature")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return Note(body, tuple(NoteSignature.parse_line(line) for line in lines))


def sign_note(text: str, signers: Iterable[Signer]) -> str:
    """Sign ``text`` with every signer and return the encoded note."""
    check_note_text(text)
    message = text.encode("utf-8")
    sigs = tuple(NoteSignature(s.name, s.key_id, s.sign(message)) for s in signers)
    return Note(text, sigs).encode()


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        key = (v.name, bytes(v.key_id))
        if key in known and known[key] is not v:
            raise KeyFormatError(f"two verifiers share name {v.name!r} and key ID {v.key_id.hex()}")
        known[key] = v
    return known


def open_note(data: str | bytes | Note, verifiers: Iterable[Verifier]) -> VerifiedNote:
    """Parse and verify a note against the known ``verifiers``.

    Signatures whose (name, key ID) match no verifier are ignored, as the spec
    requires. A known-key signature that fails rejects the whole note, and at
    least one known-key signature must verify.
    """
    note = data if isinstance(data, Note) else parse_note(data)
    known = _index_verifiers(verifiers)
    message = note.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)
            continue
        if not verifier.verify(message, sig.signature):
            raise NoteSignatureError(
                f"signature by known key {sig.name}+{sig.key_id.hex()} does not verify"
            )
        if sig not in verified:
            verified.append(sig)
    if not verified:
        raise NoteUnverifiedError("no signature on the note is from a known key")
    return VerifiedNote(note.text, tuple(verified), tuple(unverified), note)
