"""C2SP tlog-proof (``c2sp.org/tlog-proof@v1``): an offline-verifiable proof of logging."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from healthcode.tlog.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from healthcode.tlog.encoding import decode_base64, encode_base64, parse_decimal
from healthcode.tlog.errors import ProofError, ProofReceiptError
from healthcode.tlog.hashing import HASH_SIZE, leaf_hash
from healthcode.tlog.keys import Verifier
from healthcode.tlog.note import VerifiedNote, parse_note
from healthcode.tlog.proofs import MAX_PROOF_LENGTH, NodeHashFn, inclusion_proof, verify_inclusion

__all__ = [
    "TLOG_PROOF_HEADER",
    "TlogProof",
    "VerifiedTlogProof",
    "make_tlog_proof",
    "parse_tlog_proof",
    "verify_tlog_proof",
]

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class TlogProof:
    """The parts of a tlog-proof; ``checkpoint`` is the signed note, verbatim."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.index < 1 << 64:
            raise ProofReceiptError(f"index {self.index} is outside uint64")
        if len(self.proof) > MAX_PROOF_LENGTH:
            raise ProofReceiptError(f"inclusion proof is longer than {MAX_PROOF_LENGTH} hashes")
        if any(len(h) != HASH_SIZE for h in self.proof):
            raise ProofReceiptError(f"inclusion proof hashes must be {HASH_SIZE} bytes")
        if self.extra is not None and not self.extra:
            # An absent extra line is spelled by omitting it, never as "extra ".
            raise ProofReceiptError("extra data, when present, must not be empty")
        # Structure only: signatures are checked by verify_tlog_proof.
        parse_note(self.checkpoint)

    def encode(self) -> str:
        lines = [TLOG_PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {encode_base64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(encode_base64(h) for h in self.proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint


@dataclass(frozen=True)
class VerifiedTlogProof:
    """A tlog-proof whose checkpoint signatures and inclusion proof both verified."""

    index: int
    checkpoint: Checkpoint
    note: VerifiedNote
    extra: bytes | None


def _next_line(text: str, pos: int) -> tuple[str, int]:
    end = text.find("\n", pos)
    if end < 0:
        raise ProofReceiptError("tlog-proof is truncated before its checkpoint")
    return text[pos:end], end + 1


def parse_tlog_proof(data: str | bytes) -> TlogProof:
    """Parse a tlog-proof strictly (the checkpoint note is parsed, not verified)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofReceiptError("tlog-proof is not valid UTF-8") from None
    else:
        text = data
    line, pos = _next_line(text, 0)
    if line != TLOG_PROOF_HEADER:
        raise ProofReceiptError(f"first line must be {TLOG_PROOF_HEADER!r}")
    line, pos = _next_line(text, pos)
    extra = None
    if line.startswith("extra "):
        extra = decode_base64(line[len("extra ") :], "extra data", ProofReceiptError)
        line, pos = _next_line(text, pos)
    if not line.startswith("index "):
        raise ProofReceiptError("missing 'index' line")
    index = parse_decimal(line[len("index ") :], "index", ProofReceiptError)
    hashes: list[bytes] = []
    while True:
        line, pos = _next_line(text, pos)
        if not line:
            break
        if len(hashes) == MAX_PROOF_LENGTH:
            raise ProofReceiptError(f"inclusion proof is longer than {MAX_PROOF_LENGTH} hashes")
        digest = decode_base64(line, "inclusion proof hash", ProofReceiptError)
        if len(digest) != HASH_SIZE:
            raise ProofReceiptError(f"inclusion proof hash {len(hashes)} is not {HASH_SIZE} bytes")
        hashes.append(digest)
    return TlogProof(index, tuple(hashes), text[pos:], extra)


def make_tlog_proof(
    index: int,
    signed_checkpoint: str,
    get_node: NodeHashFn,
    *,
    extra: bytes | None = None,
) -> str:
    """Build a tlog-proof for entry ``index`` under ``signed_checkpoint``.

    ``get_node`` serves complete-subtree hashes (``MerkleTree.node`` or
    ``TileHashReader.node``). The proof is checked against the checkpoint's
    root before returning, so a tree/checkpoint mismatch raises ``ProofError``.
    """
    checkpoint = parse_checkpoint(parse_note(signed_checkpoint).text)
    proof = inclusion_proof(index, checkpoint.size, get_node)
    verify_inclusion(get_node(0, index), index, checkpoint.size, proof, checkpoint.root_hash)
    return TlogProof(index, tuple(proof), signed_checkpoint, extra).encode()


def verify_tlog_proof(
    data: str | bytes | TlogProof,
    entry: bytes,
    verifiers: Iterable[Verifier],
    *,
    origin: str | None = None,
) -> VerifiedTlogProof:
    """Verify a tlog-proof for ``entry``: checkpoint signatures, then the inclusion proof.

    ``verifiers`` are the trusted log (and witness) keys; which signatures a
    policy requires is for the caller to judge from ``result.note.verified``.
    """
    proof = data if isinstance(data, TlogProof) else parse_tlog_proof(data)
    signed = open_checkpoint(proof.checkpoint, verifiers, origin=origin)
    checkpoint = signed.checkpoint
    if proof.index >= checkpoint.size:
        raise ProofError(f"index {proof.index} is outside the checkpoint size {checkpoint.size}")
    verify_inclusion(
        leaf_hash(entry), proof.index, checkpoint.size, proof.proof, checkpoint.root_hash
    )
    return VerifiedTlogProof(proof.index, checkpoint, signed.note, proof.extra)
