"""The sequencer: integrates committed entries into the tree and signs a new checkpoint.

It runs on a short period in the server, and on demand (``healthcode log sequence``). A run
reads the new entries and hashes them from one snapshot of the store, while writers go on
appending, and takes the store's single write lock only to store the tiles and the checkpoint,
if the checkpoint it grew from is still the latest: two runs never sign over each other, and
the writers wait for the sequencer only while it writes. It refuses to sign anything once the
log has halted: by the self-check, or by the sequencer itself when the stored tree it would
grow is not the one signed (a hash missing, a partial tile's row longer or shorter than it, a
row already there for a tile it would make) or an entry is missing.
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
from healthcode.store.log import StoredCheckpoint, TileGrowth, TileMismatch
from healthcode.tlog import HASH_SIZE, Checkpoint, Ed25519Signer, sign_checkpoint
from healthcode.tlog.frontier import frontier_root

MAX_BATCH = 50_000  # entries integrated per transaction, to bound a catch-up's lock time


@dataclass(frozen=True)
class _Edge:
    """The tree's frontier at a signed checkpoint (size, root): all that growing it needs."""

    size: int
    root: bytes
    frontier: dict[int, bytes]


@dataclass(frozen=True)
class _Grown:
    """A run's tree, grown in a snapshot from the checkpoint ``grown_from`` (its size and root;
    None before the first): the entries [size, end), the tiles they add, the new frontier."""

    grown_from: tuple[int, bytes] | None
    end: int
    rows: list[TileGrowth]
    frontier: dict[int, bytes]
    root: bytes
    capped: bool  # more entries were committed than a run integrates (`MAX_BATCH`)

    @property
    def size(self) -> int:
        return self.grown_from[0] if self.grown_from else 0


@dataclass(frozen=True)
class _Halt:
    """A run's snapshot showing the stored tree or entries not the ones signed at
    ``grown_from``: why the log halts."""

    grown_from: tuple[int, bytes] | None
    problem: str


def _signed(checkpoint: StoredCheckpoint | None) -> tuple[int, bytes] | None:
    return None if checkpoint is None else (checkpoint.size, checkpoint.root)


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
        """Sign a checkpoint over every entry committed before the run began; None if nothing
        new or halted.

        A run reads the new entries and grows the tree from one snapshot of the store, while
        writers go on appending, and takes the write lock only to store the tiles it grew and
        the checkpoint it signs, if the checkpoint it grew from is still the latest (another
        run may have signed in between: then it reads again). Entries committed meanwhile are
        the next run's: a run that chased them would, under a steady load, not end. What it
        finds wrong in the snapshot halts the log under the lock, on the same condition."""
        signed: StoredCheckpoint | None = None
        while True:
            with self._db.snapshot() as conn:
                run = self._read(conn)
            if run is None:
                return signed
            try:
                with self._db.write() as conn:
                    if log_repo.halts(conn):
                        return signed
                    if _signed(log_repo.latest_checkpoint(conn)) != run.grown_from:
                        continue  # another run signed since the snapshot: read again
                    if isinstance(run, _Halt):
                        self._halt(conn, now, run.problem)
                        return signed
                    log_repo.put_tiles(conn, run.size, run.rows)
                    note = sign_checkpoint(
                        Checkpoint(self.origin, run.end, run.root), [self.signer]
                    )
                    crashpoints.reach("sequencer.signing")
                    signed = StoredCheckpoint(run.end, run.root, note, now)
                    log_repo.insert_checkpoint(conn, signed)
            except TileMismatch as mismatch:  # from storing the tiles: a row already there
                # The run rolled back; growing the tree over that row would store tiles that
                # are not the tree's (or fail on the key of a row no run wrote), and failing
                # every period would say nothing.
                self._edge = None
                with self._db.write() as conn:
                    log_repo.halt(conn, now, str(mismatch))
                return signed
            # Committed: the next run grows from it.
            self._edge = _Edge(run.end, run.root, run.frontier)
            if not run.capped:
                return signed

    def _read(self, conn: Connection) -> _Grown | _Halt | None:
        """What a run reads from one snapshot: the tree grown over the entries committed
        since the latest checkpoint (at most `MAX_BATCH`), or the problem that halts the log;
        None if there is nothing new or the log has halted."""
        if log_repo.halts(conn):
            return None
        latest = log_repo.latest_checkpoint(conn)
        grown_from = _signed(latest)
        size = latest.size if latest else 0
        try:
            stored_end = log_bundles.next_index(conn)
        except log_bundles.BundleFault as fewer:  # than the signed tree
            return _Halt(grown_from, str(fewer))
        end = min(stored_end, size + MAX_BATCH)
        if latest is not None and end == size:
            return None
        try:
            edge = self._edge_at(conn, latest)
        except TileMismatch as mismatch:
            return _Halt(grown_from, str(mismatch))
        if isinstance(edge, str):
            return _Halt(grown_from, edge)
        leaves = self._leaves(conn, size, end)
        if isinstance(leaves, str):
            return _Halt(grown_from, leaves)
        rows, frontier = grow(size, edge.frontier, leaves)
        root = frontier_root(end, frontier)
        return _Grown(grown_from, end, rows, frontier, root, capped=end < stored_end)

    def _leaves(self, conn: Connection, size: int, end: int) -> bytes | str:
        """The leaf hashes of the entries [size, end) that this run integrates, or why the log
        must halt if one of them is missing or malformed: a checkpoint over what is left
        would not extend the signed tree, or would sign entries at indices they do not have."""
        try:
            leaves = stored_leaves(conn, size, end)
        except LookupError as missing:  # a gap, or a `BundleFault`
            return str(missing)
        found = size + len(leaves) // HASH_SIZE
        if found == end:
            return leaves
        return f"entries {found} to {end - 1} are missing"

    def _halt(self, conn: Connection, now: datetime, problem: str) -> None:
        """Halt the log, inside this run's transaction: nothing more is signed."""
        self._edge = None
        log_repo.halt(conn, now, problem)

    def _edge_at(self, conn: Connection, latest: StoredCheckpoint | None) -> _Edge | str:
        """The edge at ``latest``, or why the log must halt if a hash of the stored tree's
        frontier is missing or it does not recompute to the root signed for it: growing it
        would sign a fork, and failing every period would say nothing. `TileMismatch` if a
        partial tile's row holds more than the tree's hashes (it halts the log too)."""
        if latest is None:
            return _Edge(0, b"", {})
        kept = self._edge
        if kept is not None and (kept.size, kept.root) == (latest.size, latest.root):
            return kept
        frontier = stored_frontier(conn, latest.size)
        if frontier is None:
            return f"a stored hash of the tree at checkpoint {latest.size} is missing"
        if frontier_root(latest.size, frontier) != latest.root:
            return f"the stored tree does not recompute to checkpoint {latest.size}"
        return _Edge(latest.size, latest.root, frontier)
