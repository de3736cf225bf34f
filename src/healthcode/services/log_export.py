"""Exporting the log as static files laid out exactly as the tlog-tiles URLs, for any static
file server or object store: ``checkpoint``, ``key``, ``tile/<L>/<N>[.p/<W>]`` and
``tile/entries/<N>[.p/<W>]``, each byte for byte what ``GET /log/<path>`` serves.

Incremental: only the resources new since the checkpoint already in the directory are made,
and a full tile or bundle already there is never rewritten (its bytes can never change).
Partial tiles superseded by a full one are kept — tlog-tiles allows either — so a reader
still holding an older checkpoint finds every path it names. Every file is written to a
temporary name and renamed, and the checkpoint goes last, so a reader never sees a checkpoint
whose tiles are missing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from healthcode.errors import InputRejected
from healthcode.services.log_reader import LogReader
from healthcode.tlog import (
    Checkpoint,
    ProofError,
    TlogError,
    entry_bundles_for_size,
    open_checkpoint,
    tiles_for_size,
    verify_consistency,
)

__all__ = ["ExportReport", "export_log"]


@dataclass(frozen=True)
class ExportReport:
    size: int
    previous_size: int | None  # the checkpoint the directory held before, None if none
    written: int  # tiles and bundles written
    kept: int  # tiles and bundles already there, unchanged
    checkpoint_written: bool


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` under a temporary name beside ``path`` and rename it into place, so a
    reader sees the old file or the new one, whole; fsync first, so the rename never lands
    before the bytes do and the checkpoint written last is never durable before its tiles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private; these files are public, for a web server to read.
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _previous(log: LogReader, directory: Path, latest: Checkpoint) -> Checkpoint | None:
    """The checkpoint already exported, if any, once proven a prefix of the log now; else the
    directory belongs to another log (or this one forked) and nothing may be added to it."""
    raw = _read(directory / "checkpoint")
    if raw is None:
        return None
    try:
        old = open_checkpoint(raw.decode("utf-8"), [log.verifier], origin=log.origin).checkpoint
    except (TlogError, UnicodeDecodeError) as error:
        why = error.message if isinstance(error, TlogError) else "it is not UTF-8"
        raise InputRejected(
            "log.export_conflict", f"{directory}/checkpoint does not verify: {why}"
        ) from None
    if old.size > latest.size:
        raise InputRejected(
            "log.export_conflict",
            f"{directory}/checkpoint is of size {old.size}, beyond the log's {latest.size}",
        )
    if old.size == 0:
        proven = True
    elif old.size == latest.size:
        proven = old.root_hash == latest.root_hash
    else:
        proof = log.consistency(old.size, latest.size)
        try:
            verify_consistency(old.size, latest.size, proof, old.root_hash, latest.root_hash)
            proven = True
        except ProofError:
            proven = False
    if not proven:
        raise InputRejected(
            "log.export_conflict",
            f"{directory}/checkpoint (size {old.size}) is not a prefix of the log",
        )
    return old


def export_log(log: LogReader, directory: Path) -> ExportReport:
    """Export the latest signed checkpoint and every resource it needs into ``directory``."""
    stored = log.latest()  # log.not_found if nothing has been signed yet
    try:
        signed = open_checkpoint(stored.note, [log.verifier], origin=log.origin)
    except TlogError as error:
        raise InputRejected("log.export_key_mismatch", error.message) from None
    latest = signed.checkpoint
    previous = _previous(log, directory, latest)
    since = 0 if previous is None else previous.size
    resources = chain(
        tiles_for_size(latest.size, since), entry_bundles_for_size(latest.size, since)
    )
    written = kept = 0
    for resource in resources:
        path = directory / resource.path()
        if not resource.is_partial and path.exists():
            kept += 1  # a full tile or bundle never changes: written whole by an earlier run
            continue
        data, _immutable = log.resource(resource.path())
        if _read(path) == data:
            kept += 1
            continue
        _write_atomically(path, data)
        written += 1
    key = (log.vkey() + "\n").encode()  # as GET /log/key serves it
    if _read(directory / "key") != key:
        _write_atomically(directory / "key", key)
    note = stored.note.encode()  # as GET /log/checkpoint serves it, cosignatures included
    changed = _read(directory / "checkpoint") != note
    if changed:
        _write_atomically(directory / "checkpoint", note)
    return ExportReport(
        size=latest.size,
        previous_size=None if previous is None else previous.size,
        written=written,
        kept=kept,
        checkpoint_written=changed,
    )
