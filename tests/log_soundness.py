"""Whether the signed log is sound after a fault or a race: no fork, no gap, no loss; and the
write that gives it entries."""

from __future__ import annotations

from sqlalchemy import select

from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.tlog import MerkleTree, leaf_hash, verify_consistency
from tests.town import Town


def write_some(town: Town, name: str) -> None:
    """A write that appends log entries: a positive test of a new person."""
    town.test(town.person(name), town.clock.now(), "positive")


def halts(town: Town) -> list[str]:
    """Why the log halted, if it did."""
    with town.services.db.read() as conn:
        return [reason for _, reason in log_repo.halts(conn)]


def checkpoints(town: Town) -> dict[int, bytes]:
    """Every signed checkpoint's root, by size (its key: a size is signed once)."""
    with town.services.db.read() as conn:
        rows = conn.execute(select(t.log_checkpoints.c.size, t.log_checkpoints.c.root)).all()
    return {int(size): bytes(root) for size, root in rows}


def assert_sound(town: Town, before: dict[int, bytes]) -> None:
    """Every earlier checkpoint is kept and consistent with the latest, whose root is the tree
    of every stored entry; the self-check agrees."""
    after = checkpoints(town)
    assert {size: after.get(size) for size in before} == before
    with town.services.db.read() as conn:
        bodies = log_bundles.entries(conn, 0, log_bundles.next_index(conn))
    tree = MerkleTree([leaf_hash(body) for body in bodies])
    latest = max(after)
    assert latest == tree.size and after[latest] == tree.root()
    for size, root in after.items():
        if 0 < size < latest:
            proof = tree.consistency_proof(size, latest)
            verify_consistency(size, latest, proof, root, after[latest])
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok
