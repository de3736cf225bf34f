"""The log's stored entries as tests read and change them: each entry is a body, a kind and an
instant inside its bundle's row (``store/log_bundles.py``), so a test that changes "an entry
row" rewrites the bundle holding it, as someone with write access to the database could."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, update

from healthcode.store import log_bundles
from healthcode.store import tables as t
from healthcode.tlog import TILE_WIDTH, encode_entry_bundle

Entry = tuple[bytes, str, int]  # body, kind, recorded at (microseconds)


def stored(conn: Connection) -> list[tuple[int, str, bytes]]:
    """(index, kind, body) of every stored entry, in order."""
    return list(log_bundles.iter_entries(conn, 0, log_bundles.next_index(conn)))


def rewrite_bundle(
    conn: Connection, bundle: int, edit: Callable[[list[Entry]], list[Entry]]
) -> None:
    """Replace the entries of bundle ``bundle`` by ``edit`` of them, written as a bundle."""
    (row,) = log_bundles.bundles(conn, bundle * TILE_WIDTH, bundle * TILE_WIDTH + 1)
    entries = edit(row.decode())
    conn.execute(
        update(t.log_bundles)
        .where(t.log_bundles.c.idx == bundle)
        .values(
            entries=encode_entry_bundle([body for body, _, _ in entries]),
            kinds="".join(f"{kind}\n" for _, kind, _ in entries),
            recorded=b"".join(at.to_bytes(8, "big") for _, _, at in entries),
        )
    )


def flip_byte(conn: Connection, index: int, at: int) -> None:
    """Flip the lowest bit of byte ``at`` of entry ``index``'s body."""

    def edit(entries: list[Entry]) -> list[Entry]:
        body, kind, stamp = entries[index % TILE_WIDTH]
        entries[index % TILE_WIDTH] = (
            body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :],
            kind,
            stamp,
        )
        return entries

    rewrite_bundle(conn, index // TILE_WIDTH, edit)


def remove_entry(conn: Connection, index: int) -> None:
    """Take entry ``index`` out of its bundle (those after it in the bundle move down one)."""
    rewrite_bundle(
        conn,
        index // TILE_WIDTH,
        lambda entries: entries[: index % TILE_WIDTH] + entries[index % TILE_WIDTH + 1 :],
    )


def swap_entries(conn: Connection, a: int, b: int) -> None:
    """Swap entries ``a`` and ``b`` of one bundle."""
    assert a // TILE_WIDTH == b // TILE_WIDTH

    def edit(entries: list[Entry]) -> list[Entry]:
        i, j = a % TILE_WIDTH, b % TILE_WIDTH
        entries[i], entries[j] = entries[j], entries[i]
        return entries

    rewrite_bundle(conn, a // TILE_WIDTH, edit)
