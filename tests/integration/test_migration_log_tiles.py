"""Migration 0014 turns the stored node hashes into hash tiles a row each, with the nodes inside
every full tile, and back; a hash missing before it is missing after it. On SQLite the entries
keep every row when their table is rebuilt around the rowid. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

from alembic import command
from sqlalchemy import text

from healthcode.services.log_tree import StoredTree, stored_frontier
from healthcode.store.database import Database
from healthcode.store.migrate import alembic_config
from healthcode.tlog import MerkleTree, consistency_proof, tile_data, tiles_for_size
from healthcode.tlog.frontier import frontier_root
from tests.synthetic_log import full_tile_nodes

SIZE = (1 << 16) + 300  # full and partial tiles at levels 0 and 1, a partial one at level 2
MISSING = 1000  # a leaf hash deleted before the migration: tile 3 of level 0 ends before it


def _tree() -> MerkleTree:
    return MerkleTree(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(SIZE))


def _hash_rows(tree: MerkleTree) -> set[tuple[int, int, bytes]]:
    return {
        (level, index, tree.node(level, index))
        for level in (0, 8, 16)
        for index in range(SIZE >> level)
        if (level, index) != (0, MISSING)
    }


def _stored_hash_rows(db: Database) -> set[tuple[int, int, bytes]]:
    with db.read() as conn:
        rows = conn.execute(text("SELECT level, idx, hash FROM log_hashes")).all()
    return {(int(level), int(index), bytes(value)) for level, index, value in rows}


def _entries(db: Database) -> list[tuple[int, str, bytes, int]]:
    with db.read() as conn:
        rows = conn.execute(text("SELECT * FROM log_entries ORDER BY idx")).all()
    return [(int(i), kind, bytes(body), int(at)) for i, kind, body, at in rows]


def test_hashes_become_tiles_with_their_nodes_and_back(empty: Database) -> None:
    db = empty
    config = alembic_config(db)
    command.upgrade(config, "0013")
    tree = _tree()
    hash_rows = _hash_rows(tree)
    entries = [(i, "registry", f'{{"n":{i}}}'.encode(), 1_000_000 + i) for i in range(5)]
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO log_hashes (level, idx, hash) VALUES (:l, :i, :h)"),
            [{"l": level, "i": index, "h": value} for level, index, value in hash_rows],
        )
        conn.execute(
            text("INSERT INTO log_entries VALUES (:i, :k, :b, :a)"),
            [{"i": i, "k": k, "b": b, "a": a} for i, k, b, a in entries],
        )

    command.upgrade(config, "0015")  # log_entries becomes log_bundles in 0016
    with db.read() as conn:
        rows = conn.execute(text("SELECT level, idx, hashes, nodes FROM log_tiles")).all()
        stored = {
            (int(level), int(index)): (bytes(h), n and bytes(n)) for level, index, h, n in rows
        }
        frontier = stored_frontier(conn, SIZE)
        proof = consistency_proof(SIZE - 5_000, SIZE, StoredTree(conn).node)
    expected = {}
    for tile in tiles_for_size(SIZE):
        data = tile_data(tree, tile)
        nodes = full_tile_nodes(tree, tile.level, tile.index) if tile.width == 256 else None
        if (tile.level, tile.index) == (0, MISSING // 256):
            data, nodes = data[: (MISSING % 256) * 32], None
        expected[(tile.level, tile.index)] = (data, nodes)
    assert stored == expected
    assert frontier is not None and frontier_root(SIZE, frontier) == tree.root()
    assert proof == tree.consistency_proof(SIZE - 5_000, SIZE)
    assert _entries(db) == entries

    command.downgrade(config, "0013")
    lost = {(0, i) for i in range(MISSING, (MISSING // 256 + 1) * 256)}  # after the gap
    assert _stored_hash_rows(db) == {row for row in hash_rows if row[:2] not in lost}
    assert _entries(db) == entries
    command.upgrade(config, "head")
    with db.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM log_tiles")) == len(expected)
