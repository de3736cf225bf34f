"""A witness's persistent state: the latest cosigned checkpoint per log and split-view reports."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from healthcode.tlog import HASH_SIZE, TlogError
from healthcode.tlog.encoding import decode_base64, encode_base64

__all__ = [
    "STATE_VERSION",
    "CosignedHead",
    "JsonFileWitnessStore",
    "MemoryWitnessStore",
    "SplitView",
    "WitnessState",
    "WitnessStateError",
    "WitnessStore",
]

STATE_VERSION = 1


class WitnessStateError(Exception):
    """The state file is unreadable or malformed; the witness must not start from it."""


@dataclass(frozen=True)
class CosignedHead:
    """The latest checkpoint the witness cosigned for one log, kept as the signed note too."""

    size: int
    root_hash: bytes
    checkpoint: str
    cosigned_at: int


@dataclass(frozen=True)
class SplitView:
    """Two checkpoints of one size with different roots, both validly signed by the log."""

    origin: str
    size: int
    cosigned_root: bytes
    presented_root: bytes
    cosigned_checkpoint: str
    presented_checkpoint: str
    detected_at: int


@dataclass(frozen=True)
class WitnessState:
    logs: dict[str, CosignedHead] = field(default_factory=dict)
    split_views: tuple[SplitView, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "version": STATE_VERSION,
            "logs": {
                origin: {
                    "size": head.size,
                    "root_hash": encode_base64(head.root_hash),
                    "checkpoint": head.checkpoint,
                    "cosigned_at": head.cosigned_at,
                }
                for origin, head in sorted(self.logs.items())
            },
            "split_views": [
                {
                    "origin": view.origin,
                    "size": view.size,
                    "cosigned_root": encode_base64(view.cosigned_root),
                    "presented_root": encode_base64(view.presented_root),
                    "cosigned_checkpoint": view.cosigned_checkpoint,
                    "presented_checkpoint": view.presented_checkpoint,
                    "detected_at": view.detected_at,
                }
                for view in self.split_views
            ],
        }

    @classmethod
    def from_json(cls, raw: object) -> WitnessState:
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            raise WitnessStateError(f"not a version {STATE_VERSION} witness state object")
        logs_raw, views_raw = raw.get("logs"), raw.get("split_views")
        if not isinstance(logs_raw, dict) or not isinstance(views_raw, list):
            raise WitnessStateError("'logs' must be an object and 'split_views' a list")
        logs = {}
        for origin, head in logs_raw.items():
            logs[origin] = CosignedHead(
                _int(head, "size"),
                _hash(head, "root_hash"),
                _str(head, "checkpoint"),
                _int(head, "cosigned_at"),
            )
        views = tuple(
            SplitView(
                _str(view, "origin"),
                _int(view, "size"),
                _hash(view, "cosigned_root"),
                _hash(view, "presented_root"),
                _str(view, "cosigned_checkpoint"),
                _str(view, "presented_checkpoint"),
                _int(view, "detected_at"),
            )
            for view in views_raw
        )
        return cls(logs, views)


def _get(obj: object, key: str) -> object:
    if not isinstance(obj, dict) or key not in obj:
        raise WitnessStateError(f"missing field {key!r}")
    return obj[key]


def _int(obj: object, key: str) -> int:
    value = _get(obj, key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WitnessStateError(f"{key!r} must be a non-negative integer")
    return value


def _str(obj: object, key: str) -> str:
    value = _get(obj, key)
    if not isinstance(value, str):
        raise WitnessStateError(f"{key!r} must be a string")
    return value


def _hash(obj: object, key: str) -> bytes:
    try:
        value = decode_base64(_str(obj, key), key, TlogError)
    except TlogError as exc:
        raise WitnessStateError(exc.message) from None
    if len(value) != HASH_SIZE:
        raise WitnessStateError(f"{key!r} must be a {HASH_SIZE}-byte hash")
    return value


class WitnessStore(Protocol):
    """Where a witness keeps its state; ``save`` must be durable before it returns."""

    def load(self) -> WitnessState: ...

    def save(self, state: WitnessState) -> None: ...


class MemoryWitnessStore:
    """State kept in memory only: for tests and throwaway witnesses."""

    def __init__(self, state: WitnessState | None = None) -> None:
        self._state = state or WitnessState()
        self.saves = 0

    def load(self) -> WitnessState:
        return self._state

    def save(self, state: WitnessState) -> None:
        self._state = state
        self.saves += 1


class JsonFileWitnessStore:
    """State in one JSON file, replaced atomically on every save."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self) -> WitnessState:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return WitnessState()
        except (OSError, UnicodeDecodeError) as exc:
            raise WitnessStateError(f"{self.path}: cannot be read: {exc}") from None
        try:
            return WitnessState.from_json(json.loads(text))
        except (json.JSONDecodeError, WitnessStateError) as exc:
            raise WitnessStateError(f"{self.path}: {exc}") from None

    def save(self, state: WitnessState) -> None:
        data = json.dumps(state.to_json(), indent=2, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
