"""Synthetic log entries for the log's tests: appended as the services append, and the tree
the stored entries make, computed independently of the stored hashes."""

from __future__ import annotations

from healthcode.services import transparency
from healthcode.store import log as log_repo
from healthcode.tlog import MerkleTree, leaf_hash
from tests.town import Town


def append_entries(town: Town, count: int) -> None:
    """Append ``count`` small ``registry`` entries in one write transaction."""
    with town.services.db.write() as conn:
        transparency.append(
            conn,
            [("registry", lambda i: f'{{"synthetic":{i}}}'.encode()) for _ in range(count)],
            town.clock.now(),
        )


def stored_tree(town: Town) -> MerkleTree:
    """The tree of every stored entry, from the entries themselves."""
    with town.services.db.read() as conn:
        bodies = log_repo.entries(conn, 0, log_repo.next_index(conn))
    return MerkleTree([leaf_hash(body) for body in bodies])
