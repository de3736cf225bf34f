"""The transparency log's tables (docs/transparency-log.md): entry bundles, the hashes of its
tiles, signed checkpoints, halts, and each person's escrowed log secret.

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

_INDEX = BigInteger().with_variant(Integer(), "sqlite")

# The log's entries: every full tlog-tiles entry bundle a row (entries 256 N to 256 N + 255),
# and the entries of the bundle being filled a row each (`log_entries`, at most 255 rows), moved
# into a bundle row by the append that fills it (store/log_bundles.py). A bundle row holds the
# bundle's bytes as /log/tile/entries/N serves them (each entry after its 2-byte big-endian
# length), each entry's kind followed by a newline, and each one's recording instant as 8 bytes
# (big-endian microseconds). Appending and reading entries by the ten thousand is then 40 rows,
# where a row an entry cost the store more than hashing them (docs/transparency-log.md); an
# append of one entry is still one small row.
log_bundles = Table(
    "log_bundles",
    metadata,
    # On SQLite an INTEGER key is the rowid itself: one b-tree to insert into.
    Column("idx", _INDEX, primary_key=True, autoincrement=False),
    Column("entries", LargeBinary, nullable=False),  # the leaves: no personal data
    Column("kinds", Text, nullable=False),
    Column("recorded", LargeBinary, nullable=False),
)

log_entries = Table(
    "log_entries",
    metadata,
    Column("idx", _INDEX, primary_key=True, autoincrement=False),
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
