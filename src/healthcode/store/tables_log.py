"""The transparency log's tables (docs/transparency-log.md): entries, the hashes of its tiles,
signed checkpoints, halts, and each person's escrowed log secret.

Declared here, registered in ``metadata`` and named by ``store/tables.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from healthcode.store.instants import Instant
from healthcode.store.schema import metadata

_ENTRY_INDEX = BigInteger().with_variant(Integer(), "sqlite")

log_entries = Table(
    "log_entries",
    metadata,
    # On SQLite an INTEGER key is the rowid itself: one b-tree to insert into, not a table and
    # an index of its key (migration 0014).
    Column("idx", _ENTRY_INDEX, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),  # the leaf: canonical JSON, no personal data
    Column("recorded_at", Instant, nullable=False),
)

# The tlog-tiles hash tiles, a row a tile: tile level L (tree level 8L), index N, its hashes
# concatenated (a partial tile's row is replaced by a longer one as the tree grows), and for a
# full tile the 255 nodes inside it (`FullTile.nodes`), so a proof reads one row, hashes nothing.
log_tiles = Table(
    "log_tiles",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
    Column("nodes", LargeBinary, nullable=True),  # NULL while the tile is partial
)

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),  # the signed note, witnesses' cosignatures appended
    Column("signed_at", Instant, nullable=False),
)

# Set when the self-check finds stored rows and the log disagreeing: nothing more is signed.
log_halts = Table(
    "log_halts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("reason", Text, nullable=False),
)

# Each person's log secret, encrypted to oversight's key (HPKE); the server derives it itself.
person_secrets = Table(
    "person_secrets",
    metadata,
    Column("person_key", String(80), primary_key=True),  # a person key, or "staff:<id>"
    Column("escrow", LargeBinary, nullable=False),
    Column("created_at", Instant, nullable=False),
)
