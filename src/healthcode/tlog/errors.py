"""Exception tree for the transparency-log package (RFC 9162 and the C2SP tlog specs).

Every error carries a stable machine-readable ``code`` so callers (HTTP handlers,
CLIs, audit records) can branch on it without parsing messages.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BundleError",
    "CheckpointError",
    "CosignatureError",
    "KeyFormatError",
    "NoteError",
    "NoteSignatureError",
    "NoteUnverifiedError",
    "ProofError",
    "ProofReceiptError",
    "TileError",
    "TilePathError",
    "TlogError",
    "TreeRangeError",
]


class TlogError(Exception):
    """Base class of every error raised by ``healthcode.tlog``."""

    code: ClassVar[str] = "tlog.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ProofError(TlogError):
    """An inclusion or consistency proof failed to verify or is malformed."""

    code = "tlog.proof_invalid"


class TreeRangeError(TlogError):
    """An index or tree size is outside the tree (or outside uint64)."""

    code = "tlog.out_of_range"


class KeyFormatError(TlogError):
    """A signer or verifier key string, key name, or key material is malformed."""

    code = "tlog.key_invalid"


class NoteError(TlogError):
    """A signed note is syntactically malformed or cannot be produced."""

    code = "tlog.note_malformed"


class NoteSignatureError(NoteError):
    """A signature from a known key failed to verify; the whole note is rejected."""

    code = "tlog.note_signature_invalid"


class NoteUnverifiedError(NoteError):
    """No signature from a known key is present on the note."""

    code = "tlog.note_unverified"


class CheckpointError(TlogError):
    """A checkpoint body is malformed or does not match what was expected."""

    code = "tlog.checkpoint_invalid"


class CosignatureError(TlogError):
    """A cosignature is malformed or its timestamp is out of range."""

    code = "tlog.cosignature_invalid"


class TilePathError(TlogError):
    """A tile or entry-bundle path is not in canonical tlog-tiles form."""

    code = "tlog.tile_path_invalid"


class TileError(TlogError):
    """Tile contents have the wrong length, or a needed tile is missing."""

    code = "tlog.tile_invalid"


class BundleError(TlogError):
    """An entry bundle is truncated, oversized, or has the wrong entry count."""

    code = "tlog.bundle_invalid"


class ProofReceiptError(TlogError):
    """A c2sp.org/tlog-proof text is malformed."""

    code = "tlog.receipt_malformed"
