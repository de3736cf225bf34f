"""Reading the log as tlog-tiles publishes it: key, checkpoint, tiles, bundles, proofs."""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.errors import NotFound, StoreFault
from healthcode.services.log_tree import StoredTree, TileCache
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store.database import Database
from healthcode.store.log import StoredCheckpoint
from healthcode.tlog import (
    HASH_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    Ed25519Verifier,
    encode_entry_bundle,
    make_tlog_proof,
    parse_tile_path,
)
from healthcode.tlog.proofs import consistency_path, inclusion_path


def halted(at: datetime, reason: str) -> StoreFault:
    """The refusal of what only a new checkpoint would give, once the log has halted."""
    return StoreFault("log.halted", f"halted at {at.isoformat()}: {reason}")


@dataclass(frozen=True)
class CheckpointRef:
    """The checkpoint an answer was computed at, as the ``Healthcode-Checkpoint`` header carries
    it."""

    origin: str
    size: int
    root: bytes

    def header(self) -> str:
        return f"{self.origin} {self.size} {base64.b64encode(self.root).decode()}"


@dataclass(frozen=True)
class EntryHead:
    index: int
    kind: str
    length: int  # bytes
    recorded_at: datetime


class LogReader:
    def __init__(self, db: Database, verifier: Ed25519Verifier, origin: str) -> None:
        self._db = db
        self._tiles = TileCache()
        self._signed = 0  # the largest checkpoint size seen: one never signed is not proved
        self.verifier = verifier
        self.origin = origin

    def vkey(self) -> str:
        return self.verifier.to_vkey()

    def checkpoint_at(self, conn: Connection) -> CheckpointRef | None:
        latest = log_repo.latest_checkpoint(conn)
        return None if latest is None else CheckpointRef(self.origin, latest.size, latest.root)

    def latest(self) -> StoredCheckpoint:
        with self._db.read() as conn:
            latest = log_repo.latest_checkpoint(conn)
        if latest is None:
            raise NotFound("log.not_found", "no checkpoint has been signed yet")
        return latest

    def resource(self, path: str) -> tuple[bytes, bool]:
        """A tile or entry bundle by its tlog-tiles path; also whether it is full (256 wide)."""
        tile = parse_tile_path(path)  # raises TilePathError (a TlogError) on a malformed path
        with self._db.read() as conn:
            latest = log_repo.latest_checkpoint(conn)
            size = latest.size if latest else 0
            start = tile.index * TILE_WIDTH
            level = tile.level * TILE_HEIGHT
            available = size >> level
            if start + tile.width > available:
                raise NotFound("log.not_found", f"{path} is beyond the latest checkpoint")
            # Below a signed size the store holds every entry and hash: one it lacks is lost,
            # and served short it would be cached for good as the tile (a full one immutable).
            lost = StoreFault("log.tile_missing", f"the store lacks part of {path}")
            if tile.entries:
                try:
                    bodies = log_bundles.entries(conn, start, start + tile.width)
                except LookupError:
                    raise lost from None
                if len(bodies) != tile.width:
                    raise lost
                data = encode_entry_bundle(bodies)
            else:
                rows = log_repo.tiles(conn, tile.level, tile.index, tile.index + 1)
                data = rows[0][2][: tile.width * HASH_SIZE] if rows else b""
                if len(data) != tile.width * HASH_SIZE:
                    raise lost
        return data, not tile.is_partial

    def recent(
        self, count: int, before: int | None = None
    ) -> tuple[StoredCheckpoint, list[EntryHead]]:
        """The latest checkpoint and the ``count`` entries it covers before index ``before``
        (none: its size, the newest), newest first."""
        with self._db.read() as conn:
            latest = log_repo.latest_checkpoint(conn)
            if latest is None:
                raise NotFound("log.not_found", "no checkpoint has been signed yet")
            end = latest.size if before is None else min(before, latest.size)
            try:
                heads = log_bundles.entry_heads(conn, max(0, end - count), end)
            except log_bundles.BundleFault as fault:
                raise StoreFault("log.tile_missing", str(fault)) from None
        return latest, [EntryHead(*head) for head in heads]

    def receipt(self, index: int) -> str | None:
        """A tlog-proof for entry ``index`` under the latest checkpoint; None if not yet in one.
        `StoreFault` ``log.halted`` if it never will be: the log signs nothing more."""
        with self._db.read() as conn:
            latest = log_repo.latest_checkpoint(conn)
            if latest is None or index >= latest.size:
                halts = log_repo.halts(conn)
                if halts:
                    raise halted(*halts[0])
                return None
            return make_tlog_proof(index, latest.note, StoredTree(conn, self._tiles).node)

    def halt(self) -> tuple[datetime, str] | None:
        """When the log halted and why (its first halt), or None while it signs."""
        with self._db.read() as conn:
            halts = log_repo.halts(conn)
        return halts[0] if halts else None

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """An RFC 9162 inclusion proof of entry ``index`` in the signed tree of ``size``."""
        outside = "index or size outside the signed log"
        if not 0 <= index < size:
            raise NotFound("log.not_found", outside)
        return self._prove(size, lambda tree: inclusion_path(index, size, tree.range_hash), outside)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        outside = "sizes outside the signed log"
        if not 0 < old_size <= new_size:
            raise NotFound("log.not_found", outside)
        return self._prove(
            new_size, lambda tree: consistency_path(old_size, new_size, tree.range_hash), outside
        )

    def _prove(
        self, size: int, prove: Callable[[StoredTree], list[bytes]], outside: str
    ) -> list[bytes]:
        """``prove`` over the signed tree of ``size``. Signed sizes only grow and stored hashes
        are only appended to, so a size no larger than one seen signed needs no read of the
        checkpoint (a read only for the tiles not kept), and a proof over kept tiles no read
        at all."""
        if size <= self._signed:
            with ExitStack() as opened:
                return prove(StoredTree(lambda: opened.enter_context(self._db.read()), self._tiles))
        with self._db.read() as conn:
            latest = log_repo.latest_checkpoint(conn)
            if latest is None or size > latest.size:
                raise NotFound("log.not_found", outside)
            self._signed = max(self._signed, latest.size)
            return prove(StoredTree(conn, self._tiles))

    def entry(self, index: int) -> bytes:
        with self._db.read() as conn:
            try:
                found = log_bundles.entries(conn, index, index + 1)
            except log_bundles.BundleFault as fault:
                raise StoreFault("log.tile_missing", str(fault)) from None
        if not found:
            raise NotFound("log.not_found", f"no entry {index}")
        return found[0]
