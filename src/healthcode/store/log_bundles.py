"""The log's entries as stored: a row a full tlog-tiles entry bundle (``log_bundles``), and a
row an entry for the bundle being filled (``log_entries``, at most 255 rows).

The append that fills a bundle moves that bundle's entry rows into one bundle row, and writes
the full bundles it makes itself as bundle rows: an append of ten thousand entries is 40 rows,
an append of one entry one small row (never a rewrite of a bundle row), and the sequencer reads
a full bundle as one row and hashes it as it is stored (docs/transparency-log.md).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from healthcode.store import tables as t
from healthcode.store.copy import insert_plain
from healthcode.store.driver_rows import fetch_rows
from healthcode.store.instants import from_micros
from healthcode.tlog import TILE_WIDTH, TlogError, decode_entry_bundle, encode_entry_bundle

_STAMP = struct.Struct(">q")  # an entry's recording instant, in microseconds
_LAST = 2**63 - 1  # the largest index a BIGINT column holds, and so a bound a read may give
_BUNDLES = t.log_bundles.name
_ENTRIES = t.log_entries.name
# After `insert_entries`, the next index and the transaction (or savepoint) it holds in: a
# second append in the same one (a batch's entry, then its status changes') needs no read. Any
# other transaction, an enclosing one after its savepoint ended or rolled back included, reads.
_NEXT = "healthcode.log_next"

Entry = tuple[int, str, bytes, int]  # index, kind, body, recorded at (microseconds)


class BundleFault(LookupError):
    """Stored entries that are not the log's: a bundle row that does not frame 256 entries with
    as many kinds and instants, an entry stored twice, or the entry rows of the bundle being
    filled not those an append expects. Written outside the log, as a missing row is: a
    LookupError, as a gap is."""

    @classmethod
    def twice(cls, index: int) -> BundleFault:
        return cls(f"entry {index} is stored twice: in a bundle and as a row")


@dataclass(frozen=True)
class Bundle:
    """A stored full bundle: bundle ``index`` holds entries ``256 * index`` onwards."""

    index: int
    entries: bytes
    kinds: str
    recorded: bytes

    @property
    def first(self) -> int:
        return self.index * TILE_WIDTH

    def decode(self) -> list[Entry]:
        """Its entries; `BundleFault` unless they are 256, each with a kind and an instant."""
        try:
            bodies = decode_entry_bundle(self.entries)
        except TlogError as error:
            raise self.fault(error.message) from None
        self.check(len(bodies))
        kinds = self.kinds.split("\n")
        stamps = [stamp for (stamp,) in _STAMP.iter_unpack(self.recorded)]
        return [(self.first + i, kinds[i], body, stamps[i]) for i, body in enumerate(bodies)]

    def check(self, framed: int) -> None:
        """`BundleFault` unless the bundle frames 256 entries (``framed``) and the row has a
        kind and an instant for each."""
        kinds = self.kinds.count("\n")
        stamps, odd = divmod(len(self.recorded), _STAMP.size)
        if not framed == kinds == stamps == TILE_WIDTH or odd or not self.kinds.endswith("\n"):
            raise self.fault(
                f"it holds {framed} entries, {kinds} kinds and {len(self.recorded)} bytes of"
                f" instants, where a bundle row holds {TILE_WIDTH} of each (8 bytes an instant)"
            )

    def fault(self, why: str) -> BundleFault:
        return BundleFault(
            f"the stored bundle {self.index} (entries from {self.first}) is malformed: {why}"
        )


def next_index(conn: Connection) -> int:
    """The index the next entry gets; callers hold the write lock, so it cannot race.
    `BundleFault` if the store holds fewer entries than the latest checkpoint signed (the last
    ones deleted): the next entry would take an index signed for another."""
    known = conn.info.get(_NEXT)
    if known is not None and known[0] is _innermost(conn):
        return int(known[1])
    found, signed = _ends(conn)
    if found > _LAST:  # a row written far past any log, beyond the index column's range
        raise BundleFault(f"the stored entries end at index {found - 1}, past the last a log holds")
    if found < signed:
        raise BundleFault(
            f"the store holds {found} entries, fewer than checkpoint {signed} signed: the last"
            " ones were deleted"
        )
    return found


def stored_end(conn: Connection) -> int:
    """One past the last stored entry, read now (not `next_index`'s refusal or its memory):
    what the self-check and the metrics report, whatever the signed size."""
    return _ends(conn)[0]


def _ends(conn: Connection) -> tuple[int, int]:
    """(one past the last stored entry, the latest checkpoint's size), in one statement."""
    # At the driver, so it may be read inside `store.copy.pipelined` (SQLAlchemy's result
    # of a statement sent in a pipeline has no rows).
    # The ends are counted here, not in SQL, where one past a row at the column's last index
    # would overflow it.
    ((row, bundle, signed),) = fetch_rows(
        conn,
        f"SELECT (SELECT max(idx) FROM {_ENTRIES}), (SELECT max(idx) FROM {_BUNDLES}),"
        f" (SELECT max(size) FROM {t.log_checkpoints.name})",
        (),
    )
    rows = 0 if row is None else int(row) + 1
    bundles = 0 if bundle is None else (int(bundle) + 1) * TILE_WIDTH
    return max(rows, bundles), int(signed or 0)


def insert_entries(
    conn: Connection,
    first: int,
    kinds: Sequence[str],
    bodies: Sequence[bytes],
    recorded_at: int,
) -> None:
    """Append entries ``first`` onwards (``first`` being `next_index`), each of a kind and a
    body, all recorded at ``recorded_at`` (`to_micros`). An append that fills the bundle being
    filled moves its entry rows into the bundle's row, if they are exactly the entries before
    ``first`` (else `BundleFault`: the bundle would hold entries at the wrong indices)."""
    if len(kinds) != len(bodies):
        raise ValueError(f"{len(kinds)} kinds for {len(bodies)} entries")
    for kind in set(kinds):  # a bundle row's kinds are lines
        if not kind or "\n" in kind:
            raise ValueError(f"an entry's kind is a word, not {kind!r}")
    if not bodies:
        return
    start = first - first % TILE_WIDTH  # of the bundle being filled
    end = first + len(bodies)
    full = end - end % TILE_WIDTH  # the entries below are in full bundles after this append
    stamp = _STAMP.pack(recorded_at)
    if full > start:
        had = _take_pending(conn, start, first)
        made = []
        for bundle in range(start, full, TILE_WIDTH):
            low, high = max(bundle - first, 0), bundle + TILE_WIDTH - first
            before = had if bundle == start else []
            made.append(
                (
                    bundle // TILE_WIDTH,
                    encode_entry_bundle(
                        [body for _, _, body, _ in before] + list(bodies[low:high])
                    ),
                    "".join(f"{kind}\n" for _, kind, _, _ in before)
                    + "\n".join(kinds[low:high])
                    + "\n",
                    b"".join(_STAMP.pack(at) for _, _, _, at in before) + stamp * (high - low),
                )
            )
        insert_plain(conn, _BUNDLES, ("idx", "entries", "kinds", "recorded"), made)
    tail = max(full, first) - first
    insert_plain(
        conn,
        _ENTRIES,
        ("idx", "kind", "body", "recorded_at"),
        [(first + i, kinds[i], bodies[i], recorded_at) for i in range(tail, len(bodies))],
    )
    conn.info[_NEXT] = (_innermost(conn), end)


def _take_pending(conn: Connection, start: int, first: int) -> list[Entry]:
    """Delete and return the entry rows [start, first) of the bundle being filled; `BundleFault`
    unless they are all there (a row missing, a bundle would hold the later entries at the
    wrong indices)."""
    if first == start:
        return []
    rows = fetch_rows(
        conn,
        f"DELETE FROM {_ENTRIES} WHERE idx >= ? AND idx < ? RETURNING idx, kind, body, recorded_at",
        (start, first),
    )
    taken = sorted((int(i), kind, bytes(body), int(at)) for i, kind, body, at in rows)
    if [index for index, _, _, _ in taken] != list(range(start, first)):
        raise BundleFault(
            f"the bundle being filled holds {len(taken)} entry rows where entries {start} to"
            f" {first - 1} ({first - start}) are expected"
        )
    return taken


def _innermost(conn: Connection) -> object:
    return conn.get_nested_transaction() or conn.get_transaction()


def read(conn: Connection, start: int, end: int) -> tuple[list[Bundle], list[Entry]]:
    """The stored full bundles holding entries of [start, end), and its entries stored a row
    each, each in order, in one statement: an append that fills a bundle moves its entries
    from rows into a bundle row, and two reads outside one snapshot could see them in neither."""
    if end <= start:
        return [], []
    rows: list[Any] = fetch_rows(
        conn,
        f"SELECT 0, idx, entries, kinds, recorded, NULL FROM {_BUNDLES}"
        " WHERE idx >= ? AND idx <= ?"
        f" UNION ALL SELECT 1, idx, body, kind, NULL, recorded_at FROM {_ENTRIES}"
        " WHERE idx >= ? AND idx <= ? ORDER BY 1, 2",
        (*_bounds(start // TILE_WIDTH, -(-end // TILE_WIDTH)), *_bounds(start, end)),
    )
    full = [
        Bundle(int(i), data, kinds, recorded)
        for one, i, data, kinds, recorded, _ in rows
        if not one
    ]
    single = [(int(i), kind, data, int(at)) for one, i, data, kind, _, at in rows if one]
    return full, single


def stored(
    conn: Connection,
    start: int,
    end: int,
    malformed: Callable[[BundleFault], None] | None = None,
) -> list[Entry]:
    """Every stored entry of [start, end), in index order: the full bundles' and the rows'.
    A malformed bundle, or an entry stored both in a bundle and as a row, raises `BundleFault`,
    or with ``malformed`` is passed to it and those entries are left out."""

    def fault(problem: BundleFault) -> None:
        if malformed is None:
            raise problem
        malformed(problem)

    found: dict[int, Entry] = {}
    full, single = read(conn, start, end)
    for bundle in full:
        try:
            found.update((entry[0], entry) for entry in bundle.decode() if start <= entry[0] < end)
        except BundleFault as problem:
            fault(problem)
    for entry in single:
        if found.pop(entry[0], None) is None:
            found[entry[0]] = entry
        else:
            fault(BundleFault.twice(entry[0]))
    return [found[index] for index in sorted(found)]


def entries(conn: Connection, start: int, end: int) -> list[bytes]:
    """Entry bodies of indices [start, end), in order; a missing one before the last one
    found raises LookupError (one missing at the end makes a short list), as does a malformed
    bundle (`BundleFault`)."""
    found = stored(conn, start, end)
    # Indices are distinct and in order, so the ends tell a gap.
    if found and (found[0][0] != start or found[-1][0] != start + len(found) - 1):
        raise LookupError(f"log entries between {start} and {end} have a gap")
    return [body for _, _, body, _ in found]


def iter_entries(
    conn: Connection,
    start: int,
    end: int,
    malformed: Callable[[BundleFault], None] | None = None,
    chunk: int = 40 * TILE_WIDTH,
) -> Iterator[tuple[int, str, bytes]]:
    """(index, kind, body) of the stored entries [start, end) in order, read ``chunk`` at a
    time (whole bundles). A missing entry is absent; on a malformed bundle or an entry stored
    twice, as `stored`. After a chunk with nothing stored, the next stored entry is read
    rather than every chunk up to it: a row written far beyond the log (one at index 10¹⁵ ends
    the stored log there) costs one read, not a walk."""
    step = max(chunk - chunk % TILE_WIDTH, TILE_WIDTH)
    low = start - start % TILE_WIDTH
    while low < end:
        found = stored(conn, max(low, start), min(end, low + step), malformed)
        for index, kind, body, _ in found:
            yield index, kind, body
        low += step
        if not found and low < end:
            ahead = _next_stored(conn, low, end)
            low = max(low, ahead - ahead % TILE_WIDTH)  # from its bundle's first


def _next_stored(conn: Connection, at: int, end: int) -> int:
    """The first stored index from ``at`` (a bundle's first), ``end`` if none is below it."""
    ((row, bundle),) = fetch_rows(
        conn,
        f"SELECT (SELECT min(idx) FROM {_ENTRIES} WHERE idx >= ? AND idx <= ?),"
        f" (SELECT min(idx) FROM {_BUNDLES} WHERE idx >= ? AND idx <= ?)",
        (*_bounds(at, end), *_bounds(at // TILE_WIDTH, -(-end // TILE_WIDTH))),
    )
    found = [int(row)] if row is not None else []
    found += [int(bundle) * TILE_WIDTH] if bundle is not None else []
    return min(found or [end])


def _bounds(start: int, end: int) -> tuple[int, int]:
    """[start, end) as the inclusive bounds a statement binds, within the index column's
    range: an index past it (from a bundle row far past any log) is never a row's."""
    return (start, min(end - 1, _LAST)) if start <= _LAST else (1, 0)


def entry_heads(conn: Connection, start: int, end: int) -> list[tuple[int, str, int, datetime]]:
    """(index, kind, body length, recorded at) of the stored entries [start, end), newest
    first; `BundleFault` for a malformed bundle."""
    return [
        (index, kind, len(body), from_micros(at))
        for index, kind, body, at in reversed(stored(conn, start, end))
    ]
