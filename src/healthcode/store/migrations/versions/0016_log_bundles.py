"""the log's full entry bundles a row each; entry rows only for the bundle being filled

Every full tlog-tiles entry bundle of ``log_entries`` (entries 256 N to 256 N + 255) becomes a
row of ``log_bundles``: the bundle's bytes as /log/tile/entries/N serves them, each entry's kind
on a line and each one's recording instant as 8 bytes (docs/transparency-log.md); the entries of
the last, partial bundle stay rows of ``log_entries``. Appending and reading entries by the ten
thousand then costs the store 40 rows, not 10,000.

Entries have no gaps (one writer appends them, in order, from 0): a log with one, an entry
missing below a later one, or an index below 0, was changed outside the log, and is refused
rather than converted with entries dropped or moved to other indices. The self-check of the
previous release names it. Downgrading splits the bundles into entry rows again.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import struct

import sqlalchemy as sa
from alembic import op

from healthcode.tlog import TILE_WIDTH, decode_entry_bundle, encode_entry_bundle

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_STAMP = struct.Struct(">q")
_BUNDLES_AT_ONCE = 64  # 16,384 entries, a few MB, whatever the log
_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # the rowid on SQLite


def upgrade() -> None:
    op.create_table(
        "log_bundles",
        sa.Column("idx", _INDEX, autoincrement=False, nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("recorded", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_bundles")),
    )
    conn = op.get_bind()
    low, top = conn.execute(sa.text("SELECT min(idx), max(idx) FROM log_entries")).one()
    if low is not None and low < 0:
        raise RuntimeError(
            f"log_entries has an entry at index {low}, below 0: the log was changed outside"
            " it (the self-check names it), and converting it would drop that entry"
        )
    insert = sa.text(
        "INSERT INTO log_bundles (idx, entries, kinds, recorded)"
        " VALUES (:idx, :entries, :kinds, :recorded)"
    )
    step = _BUNDLES_AT_ONCE * TILE_WIDTH
    for first in range(0, -1 if top is None else int(top) + 1, step):
        rows = conn.execute(
            sa.text(
                "SELECT idx, kind, body, recorded_at FROM log_entries"
                " WHERE idx >= :first AND idx < :end ORDER BY idx"
            ),
            {"first": first, "end": first + step},
        ).all()
        for offset, row in enumerate(rows):
            if row.idx != first + offset:  # and every chunk before this one was full
                raise _gap(first + offset, row.idx)
        if len(rows) < step and int(top) >= first + step:
            raise _gap(first + len(rows), top)
        full = len(rows) - len(rows) % TILE_WIDTH
        made = [
            {
                "idx": (first + start) // TILE_WIDTH,
                "entries": encode_entry_bundle([bytes(row.body) for row in part]),
                "kinds": "".join(f"{row.kind}\n" for row in part),
                "recorded": b"".join(_STAMP.pack(int(row.recorded_at)) for row in part),
            }
            for start in range(0, full, TILE_WIDTH)
            for part in (rows[start : start + TILE_WIDTH],)
        ]
        if made:
            conn.execute(insert, made)
            conn.execute(
                sa.text("DELETE FROM log_entries WHERE idx >= :first AND idx < :end"),
                {"first": first, "end": first + full},
            )


def _gap(missing: int, found: int) -> RuntimeError:
    return RuntimeError(
        f"log_entries has no entry {missing} but has entry {found}: the log was changed"
        " outside it (the self-check names it), and converting it would drop entries or"
        " move them"
    )


def downgrade() -> None:
    conn = op.get_bind()
    insert = sa.text(
        "INSERT INTO log_entries (idx, kind, body, recorded_at)"
        " VALUES (:idx, :kind, :body, :recorded_at)"
    )
    top = conn.scalar(sa.text("SELECT max(idx) FROM log_bundles"))
    for first in range(0, -1 if top is None else int(top) + 1, _BUNDLES_AT_ONCE):
        rows = conn.execute(
            sa.text(
                "SELECT idx, entries, kinds, recorded FROM log_bundles"
                " WHERE idx >= :first AND idx < :end ORDER BY idx"
            ),
            {"first": first, "end": first + _BUNDLES_AT_ONCE},
        ).all()
        made: list[dict[str, object]] = []
        for row in rows:
            bodies = decode_entry_bundle(bytes(row.entries))
            kinds = row.kinds.split("\n")[:-1]
            stamps = [stamp for (stamp,) in _STAMP.iter_unpack(bytes(row.recorded))]
            if not len(bodies) == len(kinds) == len(stamps):
                raise RuntimeError(f"the stored bundle {row.idx} is malformed")
            made.extend(
                {"idx": row.idx * TILE_WIDTH + i, "kind": kind, "body": body, "recorded_at": at}
                for i, (body, kind, at) in enumerate(zip(bodies, kinds, stamps, strict=True))
            )
        if made:
            conn.execute(insert, made)
    op.drop_table("log_bundles")
