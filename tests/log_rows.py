"""The log's stored entries as tests read and change them, as someone with write access to the
database could: an entry of a full bundle is a body, a kind and an instant inside its bundle's
row, so changing it rewrites that row; an entry of the bundle being filled is a row of its own
(``store/log_bundles.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, delete, select, update

from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.tlog import TILE_WIDTH, encode_entry_bundle

Entry = log_bundles.Entry  # index, kind, body, recorded at (microseconds)


def stored(conn: Connection) -> list[tuple[int, str, bytes]]:
    """(index, kind, body) of every stored entry, in order."""
    return list(log_bundles.iter_entries(conn, 0, log_bundles.next_index(conn)))


def statements_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements `store/log_bundles.py` sends at the driver from now on (those that
    read, and those that return rows), in order, as a list that grows."""
    statements: list[str] = []
    fetch = log_bundles.fetch_rows

    def spy(conn, sql, params):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return fetch(conn, sql, params)

    monkeypatch.setattr(log_bundles, "fetch_rows", spy)
    return statements


def in_bundle(conn: Connection, index: int) -> bool:
    """Whether entry ``index`` is stored in a full bundle's row (else as a row of its own)."""
    bundle = t.log_bundles.c.idx == index // TILE_WIDTH
    return conn.scalar(select(t.log_bundles.c.idx).where(bundle)) is not None


def rewrite_bundle(
    conn: Connection, bundle: int, edit: Callable[[list[Entry]], list[Entry]]
) -> None:
    """Replace the entries of bundle row ``bundle`` by ``edit`` of them, written as a bundle."""
    ((row,), _) = log_bundles.read(conn, bundle * TILE_WIDTH, bundle * TILE_WIDTH + 1)
    entries = edit(row.decode())
    conn.execute(
        update(t.log_bundles)
        .where(t.log_bundles.c.idx == bundle)
        .values(
            entries=encode_entry_bundle([body for _, _, body, _ in entries]),
            kinds="".join(f"{kind}\n" for _, kind, _, _ in entries),
            recorded=b"".join(at.to_bytes(8, "big") for _, _, _, at in entries),
        )
    )


def flip_byte(conn: Connection, index: int, at: int) -> None:
    """Flip the lowest bit of byte ``at`` of entry ``index``'s body."""

    def flipped(body: bytes) -> bytes:
        return body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :]

    if not in_bundle(conn, index):
        body = conn.scalar(select(t.log_entries.c.body).where(t.log_entries.c.idx == index))
        row = t.log_entries.c.idx == index
        conn.execute(update(t.log_entries).where(row).values(body=flipped(bytes(body))))
        return

    def edit(entries: list[Entry]) -> list[Entry]:
        i, kind, body, stamp = entries[index % TILE_WIDTH]
        entries[index % TILE_WIDTH] = (i, kind, flipped(body), stamp)
        return entries

    rewrite_bundle(conn, index // TILE_WIDTH, edit)


def remove_entry(conn: Connection, index: int) -> None:
    """Delete entry ``index``: its row, or its part of its bundle's row (which then holds 255)."""
    if not in_bundle(conn, index):
        conn.execute(delete(t.log_entries).where(t.log_entries.c.idx == index))
        return
    position = index % TILE_WIDTH
    rewrite_bundle(conn, index // TILE_WIDTH, lambda e: e[:position] + e[position + 1 :])


def swap_entries(conn: Connection, a: int, b: int) -> None:
    """Swap the kinds and bodies of entries ``a`` and ``b``, both of one bundle row or both
    rows of their own."""
    if not in_bundle(conn, a):
        rows = {
            row.idx: row
            for row in conn.execute(select(t.log_entries).where(t.log_entries.c.idx.in_([a, b])))
        }
        for index, other in ((a, b), (b, a)):
            conn.execute(
                update(t.log_entries)
                .where(t.log_entries.c.idx == index)
                .values(kind=rows[other].kind, body=rows[other].body)
            )
        return
    assert a // TILE_WIDTH == b // TILE_WIDTH

    def edit(entries: list[Entry]) -> list[Entry]:
        i, j = a % TILE_WIDTH, b % TILE_WIDTH
        (ia, ka, ba, sa), (ib, kb, bb, sb) = entries[i], entries[j]
        entries[i], entries[j] = (ia, kb, bb, sa), (ib, ka, ba, sb)
        return entries

    rewrite_bundle(conn, a // TILE_WIDTH, edit)
