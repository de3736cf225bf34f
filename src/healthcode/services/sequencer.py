"""The sequencer: integrates committed entries into the tree and signs a new checkpoint.

It runs under the store's single write lock (so it never races a writer) on a short period in
the server, and on demand (``healthcode log sequence``). It refuses to sign anything once the
log has halted: by the self-check, or by the sequencer itself when the stored tree it would
grow is not the one signed (a hash missing, a partial tile's row longer or shorter than it, a
row already there for a tile it would make).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.services import crashpoints
from healthcode.services.log_tree import grow, stored_frontier, stored_leaves
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store.database import Database
from healthcode.store.log import StoredCheckpoint, TileMismatch
from healthcode.tlog import HASH_SIZE, Checkpoint, Ed25519Signer, sign_checkpoint
from healthcode.tlog.frontier import frontier_root

MAX_BATCH = 50_000  # entries integrated per transaction, to bound a catch-up's lock time


@dataclass(frozen=True)
class _Edge:
    """The tree's frontier at a signed checkpoint (size, root): all that growing it needs."""

    size: int
    root: bytes
    frontier: dict[int, bytes]


class Sequencer:
    def __init__(self, db: Database, signer: Ed25519Signer, origin: str) -> None:
        self._db = db
        self.signer = signer
        self.origin = origin
        # The edge at the last checkpoint this sequencer committed, so that a run reads no
        # stored hash. It is used only while that checkpoint is still the latest; after a
        # restart, another process's run or a transaction that failed, it is read again.
        self._edge: _Edge | None = None

    def integrate(self, *, now: datetime) -> StoredCheckpoint | None:
        """Sign a checkpoint over every committed entry; None if nothing new or halted."""
        signed: StoredCheckpoint | None = None
        while True:
            try:
                with self._db.write() as conn:
                    if log_repo.halts(conn):
                        return signed
                    latest = log_repo.latest_checkpoint(conn)
                    size = latest.size if latest else 0
                    try:
                        end = min(log_bundles.next_index(conn), size + MAX_BATCH)
                    except log_bundles.BundleFault as fewer:  # than the signed tree
                        self._halt(conn, now, str(fewer))
                        return signed
                    if latest is not None and end == size:
                        return signed
                    edge = self._edge_at(conn, latest, now)
                    if edge is None:
                        return signed
                    leaves = self._leaves(conn, size, end, now)
                    if leaves is None:
                        return signed
                    rows, frontier = grow(size, edge.frontier, leaves)
                    log_repo.put_tiles(conn, size, rows)
                    root = frontier_root(end, frontier)
                    note = sign_checkpoint(Checkpoint(self.origin, end, root), [self.signer])
                    crashpoints.reach("sequencer.signing")
                    signed = StoredCheckpoint(end, root, note, now)
                    log_repo.insert_checkpoint(conn, signed)
                    caught_up = end == log_bundles.next_index(conn)
            except TileMismatch as mismatch:
                # The run rolled back; growing the tree over that row would store tiles that
                # are not the tree's (or fail on the key of a row no run wrote), and failing
                # every period would say nothing.
                self._edge = None
                with self._db.write() as conn:
                    log_repo.halt(conn, now, str(mismatch))
                return signed
            self._edge = _Edge(end, root, frontier)  # committed: the next run grows from it
            if caught_up:
                return signed

    def _leaves(self, conn: Connection, size: int, end: int, now: datetime) -> bytes | None:
        """The leaf hashes of the entries [size, end) that this run integrates; None, having
        halted the log, if one of them is missing or malformed: a checkpoint over what is left
        would not extend the signed tree, or would sign entries at indices they do not have."""
        try:
            leaves = stored_leaves(conn, size, end)
        except LookupError as missing:  # a gap, or a `BundleFault`
            problem = str(missing)
        else:
            found = size + len(leaves) // HASH_SIZE
            if found == end:
                return leaves
            problem = f"entries {found} to {end - 1} are missing"
        self._halt(conn, now, problem)
        return None

    def _halt(self, conn: Connection, now: datetime, problem: str) -> None:
        """Halt the log, inside this run's transaction: nothing more is signed."""
        self._edge = None
        log_repo.halt(conn, now, problem)

    def _edge_at(
        self, conn: Connection, latest: StoredCheckpoint | None, now: datetime
    ) -> _Edge | None:
        """The edge at ``latest``; None, having halted the log, if a hash of the stored tree's
        frontier is missing or it does not recompute to the root signed for it: growing it
        would sign a fork, and failing every period would say nothing. `TileMismatch` if a
        partial tile's row holds more than the tree's hashes."""
        if latest is None:
            return _Edge(0, b"", {})
        kept = self._edge
        if kept is not None and (kept.size, kept.root) == (latest.size, latest.root):
            return kept
        frontier = stored_frontier(conn, latest.size)
        if frontier is None:
            problem = f"a stored hash of the tree at checkpoint {latest.size} is missing"
        elif frontier_root(latest.size, frontier) != latest.root:
            problem = f"the stored tree does not recompute to checkpoint {latest.size}"
        else:
            return _Edge(latest.size, latest.root, frontier)
        self._halt(conn, now, problem)
        return None
