"""C2SP tlog-witness wire formats: add-checkpoint requests, cosignature responses, errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from healthcode.tlog import HASH_SIZE, NoteError, NoteSignature, TlogError
from healthcode.tlog.encoding import decode_base64, encode_base64

__all__ = [
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "SIZE_CONTENT_TYPE",
    "STATUS",
    "AddCheckpointRequest",
    "WitnessError",
    "format_add_checkpoint",
    "format_cosignatures",
    "parse_add_checkpoint",
    "parse_cosignatures",
    "parse_size_body",
]

# tlog-witness: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
# A checkpoint note with 100 signatures is well under 16 KiB; 64 proof lines add ~3 KiB.
MAX_REQUEST_BYTES = 64 * 1024
_OLD_RE = re.compile(r"old (0|[1-9][0-9]{0,19})")
_SIZE_RE = re.compile(r"(0|[1-9][0-9]{0,19})\n")
_UINT64_MAX = (1 << 64) - 1

# Each refusal's HTTP status, exactly as tlog-witness prescribes.
STATUS = {
    "witness.malformed": 400,
    "witness.bad_signature": 403,
    "witness.unknown_log": 404,
    "witness.conflict": 409,
    "witness.split_view": 409,
    "witness.inconsistent": 422,
}


class WitnessError(Exception):
    """A refused add-checkpoint; ``status`` is its HTTP status.

    ``latest_size`` is set on both 409 refusals: the size of the latest cosigned
    checkpoint, which the response body carries as ``text/x.tlog.size``.
    """

    def __init__(self, code: str, message: str, *, latest_size: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = STATUS[code]
        self.message = message
        self.latest_size = latest_size


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed note, not yet verified


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Parse an add-checkpoint body strictly; any deviation is ``witness.malformed``."""
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessError("witness.malformed", f"request body over {MAX_REQUEST_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessError("witness.malformed", "request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessError("witness.malformed", "no empty line before the checkpoint")
    lines = head.split("\n")
    match = _OLD_RE.fullmatch(lines[0])
    if match is None or int(match.group(1)) > _UINT64_MAX:
        raise WitnessError("witness.malformed", f"bad old size line {lines[0][:40]!r}")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError("witness.malformed", f"more than {MAX_PROOF_LINES} proof lines")
    proof = []
    for number, line in enumerate(lines[1:], 1):
        try:
            node = decode_base64(line, f"proof line {number}", TlogError)
        except TlogError as exc:
            raise WitnessError("witness.malformed", exc.message) from None
        if len(node) != HASH_SIZE:
            raise WitnessError("witness.malformed", f"proof line {number} is not a SHA-256 hash")
        proof.append(node)
    return AddCheckpointRequest(int(match.group(1)), tuple(proof), note)


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], checkpoint: str) -> bytes:
    """The request body: ``old <size>``, one base64 hash per line, an empty line, the note."""
    lines = [f"old {old_size}", *(encode_base64(node) for node in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint).encode("utf-8")


def format_cosignatures(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)


def parse_cosignatures(body: str) -> list[str]:
    """Split a 200 response into signature lines (without newlines), checking their form."""
    if not body.endswith("\n"):
        raise ValueError("cosignature response does not end with a newline")
    lines = body[:-1].split("\n")
    for line in lines:
        try:
            NoteSignature.parse_line(line)
        except NoteError as exc:
            raise ValueError(f"bad cosignature line: {exc.message}") from None
    return lines


def parse_size_body(body: str) -> int:
    """The decimal size and newline of a ``text/x.tlog.size`` body."""
    match = _SIZE_RE.fullmatch(body)
    if match is None or int(match.group(1)) > _UINT64_MAX:
        raise ValueError(f"bad {SIZE_CONTENT_TYPE} body {body[:40]!r}")
    return int(match.group(1))
