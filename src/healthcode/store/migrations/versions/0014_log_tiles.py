"""the log's hash tiles a row each; log entries keyed by the rowid on SQLite

``log_hashes`` (a row a node hash at tree levels 0, 8, 16, ...) becomes ``log_tiles``: a row a
tlog-tiles hash tile, its hashes concatenated, and for a full tile the 255 nodes inside it, so
that a proof reads one row a tile and hashes nothing (docs/transparency-log.md). Each tile is
made from the stored hashes from its first up to the first one missing, if any: a hash that was
missing stays missing, and the self-check still reports it. Downgrading splits the tiles into
hash rows again (the nodes inside them, which those rows never held, are dropped).

On SQLite ``log_entries.idx`` becomes an INTEGER key, the rowid itself: the table was a b-tree
of rows and another of the key, and every append wrote both. PostgreSQL keeps its BIGINT.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from healthcode.tlog import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH
from healthcode.tlog.frontier import split_hashes
from healthcode.tlog.tiles import perfect_layers

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TILES_AT_ONCE = 256  # tiles converted per read: 65,536 hashes, a few MB, whatever the log


def upgrade() -> None:
    op.create_table(
        "log_tiles",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.Column("nodes", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_tiles")),
    )
    conn = op.get_bind()
    insert = sa.text(
        "INSERT INTO log_tiles (level, idx, hashes, nodes) VALUES (:level, :idx, :hashes, :nodes)"
    )
    for level, rows in _chunks(conn, "log_hashes", "level, idx, hash", TILE_WIDTH):
        tiles: dict[int, list[bytes]] = {}
        for _, index, value in rows:
            hashes = tiles.setdefault(index >> TILE_HEIGHT, [])
            if index % TILE_WIDTH == len(hashes):  # no gap before it
                hashes.append(bytes(value))
        made = [
            {
                "level": level // TILE_HEIGHT,
                "idx": index,
                "hashes": b"".join(hashes),
                "nodes": _nodes(hashes) if len(hashes) == TILE_WIDTH else None,
            }
            for index, hashes in sorted(tiles.items())
            if hashes
        ]
        if made:
            conn.execute(insert, made)
    op.drop_table("log_hashes")
    if conn.dialect.name == "sqlite":
        with op.batch_alter_table("log_entries", recreate="always") as batch:
            batch.alter_column("idx", type_=sa.Integer(), existing_type=sa.BigInteger())


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        with op.batch_alter_table("log_entries", recreate="always") as batch:
            batch.alter_column("idx", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.create_table(
        "log_hashes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_hashes")),
    )
    insert = sa.text("INSERT INTO log_hashes (level, idx, hash) VALUES (:level, :idx, :hash)")
    for level, rows in _chunks(conn, "log_tiles", "level, idx, hashes", 1):
        made = [
            {"level": level * TILE_HEIGHT, "idx": (index << TILE_HEIGHT) + offset, "hash": value}
            for _, index, data in rows
            for offset, value in enumerate(split_hashes(bytes(data)))
            if len(value) == HASH_SIZE
        ]
        if made:
            conn.execute(insert, made)
    op.drop_table("log_tiles")


def _nodes(hashes: list[bytes]) -> bytes:
    return b"".join(b"".join(layer) for layer in perfect_layers(hashes))


def _chunks(
    conn: sa.Connection, table: str, columns: str, per_tile: int
) -> Iterator[tuple[int, list[Any]]]:
    """The rows of ``table`` level by level, ``_TILES_AT_ONCE`` tiles' worth at a time (a tile
    is ``per_tile`` rows), as (level, rows in index order)."""
    step = _TILES_AT_ONCE * per_tile
    tops = conn.execute(sa.text(f"SELECT level, max(idx) FROM {table} GROUP BY level")).all()
    for level, top in sorted(tops):
        for first in range(0, int(top) + 1, step):
            rows = conn.execute(
                sa.text(
                    f"SELECT {columns} FROM {table}"
                    " WHERE level = :level AND idx >= :first AND idx < :end ORDER BY idx"
                ),
                {"level": level, "first": first, "end": first + step},
            ).all()
            yield int(level), list(rows)
