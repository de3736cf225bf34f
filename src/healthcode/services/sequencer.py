"""The sequencer: integrates committed entries into the tree and signs a new checkpoint.

It runs under the store's single write lock (so it never races a writer) on a short period in
the server, and on demand (``healthcode log sequence``). It refuses to sign anything once the
self-check has halted the log.
"""

from __future__ import annotations

from datetime import datetime

from healthcode.services import crashpoints
from healthcode.services.log_tree import StoredTree, integrate
from healthcode.store import log as log_repo
from healthcode.store.database import Database
from healthcode.store.log import StoredCheckpoint
from healthcode.tlog import Checkpoint, Ed25519Signer, leaf_hash, sign_checkpoint, subtree_root
from healthcode.tlog.hashing import EMPTY_ROOT

MAX_BATCH = 50_000  # entries integrated per transaction, to bound a catch-up's lock time


class Sequencer:
    def __init__(self, db: Database, signer: Ed25519Signer, origin: str) -> None:
        self._db = db
        self.signer = signer
        self.origin = origin

    def integrate(self, *, now: datetime) -> StoredCheckpoint | None:
        """Sign a checkpoint over every committed entry; None if nothing new or halted."""
        signed: StoredCheckpoint | None = None
        while True:
            with self._db.write() as conn:
                if log_repo.halts(conn):
                    return signed
                latest = log_repo.latest_checkpoint(conn)
                size = latest.size if latest else 0
                end = min(log_repo.next_index(conn), size + MAX_BATCH)
                if latest is not None and end == size:
                    return signed
                leaves = [leaf_hash(body) for body in log_repo.entries(conn, size, end)]
                integrate(conn, size, leaves)
                root = subtree_root(end, StoredTree(conn).node) if end else EMPTY_ROOT
                note = sign_checkpoint(Checkpoint(self.origin, end, root), [self.signer])
                crashpoints.reach("sequencer.signing")
                signed = StoredCheckpoint(end, root, note, now)
                log_repo.insert_checkpoint(conn, signed)
                if end == log_repo.next_index(conn):
                    return signed
