"""Synthetic log entries for the log's tests: appended as the services append, and the tree
the stored entries make, computed independently of the stored hashes; and the stored tile
rows read and changed behind the services' back, as a fault or an attacker would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from healthcode.services import transparency
from healthcode.services.sequencer import Sequencer
from healthcode.store import log_bundles
from healthcode.store import tables as t
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
        bodies = log_bundles.entries(conn, 0, log_bundles.next_index(conn))
    return MerkleTree([leaf_hash(body) for body in bodies])


def full_tile_nodes(tree: MerkleTree, level: int, index: int) -> bytes:
    """The 255 nodes inside full tile ``index`` of tile level ``level``, as stored with it:
    heights 1 to 8 within the tile, each left to right, lowest first."""
    return b"".join(
        b"".join(tree.level_hashes(8 * level + h, index << (8 - h), (index + 1) << (8 - h)))
        for h in range(1, 9)
    )


def restarted_sequencer(town: Town) -> Sequencer:
    """A sequencer as after a restart: the same key and origin, nothing kept in memory."""
    sequencer = town.services.sequencer
    return Sequencer(town.services.db, sequencer.signer, sequencer.origin)


def _row(level: int, index: int) -> Any:
    return (t.log_tiles.c.level == level) & (t.log_tiles.c.idx == index)


def tile_hashes(town: Town, level: int, index: int) -> bytes | None:
    """The hashes stored in the row of tile ``index`` of tile level ``level``; None if none."""
    with town.services.db.read() as conn:
        found = conn.scalar(select(t.log_tiles.c.hashes).where(_row(level, index)))
    return None if found is None else bytes(found)


def set_tile_hashes(town: Town, level: int, index: int, hashes: bytes | None) -> None:
    """Overwrite the hashes of that tile's row; None deletes the row."""
    with town.services.db.write() as conn:
        if hashes is None:
            conn.execute(delete(t.log_tiles).where(_row(level, index)))
        else:
            conn.execute(update(t.log_tiles).where(_row(level, index)).values(hashes=hashes))


def insert_tile_row(town: Town, level: int, index: int, hashes: bytes) -> None:
    """Store a row for tile ``index`` of tile level ``level`` that the sequencer did not write."""
    with town.services.db.write() as conn:
        conn.execute(t.log_tiles.insert().values(level=level, idx=index, hashes=hashes))
