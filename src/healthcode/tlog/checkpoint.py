"""C2SP tlog-checkpoint: the origin / size / root hash note body, parsed and formatted strictly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from healthcode.tlog.encoding import decode_base64, encode_base64, parse_decimal
from healthcode.tlog.errors import CheckpointError
from healthcode.tlog.hashing import HASH_SIZE
from healthcode.tlog.keys import Signer, Verifier
from healthcode.tlog.note import VerifiedNote, open_note, sign_note

__all__ = [
    "Checkpoint",
    "SignedCheckpoint",
    "open_checkpoint",
    "parse_checkpoint",
    "sign_checkpoint",
]


def _check_line(line: str, what: str) -> None:
    if not line:
        raise CheckpointError(f"{what} must not be empty")
    if any(ord(c) < 0x20 for c in line):
        raise CheckpointError(f"{what} contains a control character")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, RFC 6962 root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if not 0 <= self.size < 1 << 64:
            raise CheckpointError(f"tree size {self.size} is outside uint64")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        for ext in self.extensions:
            _check_line(ext, "extension line")

    def body(self) -> str:
        """The note text: one line each for origin, size, root and extensions."""
        lines = [self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        return parse_checkpoint(body)


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint note text (not a signed note) strictly."""
    if not body.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"checkpoint needs at least 3 lines, got {len(lines)}")
    origin, size_text, root_text, *extensions = lines
    _check_line(origin, "origin")
    size = parse_decimal(size_text, "tree size", CheckpointError)
    root = decode_base64(root_text, "root hash", CheckpointError)
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root hash must be {HASH_SIZE} bytes, got {len(root)}")
    for ext in extensions:
        _check_line(ext, "extension line")
    return Checkpoint(origin, size, root, tuple(extensions))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint whose note verified against known keys."""

    checkpoint: Checkpoint
    note: VerifiedNote


def sign_checkpoint(checkpoint: Checkpoint, signers: Iterable[Signer]) -> str:
    """Return the signed note for ``checkpoint``."""
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(
    data: str | bytes,
    verifiers: Iterable[Verifier],
    *,
    origin: str | None = None,
) -> SignedCheckpoint:
    """Verify a signed checkpoint note and parse its body.

    ``origin``, when given, must equal the checkpoint's origin line: a valid
    signature by a log key says nothing about which log the body claims to be.
    """
    verified = open_note(data, verifiers)
    checkpoint = parse_checkpoint(verified.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return SignedCheckpoint(checkpoint, verified)
