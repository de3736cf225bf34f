"""Runs a witness as its own process: config file, key file (created once), state file, server."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
import yaml

from healthcode.errors import InputRejected
from healthcode.services.witness import Witness, WitnessedLog
from healthcode.services.witness_app import create_witness_app
from healthcode.services.witness_state import JsonFileWitnessStore, WitnessStateError
from healthcode.tlog import CosignatureSigner, KeyFormatError

__all__ = [
    "WitnessConfig",
    "WitnessConfigError",
    "build_witness",
    "load_or_create_witness_key",
    "load_witness_config",
    "serve_witness",
    "system_clock",
]


class WitnessConfigError(ValueError):
    """The witness configuration or its key file is unusable."""


@dataclass(frozen=True)
class WitnessConfig:
    """``name`` is the witness key name; relative paths are resolved against the config file."""

    name: str
    key_file: Path
    state_file: Path
    logs: tuple[WitnessedLog, ...]


def _text(raw: dict[str, object], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise WitnessConfigError(f"{where}: {key!r} must be a non-empty string")
    return value


def _log(raw: object, where: str) -> WitnessedLog:
    if not isinstance(raw, dict):
        raise WitnessConfigError(f"{where}: each log must be a mapping")
    origin = _text(raw, "origin", where)
    if "vkey" in raw:
        vkeys: object = [raw["vkey"]]
    else:
        vkeys = raw.get("vkeys")
    if not isinstance(vkeys, list) or not vkeys or not all(isinstance(k, str) for k in vkeys):
        raise WitnessConfigError(f"{where}: log {origin!r} needs 'vkey' or a list 'vkeys'")
    try:
        return WitnessedLog.from_vkeys(origin, vkeys)
    except (KeyFormatError, ValueError) as exc:
        raise WitnessConfigError(f"{where}: log {origin!r}: {exc}") from None


def load_witness_config(path: str | Path) -> WitnessConfig:
    """Read a YAML (or JSON) witness config::

    name: witness.example/w1
    key_file: witness.key          # created with a fresh key if absent
    state_file: witness-state.json
    logs:
      - origin: healthcode.example/log
        vkey: healthcode.example/log+1a2b3c4d+AU...
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WitnessConfigError(f"{path}: {exc}") from None
    if not isinstance(raw, dict):
        raise WitnessConfigError(f"{path}: the config must be a mapping")
    where = str(path)
    logs_raw = raw.get("logs")
    if not isinstance(logs_raw, list) or not logs_raw:
        raise WitnessConfigError(f"{where}: 'logs' must be a non-empty list")
    logs = tuple(_log(entry, where) for entry in logs_raw)
    origins = [entry.origin for entry in logs]
    if len(set(origins)) != len(origins):
        raise WitnessConfigError(f"{where}: a log origin is listed twice")
    base = path.parent
    return WitnessConfig(
        name=_text(raw, "name", where),
        key_file=base / _text(raw, "key_file", where),
        state_file=base / _text(raw, "state_file", where),
        logs=logs,
    )


def load_or_create_witness_key(
    path: Path, name: str, random_bytes: Callable[[int], bytes] = os.urandom
) -> CosignatureSigner:
    """Load the witness's ``PRIVATE+KEY+`` file, or create it (mode 0600) with a new key."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        signer = CosignatureSigner(name, random_bytes(32))
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never overwrite a key another process created meanwhile.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(signer.to_skey() + "\n")
        return signer
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessConfigError(f"{path}: {exc}") from None
    try:
        signer = CosignatureSigner.from_skey(text)
    except KeyFormatError as exc:
        raise WitnessConfigError(f"{path}: {exc.message}") from None
    if signer.name != name:
        raise WitnessConfigError(f"{path}: the key is for {signer.name!r}, not {name!r}")
    return signer


def system_clock() -> int:
    """The real POSIX time in seconds: the one clock a served witness cosigns with."""
    return int(time.time())


def build_witness(config: WitnessConfig, clock: Callable[[], int]) -> Witness:
    signer = load_or_create_witness_key(config.key_file, config.name)
    return Witness(signer, config.logs, JsonFileWitnessStore(config.state_file), clock)


def serve_witness(config_path: str | Path, host: str = "127.0.0.1", port: int = 8100) -> None:
    """Serve the configured witness until interrupted (the ``healthcode witness`` command).

    A config or state file it cannot use is refused with a catalogue code, for the command
    to print, rather than a traceback."""
    try:
        witness = build_witness(load_witness_config(config_path), system_clock)
    except WitnessConfigError as exc:
        raise InputRejected("witness.config_invalid", str(exc)) from None
    except WitnessStateError as exc:
        raise InputRejected("witness.state_invalid", str(exc)) from None
    print(f"witness {witness.name} key {witness.vkey}", flush=True)
    uvicorn.run(create_witness_app(witness), host=host, port=port)
