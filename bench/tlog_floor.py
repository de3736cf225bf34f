"""The SQLite storage floor of the store-backed append, for ``bench.tlog``.

The bytes the log keeps for the run (the entries, their kinds and instants, the hash tiles and
the nodes stored inside them, as the child's store holds them) are written again to a fresh
file as plain blobs, rows of a full bundle's share, in as many write transactions,
through `Database` (so with the store's PRAGMAs: WAL, ``synchronous=FULL``), and nothing else:
nothing hashed, framed, signed or read back. An append that keeps those bytes durably in SQLite
on this disk cannot go faster; it is the reference the store-backed rate is a share of.
"""

from __future__ import annotations

import os
import sqlite3
from itertools import pairwise
from pathlib import Path

from bench.harness import timed
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.tlog import TILE_WIDTH

_STAMP = 8  # bytes of an entry row's instant, as a bundle row holds it


def kept_bytes(store: Path) -> int:
    """The bytes of the log's rows in the store file ``store``: blobs and text, no keys."""
    with sqlite3.connect(store) as conn:
        return sum(
            int(conn.execute(sql).fetchone()[0] or 0)
            for sql in (
                "SELECT sum(length(entries) + length(kinds) + length(recorded))"
                f" FROM {t.log_bundles.name}",
                f"SELECT sum(length(body) + length(kind) + {_STAMP}) FROM {t.log_entries.name}",
                f"SELECT sum(length(hashes) + coalesce(length(nodes), 0)) FROM {t.log_tiles.name}",
            )
        )


def floor_seconds(folder: Path, kept: int, entries: int, transactions: int) -> float:
    """Seconds to write ``kept`` bytes, the log's for ``entries`` entries, in ``transactions``
    write transactions: each the bytes of its share of the entries, in rows of at most a full
    bundle's share (so a transaction of a full bundle's entries or more writes such rows, as the
    store does, and every transaction writes and syncs something)."""
    per_entry = kept / entries
    bundle_row = os.urandom(round(per_entry * TILE_WIDTH))
    bounds = [entries * i // transactions for i in range(transactions + 1)]
    plan: list[list[bytes]] = []  # each transaction's rows, made before the clock starts
    for low, high in pairwise(bounds):
        size = round(per_entry * (high - low))
        full, rest = divmod(size, len(bundle_row)) if bundle_row else (0, size)
        plan.append([bundle_row] * full + ([os.urandom(rest)] if rest or not full else []))
    db = Database(f"sqlite:///{folder / 'floor.db'}")
    try:
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE floor (idx INTEGER PRIMARY KEY, data BLOB)")

        def go() -> None:
            idx = 0
            for rows in plan:
                with db.write() as conn:
                    conn.exec_driver_sql(
                        "INSERT INTO floor (idx, data) VALUES (?, ?)",
                        [(idx + i, row) for i, row in enumerate(rows)],
                    )
                idx += len(rows)

        return timed(go)[1]
    finally:
        db.dispose()
