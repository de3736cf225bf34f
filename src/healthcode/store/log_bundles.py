"""The log's entries as stored: a row a tlog-tiles entry bundle (``tables_log.log_bundles``).

A row holds entries 256 N to 256 N + 255 as the bundle served at /log/tile/entries/N, their
kinds and their recording instants; the bundle being filled has the next entries appended to
it. An append of ten thousand entries is 40 rows, and the sequencer reads them back as 40 rows,
where a row an entry cost the store more than hashing the entries (docs/transparency-log.md).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from healthcode.store import tables as t
from healthcode.store.copy import insert_plain
from healthcode.store.driver_rows import fetch_rows
from healthcode.store.instants import from_micros
from healthcode.tlog import TILE_WIDTH, TlogError, decode_entry_bundle, encode_entry_bundle

_STAMP = struct.Struct(">q")  # an entry's recording instant, in microseconds
_TABLE = t.log_bundles.name
# After `insert_entries`, the next index and the transaction (or savepoint) it holds in: a
# second append in the same one (a batch's entry, then its status changes') needs no read. Any
# other transaction, an enclosing one after its savepoint ended or rolled back included, reads.
_NEXT = "healthcode.log_next"


class BundleFault(LookupError):
    """A stored bundle that is not one: its entries, kinds and instants do not frame or do not
    agree in number, or a bundle row is not the one an append expected. Written outside the
    log, as a missing row is: a LookupError, as a gap is."""


@dataclass(frozen=True)
class Bundle:
    """A stored bundle row: bundle ``index`` holds entries from ``256 * index``."""

    index: int
    entries: bytes
    kinds: str
    recorded: bytes

    @property
    def first(self) -> int:
        return self.index * TILE_WIDTH

    @property
    def count(self) -> int:
        """How many entries the row holds, by its instants (8 bytes each)."""
        return len(self.recorded) // _STAMP.size

    def decode(self) -> list[tuple[bytes, str, int]]:
        """(body, kind, recorded at in microseconds) of each entry; `BundleFault` if the row's
        three columns do not frame, or do not hold the same number of entries."""
        try:
            bodies = decode_entry_bundle(self.entries) if self.entries else []
        except TlogError as error:
            raise self.fault(error.message) from None
        kinds = self.kinds.split("\n")
        if kinds.pop() != "":
            raise self.fault("its kinds do not end with a newline")
        if len(self.recorded) % _STAMP.size:
            raise self.fault(f"its instants are {len(self.recorded)} bytes, not 8 an entry")
        stamps = [stamp for (stamp,) in _STAMP.iter_unpack(self.recorded)]
        if not len(bodies) == len(kinds) == len(stamps):
            raise self.fault(
                f"it holds {len(bodies)} entries, {len(kinds)} kinds and {len(stamps)} instants"
            )
        return list(zip(bodies, kinds, stamps, strict=True))

    def fault(self, why: str) -> BundleFault:
        return BundleFault(
            f"the stored bundle {self.index} (entries from {self.first}) is malformed: {why}"
        )


def next_index(conn: Connection) -> int:
    """The index the next entry gets; callers hold the write lock, so it cannot race."""
    known = conn.info.get(_NEXT)
    if known is not None and known[0] is _innermost(conn):
        return int(known[1])
    # At the driver, so it may be read inside `store.copy.pipelined` (SQLAlchemy's result
    # of a statement sent in a pipeline has no rows).
    rows = fetch_rows(
        conn, f"SELECT idx, length(recorded) FROM {_TABLE} ORDER BY idx DESC LIMIT 1", ()
    )
    if not rows:
        return 0
    ((index, recorded),) = rows
    return int(index) * TILE_WIDTH + int(recorded) // _STAMP.size


def insert_entries(
    conn: Connection,
    first: int,
    kinds: Sequence[str],
    bodies: Sequence[bytes],
    recorded_at: int,
) -> None:
    """Append entries ``first`` onwards (``first`` being `next_index`), each of a kind and a
    body, all recorded at ``recorded_at`` (`to_micros`): appended to the bundle being filled,
    then in new bundle rows. `BundleFault` if that bundle's row does not hold exactly the
    entries before ``first``: appended to, the entries would land at the wrong indices."""
    if len(kinds) != len(bodies):
        raise ValueError(f"{len(kinds)} kinds for {len(bodies)} entries")
    for kind in set(kinds):  # a row's kinds are lines
        if not kind or "\n" in kind:
            raise ValueError(f"an entry's kind is a word, not {kind!r}")
    if not bodies:
        return
    stamp = _STAMP.pack(recorded_at)
    had = first % TILE_WIDTH
    taken = min(TILE_WIDTH - had, len(bodies)) if had else 0
    if taken:
        # SQLite's || makes text of two blobs (byte for byte): the cast makes it a blob again.
        joined = "{0} || ?" if conn.dialect.name == "postgresql" else "CAST({0} || ? AS BLOB)"
        updated = fetch_rows(
            conn,
            f"UPDATE {_TABLE} SET entries = {joined.format('entries')}, kinds = kinds || ?,"
            f" recorded = {joined.format('recorded')} WHERE idx = ? AND length(recorded) = ?"
            " RETURNING idx",
            (*_columns(kinds, bodies, 0, taken, stamp), first // TILE_WIDTH, had * _STAMP.size),
        )
        if len(updated) != 1:
            raise BundleFault(
                f"the stored bundle {first // TILE_WIDTH} does not hold the {had} entries"
                f" before entry {first}"
            )
    rows = [
        (
            (first + offset) // TILE_WIDTH,
            *_columns(kinds, bodies, offset, offset + TILE_WIDTH, stamp),
        )
        for offset in range(taken, len(bodies), TILE_WIDTH)
    ]
    insert_plain(conn, _TABLE, ("idx", "entries", "kinds", "recorded"), rows)
    conn.info[_NEXT] = (_innermost(conn), first + len(bodies))


def _columns(
    kinds: Sequence[str], bodies: Sequence[bytes], start: int, end: int, stamp: bytes
) -> tuple[bytes, str, bytes]:
    """A bundle row's entries, kinds and instants for entries [start, end) of an append."""
    part = bodies[start:end]
    lines = "".join([kind + "\n" for kind in kinds[start:end]])
    return encode_entry_bundle(part), lines, stamp * len(part)


def _innermost(conn: Connection) -> object:
    return conn.get_nested_transaction() or conn.get_transaction()


def bundles(conn: Connection, start: int, end: int) -> list[Bundle]:
    """The stored bundle rows holding entries [start, end), in order (a missing one absent)."""
    if end <= start:
        return []
    rows = fetch_rows(
        conn,
        f"SELECT idx, entries, kinds, recorded FROM {_TABLE}"
        " WHERE idx >= ? AND idx <= ? ORDER BY idx",
        (start // TILE_WIDTH, (end - 1) // TILE_WIDTH),
    )
    return [Bundle(int(index), data, kinds, recorded) for index, data, kinds, recorded in rows]


def entries(conn: Connection, start: int, end: int) -> list[bytes]:
    """Entry bodies of indices [start, end), in order; a missing one before the last one
    found raises LookupError (one missing at the end makes a short list), as does a
    malformed bundle (`BundleFault`)."""
    found = [
        (index, body)
        for bundle in bundles(conn, start, end)
        for position, (body, _, _) in enumerate(bundle.decode())
        for index in (bundle.first + position,)
        if start <= index < end
    ]
    # Indices only grow along the rows, so the ends tell a gap.
    if found and (found[0][0] != start or found[-1][0] != start + len(found) - 1):
        raise LookupError(f"log entries between {start} and {end} have a gap")
    return [body for _, body in found]


def iter_entries(
    conn: Connection,
    start: int,
    end: int,
    malformed: Callable[[BundleFault], None] | None = None,
    chunk: int = 40,
) -> Iterator[tuple[int, str, bytes]]:
    """(index, kind, body) of the stored entries [start, end) in order, ``chunk`` bundles read
    at a time. A missing entry is absent. A malformed bundle raises `BundleFault`, or with
    ``malformed`` is passed to it and its entries are absent."""
    step = chunk * TILE_WIDTH
    for offset in range(start - start % TILE_WIDTH, end, step):
        for bundle in bundles(conn, max(offset, start), min(end, offset + step)):
            try:
                decoded = bundle.decode()
            except BundleFault as fault:
                if malformed is None:
                    raise
                malformed(fault)
                continue
            for position, (body, kind, _) in enumerate(decoded):
                index = bundle.first + position
                if start <= index < end:
                    yield index, kind, body


def entry_heads(conn: Connection, start: int, end: int) -> list[tuple[int, str, int, datetime]]:
    """(index, kind, body length, recorded at) of the stored entries [start, end), newest
    first; `BundleFault` for a malformed bundle."""
    heads = [
        (index, kind, len(body), from_micros(stamp))
        for bundle in bundles(conn, start, end)
        for position, (body, kind, stamp) in enumerate(bundle.decode())
        for index in (bundle.first + position,)
        if start <= index < end
    ]
    heads.reverse()
    return heads
