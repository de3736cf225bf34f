"""The monitor's local state file: the last verified signed checkpoint and its tile frontier."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from healthcode.services.monitor_errors import MonitorError
from healthcode.tlog import (
    HASH_SIZE,
    Checkpoint,
    Ed25519Verifier,
    TlogError,
    open_checkpoint,
)
from healthcode.tlog.encoding import decode_base64, encode_base64
from healthcode.tlog.frontier import frontier_root, frontier_widths

__all__ = ["STATE_VERSION", "MonitorState", "check_writable", "load_state", "save_state"]

STATE_VERSION = 1


@dataclass(frozen=True)
class MonitorState:
    """What a monitor trusts after a successful run.

    ``checkpoint`` is the signed note exactly as served, so the file is also evidence: it
    verifies on its own under ``vkey``. ``frontier`` maps each tile level to the contents
    of the tree's partial tile there, which is all a later run needs to resume.
    """

    base_url: str
    vkey: str
    checkpoint: str
    frontier: dict[int, bytes]
    parsed: Checkpoint

    def to_json(self) -> dict[str, object]:
        return {
            "version": STATE_VERSION,
            "base_url": self.base_url,
            "vkey": self.vkey,
            "checkpoint": self.checkpoint,
            "frontier": {str(level): encode_base64(h) for level, h in self.frontier.items()},
        }


def _bad(path: Path, why: str) -> MonitorError:
    return MonitorError("monitor.state_invalid", f"{path}: {why}")


def _field(raw: dict[str, object], name: str, path: Path) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise _bad(path, f"{name!r} must be a string")
    return value


def _frontier(raw: object, size: int, path: Path) -> dict[int, bytes]:
    if not isinstance(raw, dict):
        raise _bad(path, "'frontier' must be an object")
    widths = frontier_widths(size)
    if sorted(raw) != sorted(str(level) for level in widths):
        raise _bad(path, f"frontier levels {sorted(raw)} do not fit a tree of size {size}")
    frontier: dict[int, bytes] = {}
    for level, width in widths.items():
        text = raw[str(level)]
        if not isinstance(text, str):
            raise _bad(path, f"frontier level {level} must be a base64 string")
        try:
            hashes = decode_base64(text, f"frontier level {level}", TlogError)
        except TlogError as exc:
            raise _bad(path, exc.message) from None
        if len(hashes) != width * HASH_SIZE:
            raise _bad(path, f"frontier level {level} must hold {width} hashes")
        frontier[level] = hashes
    return frontier


def load_state(path: Path) -> MonitorState | None:
    """Read and re-verify the state file; ``None`` if it does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, f"cannot be read: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"is not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        raise _bad(path, f"is not a version {STATE_VERSION} monitor state object")
    vkey = _field(raw, "vkey", path)
    note = _field(raw, "checkpoint", path)
    # Re-verify rather than trust the file: a corrupted or edited state must not become
    # the baseline that later checkpoints are judged against.
    try:
        signed = open_checkpoint(note, [Ed25519Verifier.from_vkey(vkey)])
    except TlogError as exc:
        raise _bad(path, f"stored checkpoint does not verify: {exc.message}") from None
    checkpoint = signed.checkpoint
    frontier = _frontier(raw.get("frontier"), checkpoint.size, path)
    if frontier_root(checkpoint.size, frontier) != checkpoint.root_hash:
        raise _bad(path, "stored frontier does not hash to the stored checkpoint's root")
    return MonitorState(_field(raw, "base_url", path), vkey, note, frontier, checkpoint)


def check_writable(path: Path) -> None:
    """Refuse a state file that could not be saved, before any of the work it would record:
    its folder is made if missing, and a temporary file is created and removed in it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    if path.is_dir():
        raise MonitorError("monitor.state_unwritable", f"state file {path} is a directory")


def _unwritable(path: Path, exc: OSError) -> MonitorError:
    return MonitorError(
        "monitor.state_unwritable", f"state file {path} cannot be written: {exc.strerror or exc}"
    )


def save_state(path: Path, state: MonitorState) -> None:
    """Replace the state file atomically, so a crash leaves the old or the new one, whole."""
    data = json.dumps(state.to_json(), indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _unwritable(path, exc) from None
        raise
